"""The core stays pure: nothing under rotator/core imports an I/O library or reads files."""

from __future__ import annotations

import ast
from pathlib import Path

import rotator.core

FORBIDDEN_IMPORTS = {
    "ccxt",
    "httpx",
    "sqlalchemy",
    "click",
    "aiohttp",
    "requests",
    "rich",
    "alembic",
    "yaml",
    "rotator.adapters",
    "rotator.cli.app",
    "rotator.config.portfolio",
    "rotator.pipeline.run",
    "rotator.cli",
}
FORBIDDEN_CALLS = {"open", "now", "today", "utcnow", "read_text", "read_bytes"}


def core_modules() -> list[Path]:
    return sorted(Path(rotator.core.__file__).parent.rglob("*.py"))


def test_core_has_modules() -> None:
    assert len(core_modules()) >= 2


def test_core_imports_no_io_library() -> None:
    offenders = []
    for path in core_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {n}"
                for n in names
                if any(n == f or n.startswith(f + ".") for f in FORBIDDEN_IMPORTS)
            ]
    assert offenders == []


def test_core_reads_no_clock_or_files() -> None:
    offenders = []
    for path in core_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name in FORBIDDEN_CALLS:
                    offenders.append(f"{path.name}:{node.lineno} {name}()")
    assert offenders == []
