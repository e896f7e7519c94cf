"""Reading a YAML settings file, with errors that name the file, the line and the field path.

Used by rotator.config.portfolio (portfolio.yaml) and rotator.config.ruleset (rule sets): the
only two readers of configuration files. A pydantic error becomes
`portfolio.yaml:7: targets: weights must sum to 1, got 0.9 (...)`.

Reading is bounded, whatever the file holds: it must be a regular file of at most
`MAX_BYTES`, UTF-8 text; nesting deeper than `MAX_DEPTH`, more than `MAX_ALIASES` aliases, or
more than `MAX_VALUES` values once aliases are expanded (a "billion laughs" alias bomb) are
refused while the file is still being scanned, before anything is built from it. `.nan` and
`.inf` are refused (no setting is infinite), and so is a key written twice in one mapping.
The file is parsed once, by libyaml when PyYAML has it.
"""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from rotator.errors import ConfigError

M = TypeVar("M", bound=BaseModel)

MAX_BYTES = 2 * 1024 * 1024  # settings files are kilobytes; 2 MiB leaves room for big wallets
MAX_DEPTH = 64  # mappings and lists nested deeper than this are refused
MAX_ALIASES = 1000  # YAML aliases (*name) in one file
MAX_VALUES = 500_000  # scalars, mappings and lists, counting each alias as what it expands to

Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_NOT_FINITE = {".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF"}
_NOT_FINITE |= {sign + v for v in _NOT_FINITE if "inf" in v.lower() for sign in "+-"}


def read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """Parse a YAML file into data and its node tree (for line numbers in errors).

    Raises:
        ConfigError: the file is missing, not a regular file, too large, not UTF-8 text, not
            YAML, beyond the depth/alias/size limits, holds `.nan`/`.inf` or a repeated key,
            or is not a mapping at the top level. The message names the file and the line.
    """
    text = _read_text(path)
    _scan(path, text)
    loader = Loader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        raise ConfigError(_yaml_problem(path, text, exc)) from None
    finally:
        loader.dispose()
    if data is None:
        raise ConfigError(
            f"{path}: the file is empty: expected a mapping of settings "
            "(see docs/reference/configuration.md)"
        )
    if not isinstance(data, dict):
        line = f":{root.start_mark.line + 1}" if root is not None else ""
        raise ConfigError(
            f"{path}{line}: expected a mapping of settings at the top level "
            f"(`name: value` lines), got a {_kind(root)}"
        )
    duplicates = [
        f"{path}:{line}: {format_loc(loc)}: key {key!r} is written twice "
        f"(first at line {first}); each key may appear once"
        for loc, key, first, line in duplicate_keys(root)
    ]
    if duplicates:
        raise ConfigError("\n".join(duplicates))
    return data, root


def _read_text(path: Path) -> str:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: file not found (pass --config PATH, or try `rotator plan --demo`)"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise ConfigError(f"{path}: is a directory, expected a YAML file")
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(
            f"{path}: is not a regular file (a device or pipe?), expected a YAML file"
        )
    if info.st_size > MAX_BYTES:
        raise ConfigError(
            f"{path}: {info.st_size:,} bytes, more than a settings file may hold "
            f"({MAX_BYTES:,}); is this the right file?"
        )
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    if len(raw) > MAX_BYTES:
        raise ConfigError(f"{path}: more than {MAX_BYTES:,} bytes; is this the right file?")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigError(f"{path}:1: the file is UTF-16 text; save it as UTF-8")
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: a NUL byte: this is a binary file, expected YAML text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(
            f"{path}:{line}:{column}: byte 0x{raw[exc.start]:02x} is not UTF-8: expected UTF-8 "
            "text (re-save the file as UTF-8; Latin-1 and Windows code pages are not read)"
        ) from None


