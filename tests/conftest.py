"""Shared test setup: per-test user dirs so no test touches the real home directory.

Sockets are disabled except loopback (pytest-socket, configured in pyproject.toml), so a test
that tries to reach the internet fails at once instead of hanging.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point rotator's data and cache dirs (and the default database) into tmp_path."""
    monkeypatch.setenv("ROTATOR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ROTATOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("ROTATOR_DB_URL", raising=False)
    monkeypatch.delenv("ROTATOR_CONFIG", raising=False)
    return tmp_path
