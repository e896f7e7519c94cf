"""The folders are the architecture: which package may import which, checked on every module.

Every module under rotator/ is parsed with `ast`; every import counts: top-level, inside
functions, and under `if TYPE_CHECKING:` (a type-only import is still an arrow a reader must
follow). The arrows (docs/architecture.md):

    cli ──> pipeline ──> adapters ──> core
     │         │  └────> config ───┘   ↑
     │         └───────> reports ──────┤
     └──> config, reports, core, demo  │
                                      errors, redaction (everyone)

- core imports only core, rotator.errors, the standard library, pandas/numpy, pydantic (the
  rule kinds' parameter models are pydantic: validated once when a rule set is loaded) and
  highspy (the planner's solver: pure computation);
- adapters never import cli, config, reports, pipeline or demo: they take frozen settings;
- reports never import adapters, pipeline, cli or config: they format records they are given;
- pipeline is the only package that imports adapters (so the only one joining them to core);
- cli imports no adapter: the pipeline (run, store, report, backfill) is its one door to I/O.
  The demo's replay server and bundled files are a package of their own that the cli's session
  factory uses; the demo imports no adapter either.

Only the edge reads the system clock or sleeps: the run's clock (rotator.core.clock.Clock) is
built by rotator.cli.clock and handed down; no other module calls datetime.now, time.time,
time.sleep, date.today and the like (or names them as a default), so tests hand every adapter
a clock that records its waits.

No package has an import cycle among its own modules (rotator.config.chains importing
rotator.config.keys importing rotator.config.chains, say), counted over the same imports: a
cycle hidden by moving an import into a function is still one.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

import rotator

ROOT = Path(rotator.__file__).resolve().parent

COMMON = ("rotator.errors", "rotator.redaction")
# Package -> the rotator packages it may import (itself included).
ALLOWED: Mapping[str, tuple[str, ...]] = {
    "rotator.core": ("rotator.core", "rotator.errors"),
    "rotator.config": ("rotator.config", "rotator.core", *COMMON),
    "rotator.adapters": ("rotator.adapters", "rotator.core", *COMMON),
    "rotator.reports": ("rotator.reports", "rotator.core", *COMMON),
    "rotator.demo": ("rotator.demo", "rotator.config", *COMMON),
    "rotator.pipeline": (
        "rotator.pipeline",
        "rotator.adapters",
        "rotator.config",
        "rotator.core",
        "rotator.reports",
        "rotator.demo",
        *COMMON,
    ),
    "rotator.cli": (
        "rotator.cli",
        "rotator.pipeline",
        "rotator.config",
        "rotator.core",
        "rotator.reports",
        "rotator.demo",
        *COMMON,
    ),
    "rotator.errors": ("rotator.errors",),
    "rotator.redaction": ("rotator.redaction", "rotator.errors"),  # errors: control characters
    "rotator.__main__": ("rotator.cli",),
    "rotator": ("rotator",),
}
# The modules that may read the system clock or sleep for real: the real clock every command's
# session is built with, and the replay server (the stand-in for the exchanges and data
# sources a test or the demo talks to, stamping arrivals on its own clock).
CLOCK_EDGES = frozenset({"rotator.cli.clock", "rotator.demo.replay"})
# `module.function` forms that read the system clock or wait for real.
CLOCK_READS = frozenset(
    {
        ("datetime", "now"),
        ("datetime", "utcnow"),
        ("datetime", "today"),
        ("date", "today"),
        ("time", "time"),
        ("time", "time_ns"),
        ("time", "sleep"),
        ("time", "monotonic"),
        ("time", "monotonic_ns"),
        ("time", "perf_counter"),
        ("asyncio", "sleep"),
    }
)
# Third-party libraries the core may use; everything else it imports must be the stdlib.
CORE_THIRD_PARTY = frozenset({"pandas", "numpy", "pydantic", "highspy"})


@dataclass(frozen=True, slots=True)
class Import:
    module: str  # the importing module, e.g. rotator.core.planner
    target: str  # what it imports, e.g. rotator.core.models
    line: int

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.target}"


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(root: Path) -> Iterator[Import]:
    """Every import of every module under `root` (a package folder), wherever it stands."""
    for path in sorted(root.rglob("*.py")):
        name = module_name(root, path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield Import(name, alias.name, node.lineno)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: resolve against the importing package
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                yield Import(name, base, node.lineno)


def owner(module: str, packages: Mapping[str, tuple[str, ...]]) -> str:
    """The most specific package of `packages` that `module` belongs to."""
    found = [p for p in packages if module == p or module.startswith(p + ".")]
    return max(found, key=len)


def within(target: str, prefixes: tuple[str, ...]) -> bool:
    return any(target == p or target.startswith(p + ".") for p in prefixes)


def violations(root: Path, allowed: Mapping[str, tuple[str, ...]] = ALLOWED) -> list[str]:
    """Imports under `root` that break the arrows, as readable lines."""
    top = root.name
    bad = []
    for imp in imports_of(root):
        package = owner(imp.module, allowed)
        if imp.target == top:
            continue  # the package itself: its version
        if imp.target.startswith(top + "."):
            if not within(imp.target, allowed[package]):
                bad.append(f"{imp} ({package} may import only {', '.join(allowed[package])})")
        elif package == f"{top}.core":
            first = imp.target.split(".")[0]
            known = {"__future__", *sys.stdlib_module_names, *CORE_THIRD_PARTY}
            if first not in known:
                allowed = "the stdlib, pandas, numpy, pydantic, highspy"
                bad.append(f"{imp} (core may use only {allowed})")
    return bad


def clock_reads(root: Path, edges: frozenset[str] = CLOCK_EDGES) -> list[str]:
    """Uses of the system clock or a real sleep outside the `edges`, as readable lines.

    Called or only named (`sleep=time.sleep` as a default is a real sleep all the same), also
    through `datetime.datetime.now` or `from time import sleep`.
    """
    bad = []
    for path in sorted(root.rglob("*.py")):
        name = module_name(root, path)
        if name in edges:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            found = None
            if isinstance(node, ast.Attribute):
                owner_node = node.value
                base = (
                    owner_node.id
                    if isinstance(owner_node, ast.Name)
                    else owner_node.attr
                    if isinstance(owner_node, ast.Attribute)
                    else None
                )
                if (base, node.attr) in CLOCK_READS:
                    found = f"{base}.{node.attr}"
            elif isinstance(node, ast.ImportFrom) and node.module in ("time", "asyncio"):
                names = [a.name for a in node.names if (node.module, a.name) in CLOCK_READS]
                found = ", ".join(f"{node.module}.{n}" for n in names) or None
            if found:
                bad.append(f"{name}:{node.lineno} uses {found} (take the run's clock instead)")
    return bad


def package_cycles(root: Path) -> list[list[str]]:
    """Import cycles among the modules of one package (rotator.config, rotator.core, ...).

    Every import counts, function-level and TYPE_CHECKING ones included: an import moved into a
    function hides a cycle from Python, not from a reader.
    """
    modules = {module_name(root, p) for p in root.rglob("*.py")}

    def package(module: str) -> str:
        return ".".join(module.split(".")[:2])

    graph: dict[str, set[str]] = {m: set() for m in modules}
    for imp in imports_of(root):
        if imp.module not in graph:
            continue
        # `from rotator.core.rules.registry import rule`: the module is the longest known prefix.
        candidates = [m for m in modules if within(imp.target, (m,)) and m != root.name]
        if candidates:
            target = max(candidates, key=len)
            if target != imp.module and package(target) == package(imp.module):
                graph[imp.module].add(target)
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            # A package's __init__ importing its own submodules is not a cycle through it.
            if nxt.startswith(node + "."):
                continue
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


def test_every_module_follows_the_arrows() -> None:
    assert violations(ROOT) == []


def test_every_module_belongs_to_a_declared_package() -> None:
    names = {module_name(ROOT, p) for p in ROOT.rglob("*.py")}
    assert all(any(within(n, (p,)) for p in ALLOWED) for n in names)
    stray = sorted(n for n in names if owner(n, ALLOWED) == "rotator" and n != "rotator")
    assert stray == [], "a new top-level module needs its arrows declared in ALLOWED"


def test_only_the_edge_reads_the_system_clock_or_sleeps() -> None:
    assert clock_reads(ROOT) == []
    assert all(any(module_name(ROOT, p) == e for p in ROOT.rglob("*.py")) for e in CLOCK_EDGES)


CLOCK_USES = {
    "datetime.now in storage": (
        "adapters/storage/runs.py",
        "from datetime import UTC, datetime\nSTAMP = datetime.now(UTC)\n",
    ),
    "fully qualified now": (
        "pipeline/backfill.py",
        "import datetime\nT = datetime.datetime.now()\n",
    ),
    "time.time for Retry-After": ("adapters/sources/http.py", "import time\nNOW = time.time()\n"),
    "a real sleep as a default": (
        "adapters/delivery.py",
        "import time\ndef deliver(sleep=time.sleep):\n    sleep(1)\n",
    ),
    "asyncio.sleep in a chain read": (
        "adapters/chains/rpc.py",
        "import asyncio\nasync def turn():\n    await asyncio.sleep(1)\n",
    ),
    "imported monotonic": ("adapters/runlock.py", "from time import monotonic\n"),
    "today's date in a command": (
        "cli/check.py",
        "from datetime import date\nTODAY = date.today()\n",
    ),
}


@pytest.mark.parametrize("case", sorted(CLOCK_USES))
def test_a_clock_read_in_a_synthetic_tree_is_caught(tmp_path: Path, case: str) -> None:
    module, text = CLOCK_USES[case]
    clean = write_tree(tmp_path / "clean", {module: "def f(clock):\n    return clock.now()\n"})
    assert clock_reads(clean) == []
    broken = write_tree(tmp_path / "broken", {module: text})
    found = clock_reads(broken)
    assert len(found) == 1, found
    assert f"rotator.{module[:-3].replace('/', '.')}:" in found[0]
    edge = module_name(broken, broken / module)
    assert clock_reads(broken, frozenset({edge})) == []


def test_no_package_has_an_import_cycle() -> None:
    assert package_cycles(ROOT) == []


def write_tree(root: Path, files: Mapping[str, str]) -> Path:
    """A synthetic `rotator` package under `root` with the given modules."""
    for name, text in files.items():
        path = root / "rotator" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in [path.parent, *path.parent.parents]:
            if parent == root:
                break
            (parent / "__init__.py").touch()
        path.write_text(text, encoding="utf-8")
    return root / "rotator"


WRONG_IMPORTS = {
    "core reads the exchange (function level)": (
        "core/models.py",
        "def load():\n    from rotator.adapters.exchanges import fetch_accounts\n",
    ),
    "core type-checks against config": (
        "core/planner.py",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
        "    from rotator.config.portfolio import Portfolio\n",
    ),
    "core uses an HTTP library": ("core/valuation.py", "import httpx\n"),
    "adapter reads a config model": (
        "adapters/delivery.py",
        "from rotator.config.portfolio import DeliveryConfig\n",
    ),
    "report reads the database": (
        "reports/daily.py",
        "from rotator.adapters.storage import runs\n",
    ),
    "command opens the store itself": (
        "cli/plan.py",
        "def plan():\n    from rotator.adapters.storage.db import open_engine\n",
    ),
    "relative import into adapters": ("cli/history.py", "from ..adapters import storage\n"),
}


@pytest.mark.parametrize("case", sorted(WRONG_IMPORTS))
def test_a_wrong_import_in_a_synthetic_tree_is_caught(tmp_path: Path, case: str) -> None:
    module, text = WRONG_IMPORTS[case]
    clean = write_tree(tmp_path / "clean", {module: "from rotator.errors import Problem\n"})
    assert violations(clean) == []
    broken = write_tree(tmp_path / "broken", {module: text})
    found = violations(broken)
    assert len(found) == 1, found
    assert f"rotator.{module[:-3].replace('/', '.')}:" in found[0]


def test_a_type_checking_cycle_in_a_synthetic_core_is_caught(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "core/models.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from rotator.core.screen.data import ScreenData\n",
            "core/screen/data.py": "from rotator.core.models import MarketInfo\n",
        },
    )
    assert package_cycles(root) == [
        ["rotator.core.models", "rotator.core.screen.data", "rotator.core.models"]
    ]


def test_a_function_level_cycle_in_a_synthetic_package_is_caught(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "config/chains.py": "def check():\n    from rotator.config.checks import run\n",
            "config/checks.py": "from rotator.config.chains import BITCOIN\n",
            "reports/daily.py": "from rotator.config.chains import BITCOIN\n",
        },
    )
    assert package_cycles(root) == [
        ["rotator.config.chains", "rotator.config.checks", "rotator.config.chains"]
    ]


def test_imports_across_packages_and_into_a_package_init_are_no_cycle(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "config/__init__.py": "from rotator.config.chains import BITCOIN\n",
            "config/chains.py": "from rotator.config import paths\nBITCOIN = 1\n",
            "config/paths.py": "from rotator.core.models import X\n",
            "core/models.py": "def f():\n    from rotator.config.paths import Y\n",
        },
    )
    assert package_cycles(root) == []