def _scan(path: Path, text: str) -> None:
    """Walk the event stream once, refusing what would make building the data unbounded.

    `total` counts values as the data would hold them, an alias counting as the size of what
    its anchor names, so an alias bomb is refused as soon as it passes MAX_VALUES.
    """
    total = 0
    anchors: dict[str, int] = {}
    opened: list[tuple[str | None, int]] = []  # (anchor, total when the collection opened)
    aliases = 0

    def fail(event: Any, message: str) -> NoReturn:
        raise ConfigError(f"{path}:{event.start_mark.line + 1}: {message}")

    starts = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
    ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    try:
        for event in yaml.parse(text, Loader=Loader):
            if isinstance(event, yaml.ScalarEvent):
                total += 1
                if not event.style and event.tag is None and event.value in _NOT_FINITE:
                    fail(
                        event,
                        f"{event.value} is not a number a setting can take; "
                        "expected a finite number",
                    )
                if event.anchor is not None:
                    anchors[event.anchor] = 1
            elif isinstance(event, starts):
                if len(opened) >= MAX_DEPTH:
                    fail(event, f"nested more than {MAX_DEPTH} levels deep; expected settings")
                opened.append((event.anchor, total))
                total += 1
            elif isinstance(event, ends):
                anchor, began = opened.pop()
                if anchor is not None:
                    anchors[anchor] = total - began
            elif isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > MAX_ALIASES:
                    fail(event, f"more than {MAX_ALIASES} aliases (*name); expected settings")
                if event.anchor is None or event.anchor not in anchors:
                    fail(
                        event,
                        f"alias *{event.anchor} refers to no anchor (&{event.anchor}) "
                        "defined before it",
                    )
                total += anchors[event.anchor]
            else:
                continue
            if total > MAX_VALUES:
                fail(
                    event,
                    f"the file expands to more than {MAX_VALUES:,} values (YAML aliases "
                    "repeating aliases?); expected settings",
                )
    except yaml.YAMLError as exc:
        raise ConfigError(_yaml_problem(path, text, exc)) from None


def _yaml_problem(path: Path, text: str, exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.reader.ReaderError):
        line = text[: exc.position].count("\n") + 1
        return f"{path}:{line}: invalid YAML: {exc.reason} (character {exc.character!r})"
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    return f"{where}: invalid YAML: {problem}" + (f" ({context})" if context else "")


def _kind(node: yaml.Node | None) -> str:
    if isinstance(node, yaml.SequenceNode):
        return "list"
    if isinstance(node, yaml.ScalarNode):
        return f"single value {node.value[:40]!r}"
    return "mapping"


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
                message = "unknown field (check the spelling; see docs/reference/configuration.md)"
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


def mapping_entries(
    root: yaml.Node | None,
) -> Iterator[tuple[tuple[Any, ...], yaml.Node, yaml.Node]]:
    """Every (location, key node, value node) of every mapping in the tree, each node once.

    Aliases share nodes, so a node reached twice is not walked again: the walk is as long as
    the file, never as long as its alias expansion.
    """
    seen: set[int] = set()
    todo: list[tuple[tuple[Any, ...], yaml.Node | None]] = [((), root)]
    while todo:
        loc, node = todo.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                yield loc, key, value
                part = key.value if isinstance(key, yaml.ScalarNode) else "?"
                todo.append(((*loc, part), value))
        elif isinstance(node, yaml.SequenceNode):
            todo.extend(((*loc, i), item) for i, item in enumerate(node.value))


def duplicate_keys(
    root: yaml.Node | None,
    at: Callable[[tuple[Any, ...]], bool] = lambda loc: True,
    normalise: Callable[[str], str] = lambda key: key,
) -> list[tuple[tuple[Any, ...], str, int, int]]:
    """Keys written twice in one mapping: (location, key, first line, repeated line).

    Args:
        at: which mappings to check, by location (default: all).
        normalise: keys equal after this are the same key (e.g. str.upper for asset codes).
    """
    found = []
    firsts: dict[tuple[tuple[Any, ...], str], yaml.Node] = {}
    for loc, key, _value in mapping_entries(root):
        if not isinstance(key, yaml.ScalarNode) or key.value == "<<" or not at(loc):
            continue
        slot = (loc, normalise(key.value))
        first = firsts.setdefault(slot, key)
        if first is not key:
            found.append(
                ((*loc, key.value), first.value, first.start_mark.line + 1, key.start_mark.line + 1)
            )
    return sorted(found, key=lambda item: item[3])
