"""Shared test setup: per-test user dirs so no test touches the real home directory.

Sockets are disabled except loopback (pytest-socket, configured in pyproject.toml), so a test
that tries to reach the internet fails at once instead of hanging.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_server import HostileServer


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point rotator's data and cache dirs (and the default database) into tmp_path."""
    monkeypatch.setenv("ROTATOR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ROTATOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("ROTATOR_DB_URL", raising=False)
    monkeypatch.delenv("ROTATOR_CONFIG", raising=False)
    return tmp_path


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    """A replay server on 127.0.0.1 that can also redirect, drip, flood, nest and echo."""
    with HostileServer() as server:
        yield server
