"""History coverage of a rule set: what the store holds of each series the rules read.

`rotator check` shows it line by line; `plan`, `signals` and the daily report use it to say in
one line when rules are unknown for lack of history (rotator.core.coverage has the statuses).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from rotator.core.coverage import SeriesCoverage, StoredExtent, assess_coverage, history_note
from rotator.core.rules.engine import RuleSet
from rotator.core.rules.registry import RuleResult

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy import Engine


def history_coverage(engine: Engine, ruleset: RuleSet, today: date) -> tuple[SeriesCoverage, ...]:
    """One coverage line per series `ruleset` reads, as the store stands."""
    from rotator.adapters.storage.coverage import stored_extents

    needed = ruleset.lookbacks()
    return assess_coverage(needed, stored_extents(engine, needed), ruleset.max_ages(), today)


def stored_coverage(
    db_url: str, origin: str | None, ruleset: RuleSet, today: date
) -> tuple[SeriesCoverage, ...]:
    """`history_coverage` of the database at `db_url`, only read (rotator.pipeline.store.
    existing_store): a database not yet created, or without tables, is read as an empty store;
    checking never creates the database nor writes to it.

    Args:
        origin: where `db_url` came from: "--db", "ROTATOR_DB_URL" (a bad URL, or a SQLite
            file in a folder that does not exist, is then a ConfigError naming it) or None for
            the default file.
    """
    needed = ruleset.lookbacks()
    empty = assess_coverage(needed, {}, ruleset.max_ages(), today)
    if origin is None and not Path(db_url.removeprefix("sqlite:///")).exists():
        return empty
    # Imported here: with no store yet, `rotator check` loads no database library at all.
    from rotator.pipeline.store import check_db_url, existing_store

    if origin is not None:
        check_db_url(db_url, origin)
    engine = existing_store(db_url, origin, missing_file_ok=True)
    if engine is None:
        return empty
    try:
        return history_coverage(engine, ruleset, today)
    finally:
        engine.dispose()


def history_extents(
    history: Mapping[str, pd.Series], names: Mapping[str, int], as_of: date
) -> dict[str, StoredExtent]:
    """What loaded `history` holds of each series up to `as_of` (replays hold later days too)."""
    import pandas as pd

    out: dict[str, StoredExtent] = {}
    for name in names:
        series = history.get(name)
        if series is None or len(series) == 0:
            continue
        stop = int(series.index.searchsorted(pd.Timestamp(as_of), side="right"))
        if stop:
            first, last = series.index[0].date(), series.index[stop - 1].date()
            out[name] = StoredExtent(int(stop), first, last)
    return out


def lack_of_history(
    ruleset: RuleSet,
    history: Mapping[str, pd.Series],
    as_of: date,
    results: Mapping[str, RuleResult],
) -> str | None:
    """The one-line note for rules unknown for lack of history (None when there are none)."""
    unknown = [name for name, result in results.items() if result.value is None]
    if not unknown:
        return None
    needed = ruleset.lookbacks()
    coverage = assess_coverage(
        needed, history_extents(history, needed, as_of), ruleset.max_ages(), as_of
    )
    inputs = {}
    for spec in ruleset.rules:
        kind = ruleset.registry.get(spec.kind)
        if kind is not None:
            inputs[spec.name] = tuple(n for n in kind.inputs_for(spec.params) if n in needed)
    return history_note(inputs, unknown, coverage)


def stored_series(engine: Engine) -> list[tuple[str, str, int, date, date]]:
    """Every series the store holds, per source (`rotator history list` attributes them)."""
    from rotator.adapters.storage.coverage import stored_series as listing

    return listing(engine)
