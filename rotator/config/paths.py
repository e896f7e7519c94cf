"""Per-user directories (platformdirs): data (database, reports) and cache (markets)."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_dir, user_data_dir


def data_dir() -> Path:
    """$ROTATOR_DATA_DIR, else the platform's user data directory for rotator."""
    return Path(os.environ.get("ROTATOR_DATA_DIR") or user_data_dir("rotator"))


def cache_dir() -> Path:
    """$ROTATOR_CACHE_DIR, else the platform's user cache directory for rotator."""
    return Path(os.environ.get("ROTATOR_CACHE_DIR") or user_cache_dir("rotator"))
