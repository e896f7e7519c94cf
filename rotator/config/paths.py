"""Per-user directories (platformdirs): data (database, reports) and cache (markets).

Both come from rotator.config.env (ROTATOR_DATA_DIR / ROTATOR_CACHE_DIR, else the platform's
user directories).
"""

from __future__ import annotations

from pathlib import Path

from rotator.config.env import settings


def data_dir() -> Path:
    """$ROTATOR_DATA_DIR, else the platform's user data directory for rotator."""
    return settings().data_dir


def cache_dir() -> Path:
    """$ROTATOR_CACHE_DIR, else the platform's user cache directory for rotator."""
    return settings().cache_dir
