"""The documentation covers everything a user can set, and holds together (datasette's
tests/test_docs.py, same idea).

- every portfolio.yaml field, found by walking the pydantic models of rotator.config.portfolio,
  has a row in docs/reference/configuration.md (`rebalance.drift_abs`, `accounts[].ccxt`, ...);
- every registered rule kind has a `###` section in docs/reference/rules.md, naming every
  parameter of its params model;
- every `ROTATOR_*` environment variable the code reads is named in the configuration reference;
- README.md stays short and keeps the two commands; every page under docs/ is in mkdocs.yml's
  nav; every relative link in README.md and docs/ reaches a file, and its #anchor a heading.
"""

from __future__ import annotations

import re
import types
import typing
import unicodedata
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from rotator.config.portfolio import Portfolio
from rotator.core.rules.registry import default_registry

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = (ROOT / "README.md").read_text(encoding="utf-8")
CONFIGURATION = (DOCS / "reference" / "configuration.md").read_text(encoding="utf-8")
RULES = (DOCS / "reference" / "rules.md").read_text(encoding="utf-8")


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
    assert out, f"no heading {heading!r}"
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
    """Paths named in the first column of the tables of the configuration reference.

    A cell may name siblings after a full path: "`accounts[].api_key_env` / `secret_env`"
    documents `accounts[].api_key_env` and `accounts[].secret_env`.
    """
    found: set[str] = set()
    for line in text.splitlines():
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
        "# Configuration reference\n\n| key | type | meaning |\n|---|---|---|\n"
        "| `accounts[].api_key_env` / `secret_env` | env var | x `not.this` |\n"
        "| `targets` | mapping | y |\n\nProse naming `not.a.row` is no row.\n"
    )
    assert documented_config_paths(text) == {
        "accounts[].api_key_env",
        "accounts[].secret_env",
        "targets",
    }


def test_every_portfolio_field_is_documented():
    documented = documented_config_paths(CONFIGURATION)
    missing = [p for p in config_paths(Portfolio) if p not in documented]
    assert missing == [], "add rows to docs/reference/configuration.md for these"


RULES_REFERENCE = section(RULES, "## Rule kinds")
REGISTRY = default_registry()


def kind_section(kind: str) -> str:
    """The `###` section of the rule kinds whose heading names `kind` in backticks."""
    headings = [
        line for line in RULES_REFERENCE.splitlines()
        if line.startswith("### ") and f"`{kind}`" in line
    ]  # fmt: skip
    assert headings, f"docs/reference/rules.md has no '### `{kind}`' section"
    return section(RULES_REFERENCE, headings[0])


@pytest.mark.parametrize("kind", REGISTRY.kinds())
def test_every_rule_kind_and_parameter_is_documented(kind: str):
    text = kind_section(kind)
    params = REGISTRY.get(kind).params.model_fields  # type: ignore[union-attr]
    missing = [name for name in params if f"`{name}`" not in text]
    assert missing == [], f"rules.md: section of rule kind {kind} lacks these parameters"


def environment_variables() -> set[str]:
    """Every ROTATOR_* name in the package's source."""
    names: set[str] = set()
    for path in (ROOT / "rotator").rglob("*.py"):
        names.update(re.findall(r"\bROTATOR_[A-Z_]+[A-Z]\b", path.read_text(encoding="utf-8")))
    return names


def test_every_environment_variable_is_documented():
    found = environment_variables()
    assert "ROTATOR_DB_URL" in found
    missing = sorted(name for name in found if not re.search(rf"\b{name}\b", CONFIGURATION))
    assert missing == []


# The README: short, and the two commands exactly as .ci/run runs them.

INSTALL_AND_DEMO = (
    "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/rotator plan --demo"
)


def ci_test_command() -> str:
    """The command after .ci/run's "The README's test command, exactly." comment."""
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    marker = next(i for i, line in enumerate(lines) if "test command, exactly" in line)
    return lines[marker + 1].strip()


def test_readme_is_short_and_keeps_the_two_commands():
    assert len(README.splitlines()) <= 300
    blocks = re.findall(r"```sh\n(.*?)```", README, flags=re.DOTALL)
    commands = {line.strip() for block in blocks for line in block.splitlines()}
    assert INSTALL_AND_DEMO in commands
    assert ci_test_command().startswith("python3 -m venv .venv && ")
    assert ci_test_command() in commands


