"""Where a test's rotator keeps its files: the data and cache dirs under one folder, and no
user database or config from the environment. The autouse `isolated_dirs` fixture
(tests/conftest.py) applies it to every test; session fixtures apply it themselves."""

from __future__ import annotations

from pathlib import Path

import pytest


def isolate_user_dirs(patch: pytest.MonkeyPatch, home: Path) -> None:
    """Point rotator's data and cache dirs (and so the default database) into `home`."""
    patch.setenv("ROTATOR_DATA_DIR", str(home / "data"))
    patch.setenv("ROTATOR_CACHE_DIR", str(home / "cache"))
    patch.delenv("ROTATOR_DB_URL", raising=False)
    patch.delenv("ROTATOR_CONFIG", raising=False)
