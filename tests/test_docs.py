"""README.md documents everything a user can set (datasette's tests/test_docs.py, same idea).

- every portfolio.yaml field, found by walking the pydantic models of rotator.config.portfolio,
  has a row in the configuration reference (`rebalance.drift_abs`, `accounts[].ccxt`, ...);
- every registered rule kind has a `####` section in the Rules reference, naming every parameter
  of its params model;
- every `ROTATOR_*` environment variable the code reads is named.
"""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from rotator.config.portfolio import Portfolio
from rotator.core.rules.registry import default_registry

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    """The text from the heading line that starts with `heading` up to the next heading of the
    same or a higher level (lines inside ``` fences are not headings)."""
    level = len(heading) - len(heading.lstrip("#"))
    out: list[str] = []
    fenced = False
    for line in text.splitlines():
        if out and not fenced and re.match(rf"#{{1,{level}}} ", line):
            break
        if out or line.startswith(heading):
            out.append(line)
            fenced ^= line.startswith("```")
    assert out, f"README has no heading {heading!r}"
    return "\n".join(out)


def _model_of(annotation: object) -> tuple[type[BaseModel] | None, bool]:
    """(the pydantic model inside a field's type, whether it is a list of them)."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            model, many = _model_of(arg)
            if model is not None:
                return model, many
        return None, False
    if origin in (tuple, list) and args and isinstance(args[0], type):
        return (args[0], True) if issubclass(args[0], BaseModel) else (None, False)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    return None, False


def _union_models(annotation: object) -> list[type[BaseModel]]:
    """The models of a list of tagged-union items (`wallets: tuple[Annotated[A | B, ...], ...]`)."""
    if typing.get_origin(annotation) not in (tuple, list):
        return []
    item = typing.get_args(annotation)[0]
    while typing.get_origin(item) is typing.Annotated:
        item = typing.get_args(item)[0]
    members = []
    for arg in typing.get_args(item):
        while typing.get_origin(arg) is typing.Annotated:
            arg = typing.get_args(arg)[0]
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            members.append(arg)
    return members


def config_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Dotted paths of every field of `model`: `rebalance.drift_abs`, `accounts[]`,
    `accounts[].ccxt`. A nested mapping (rebalance) is its fields; a list of mappings is itself
    (`accounts[]`) and its fields; a list of a union of mappings (`wallets[]`) is itself and
    the fields of every member."""
    paths: list[str] = []
    for name, info in model.model_fields.items():
        members = _union_models(info.annotation)
        if members:
            paths.append(f"{prefix}{name}[]")
            for member in members:
                paths.extend(
                    p for p in config_paths(member, f"{prefix}{name}[].") if p not in paths
                )
            continue
        nested, many = _model_of(info.annotation)
        path = f"{prefix}{name}"
        if nested is None:
            paths.append(path)
        elif many:
            paths.append(f"{path}[]")
            paths.extend(config_paths(nested, f"{path}[]."))
        else:
            paths.extend(config_paths(nested, f"{path}."))
    return paths


def documented_config_paths(text: str) -> set[str]:
    """Paths named in the first column of the configuration reference table.

    A cell may name siblings after a full path: "`accounts[].api_key_env` / `secret_env`"
    documents `accounts[].api_key_env` and `accounts[].secret_env`.
    """
    found: set[str] = set()
    for line in section(text, "## Configuration reference").splitlines():
        if not line.startswith("| `"):
            continue
        parent = ""
        for name in re.findall(r"`([^`]+)`", line.split(" | ")[0]):
            if "." in name:
                parent = name.rsplit(".", 1)[0] + "."
                found.add(name)
            else:
                found.add(parent + name)
    return found


def test_config_paths_walk_the_models():
    paths = config_paths(Portfolio)
    expected = [
        "base_currency",
        "accounts[]",
        "accounts[].ccxt",
        "rebalance.drift_abs",
        "delivery.webhooks[].url_env",
        "delivery.email.port",
        "rules.overrides",
    ]
    assert [p for p in expected if p not in paths] == []
    assert "rebalance" not in paths and "delivery.email" not in paths


def test_documented_paths_expand_siblings():
    text = (
        "## Configuration reference\n\n| key | type | meaning |\n|---|---|---|\n"
        "| `accounts[].api_key_env` / `secret_env` | env var | x `not.this` |\n"
        "| `targets` | mapping | y |\n\n## Next\n| `outside.table` | | |\n"
    )
    assert documented_config_paths(text) == {
        "accounts[].api_key_env",
        "accounts[].secret_env",
        "targets",
    }


def test_every_portfolio_field_is_documented():
    documented = documented_config_paths(README)
    missing = [p for p in config_paths(Portfolio) if p not in documented]
    assert missing == [], "add rows to README's 'Configuration reference' for these"


RULES_REFERENCE = section(README, "## Rules reference")
REGISTRY = default_registry()


def kind_section(kind: str) -> str:
    """The `####` section of the Rules reference whose heading names `kind` in backticks."""
    headings = [
        line for line in RULES_REFERENCE.splitlines()
        if line.startswith("#### ") and f"`{kind}`" in line
    ]  # fmt: skip
    assert headings, f"README's Rules reference has no '#### `{kind}`' section"
    return section(RULES_REFERENCE, headings[0])


@pytest.mark.parametrize("kind", REGISTRY.kinds())
def test_every_rule_kind_and_parameter_is_documented(kind: str):
    text = kind_section(kind)
    params = REGISTRY.get(kind).params.model_fields  # type: ignore[union-attr]
    missing = [name for name in params if f"`{name}`" not in text]
    assert missing == [], f"README: section of rule kind {kind} does not name these parameters"


def environment_variables() -> set[str]:
    """Every ROTATOR_* name in the package's source."""
    names: set[str] = set()
    for path in (ROOT / "rotator").rglob("*.py"):
        names.update(re.findall(r"\bROTATOR_[A-Z_]+[A-Z]\b", path.read_text(encoding="utf-8")))
    return names


def test_every_environment_variable_is_documented():
    found = environment_variables()
    assert "ROTATOR_DB_URL" in found
    missing = sorted(name for name in found if not re.search(rf"\b{name}\b", README))
    assert missing == []
