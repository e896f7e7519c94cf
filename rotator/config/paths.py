"""Where rotator's files are: per-user directories and rule-set files.

The data (database, reports) and cache (markets) directories come from rotator.config.env
(ROTATOR_DATA_DIR / ROTATOR_CACHE_DIR, else the platform's user directories, platformdirs). A
rule-set file named in portfolio.yaml is found next to it, else among the shipped rule sets.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from rotator.config.env import settings

# The package the top-level rules/ folder is installed as (setup.py maps it; one copy).
SHIPPED_PACKAGE = "rotator.rulesets"


def data_dir() -> Path:
    """$ROTATOR_DATA_DIR, else the platform's user data directory for rotator."""
    return settings().data_dir


def cache_dir() -> Path:
    """$ROTATOR_CACHE_DIR, else the platform's user cache directory for rotator."""
    return settings().cache_dir


def shipped_ruleset(name: str) -> Path:
    """The path of a rule set shipped with rotator (`cycle.yaml`), from the installed package.

    The repository's rules/ folder is installed as the package `rotator.rulesets`: a wheel
    holds it as rotator/rulesets/, an editable install serves rules/ itself; importlib.resources
    finds it either way. The path may not exist (no such rule set): callers report that.
    """
    return Path(str(resources.files(SHIPPED_PACKAGE) / name))


def resolve_ruleset_path(name: str, base_dir: Path) -> Path:
    """A rule-set path from portfolio.yaml, relative to its folder; falls back to a shipped set.

    `rules/cycle.yaml` next to portfolio.yaml wins; when it does not exist, the rule set of the
    same name shipped with rotator (the repository's rules/ folder) is used, so an installed
    rotator finds the default rule sets.
    """
    path = Path(name).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    if not path.exists() and shipped_ruleset(path.name).exists():
        return shipped_ruleset(path.name)
    return path


def ruleset_label(name: str) -> str:
    """A rule set's file for people: 'cycle.yaml (shipped)', a path relative to the working
    folder when it lies inside it, else the file name (never a long absolute path)."""
    path = Path(name)
    if not path.is_absolute():
        return name
    try:
        shipped = Path(str(resources.files(SHIPPED_PACKAGE)))
        if path.parent.resolve() == shipped.resolve():
            return f"{path.name} (shipped)"
    except (ModuleNotFoundError, OSError):
        pass
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return path.name
