"""Reading a YAML settings file, with errors that name the file, the line and the field path.

Used by rotator.config.portfolio (portfolio.yaml) and rotator.config.ruleset (rule sets): the
only two readers of configuration files. A pydantic error becomes
`portfolio.yaml:7: targets: weights must sum to 1, got 0.9 (...)`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from rotator.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """Parse a YAML file into data and its node tree (for line numbers in errors)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: file not found (pass --config PATH, or try `rotator plan --demo`)"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    return data, root


def validate(model: type[M], raw: Any, path: Path, root: yaml.Node | None) -> M:
    """Validate raw YAML data into `model`, turning pydantic errors into one ConfigError."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            # Tags of tagged unions ("kind:chain") are not fields: leave them out of the path.
            loc = tuple(p for p in error["loc"] if not str(p).startswith("kind:"))
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown field (check the spelling; see README 'Configuration')"
            elif error["type"] == "missing":
                message = "required field is missing"
            elif "input" in error and error["type"] not in ("value_error", "assertion_error"):
                message = f"{message}, got {error['input']!r}"
            lines.append(f"{location(path, root, loc)}: {message}")
        raise ConfigError("\n".join(lines)) from None


def format_loc(loc: tuple[Any, ...]) -> str:
    """('accounts', 0, 'ccxt') -> 'accounts[0].ccxt'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def location(path: Path, root: yaml.Node | None, loc: tuple[Any, ...]) -> str:
    """'file:line: field.path' for an error at `loc`, with the line when it can be found."""
    line = _line_of(root, loc)
    where = f"{path}:{line}" if line else str(path)
    return f"{where}: {format_loc(loc)}"


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    found = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = [(k, v) for k, v in node.value if k.value == part]
            if not match:
                break
            key, node = match[0]
            found = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            found = node.start_mark.line + 1
        else:
            break
    return found
