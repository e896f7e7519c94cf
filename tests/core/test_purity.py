"""The core stays pure: nothing under rotator/core reads the clock or files.

What the core may import (only core, errors, the stdlib, pandas/numpy, pydantic) is checked with
every other package's arrows in tests/test_architecture.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import rotator.core

FORBIDDEN_CALLS = {"open", "now", "today", "utcnow", "read_text", "read_bytes"}


def core_modules() -> list[Path]:
    return sorted(Path(rotator.core.__file__).parent.rglob("*.py"))


def test_core_has_modules() -> None:
    assert len(core_modules()) >= 2


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