def test_readme_quick_start_has_the_five_steps():
    quick_start = section(README, "## Quick start")
    steps = re.findall(r"^(\d)\. ", quick_start, flags=re.MULTILINE)
    assert steps == ["1", "2", "3", "4", "5"]
    order = ["bin/activate", "export ", "rotator check", "rotator history fetch", "rotator plan"]
    positions = [quick_start.index(text) for text in order]
    assert positions == sorted(positions)


# The site: every page in the nav, every relative link reaching its file and anchor.


def nav_pages(nav: object) -> list[str]:
    """Every page file named in mkdocs.yml's nav, at any depth."""
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [page for item in nav for page in nav_pages(item)]
    if isinstance(nav, dict):
        return [page for value in nav.values() for page in nav_pages(value)]
    return []


def test_every_docs_page_is_in_the_nav():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    assert config["strict"] is True and config["theme"]["name"] == "material"
    listed = nav_pages(config["nav"])
    pages = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
    assert [page for page in pages if page not in listed] == []
    assert [page for page in listed if not (DOCS / page).is_file()] == []
    assert len(listed) == len(set(listed)), "a page listed twice"
    assert "reference/configuration.md" in listed and "reference/rules.md" in listed


def slugify(text: str) -> str:
    """The anchor Python-Markdown's toc extension (MkDocs' default) gives a heading."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link's text only
    text = re.sub(r"[`*]", "", text)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def prose_lines(text: str) -> list[str]:
    """The lines outside ``` fences."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def anchors(path: Path) -> set[str]:
    """The ids of the headings of a Markdown file (a repeated slug gets _1, _2 as in toc)."""
    found: set[str] = set()
    for line in prose_lines(path.read_text(encoding="utf-8")):
        match = re.match(r"#{1,6} (.+)", line)
        if not match:
            continue
        slug = base = slugify(match.group(1))
        count = 0
        while slug in found:
            count += 1
            slug = f"{base}_{count}"
        found.add(slug)
    return found


def relative_links(path: Path) -> list[str]:
    """Targets of the Markdown links and images in a file, outside code, that are not URLs."""
    targets = []
    for line in prose_lines(path.read_text(encoding="utf-8")):
        line = re.sub(r"`[^`]*`", "", line)
        for target in re.findall(r"\]\(([^)\s]+)\)", line):
            if not re.match(r"[a-z][a-z0-9+.-]*:", target):
                targets.append(target)
    return targets


def test_slugs_and_links_are_read_like_mkdocs():
    assert slugify("The macro thesis (`rules/thesis.yaml`)") == "the-macro-thesis-rulesthesisyaml"
    assert slugify("`revenue_screen`") == "revenue_screen"
    assert slugify("BTC dominance: LiveCoinWatch, or a named proxy") == (
        "btc-dominance-livecoinwatch-or-a-named-proxy"
    )
    assert slugify("The demo's dates") == "the-demos-dates"


MARKDOWN_FILES = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


@pytest.mark.parametrize("path", MARKDOWN_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves(path: Path):
    broken = []
    for target in relative_links(path):
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            broken.append(f"{target}: no such file")
            continue
        if path != ROOT / "README.md" and DOCS not in dest.parents:
            broken.append(f"{target}: outside docs/ (the site cannot serve it)")
        if anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no heading with this anchor")
    assert broken == []


def test_messages_point_at_the_docs_not_the_readme():
    """A message that sends the user to read more names a docs page, not a README section."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "rotator").rglob("*.py")
        if re.search(r"see README", path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_site_unescapes_pipes_only_in_table_code():
    import importlib.util

    spec = importlib.util.spec_from_file_location("mkdocs_hooks", ROOT / "mkdocs_hooks.py")
    assert spec is not None and spec.loader is not None
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    text = "| `--format table\\|json` | a \\| b |\nprose `x\\|y`"
    assert hooks.unescape_pipes_in_table_code(text) == (
        "| `--format table|json` | a \\| b |\nprose `x\\|y`"
    )
