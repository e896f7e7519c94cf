"""The store as the command line sees it: open a database, read runs back, hold the run lock.

The command line (rotator.cli) imports no adapter: what it needs of the storage adapter is
named here, so this module is the whole surface between the face and the database. Writing a
run is stage 6 of rotator.pipeline.run, not here.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from rotator.adapters.runlock import run_lock
from rotator.adapters.sources.csv_import import import_csv
from rotator.adapters.storage.db import (
    DB_URL_FORMS,
    database_lock,
    open_engine,
    read_engine,
    sqlite_file,
    url_problem,
)
from rotator.adapters.storage.market import (
    last_day,
    last_macro_day,
    load_evaluations,
    load_history,
    save_bars,
    save_dominance,
    save_macro,
)
from rotator.adapters.storage.report_store import report_for
from rotator.adapters.storage.run_queries import (
    RunSummary,
    StoredRun,
    daily_values,
    latest_run_before,
    list_runs,
    load_run,
)
from rotator.core.history import DailyBar, DominanceObservation, MacroObservation, macro_key
from rotator.demo.history import (
    BTC_PRICES,
    DEMO_SOURCE,
    DOMINANCE,
    DOMINANCE_FROM,
    ETH_PRICES,
    HISTORY,
    HISTORY_END,
    MACRO,
    SOL_PRICES,
    TOTAL_MARKET_CAP,
)
from rotator.errors import ConfigError

__all__ = [
    "Engine",
    "RunSummary",
    "StoredRun",
    "check_db_folder",
    "check_db_url",
    "daily_values",
    "database_lock",
    "demo_engine",
    "demo_engine_unsaved",
    "existing_store",
    "latest_run_before",
    "list_runs",
    "load_evaluations",
    "load_history",
    "load_run",
    "open_store",
    "report_for",
    "run_lock",
    "safe_url",
]


def open_store(url: str) -> Engine:
    """An engine on `url`, migrated to the newest schema."""
    return open_engine(url)


def check_db_url(url: str, origin: str) -> str:
    """`url` if it names a database rotator can open; else ConfigError (exit 2) naming
    `origin` (`--db` or `ROTATOR_DB_URL`) and the accepted forms."""
    problem = url_problem(url)
    if problem is not None:
        raise ConfigError(f"{origin}: the value {problem}; expected {DB_URL_FORMS}")
    return url


def check_db_folder(url: str, origin: str | None) -> None:
    """Before a database is created: the folder of a SQLite file that `--db` or
    ROTATOR_DB_URL names (`origin`) must exist, else ConfigError (exit 2) naming the option: a
    mistyped folder would otherwise hold a new, empty database. The default file's folder (the
    data dir) is created when needed."""
    path = sqlite_file(url)
    if origin is None or path is None or path.parent.is_dir():
        return
    raise ConfigError(
        f"{origin}: no folder {path.parent} for the database file {path.name} (nothing was "
        "created); check the path, or create the folder first"
    )


def existing_store(url: str, origin: str | None, *, missing_file_ok: bool = False) -> Engine | None:
    """An engine on a database that must already exist (commands that only read it: the
    `history` commands; `plan`, `signals` with `--no-save`; `check`), opened without writing
    to it (rotator.adapters.storage.db.read_engine; an older schema is migrated first).

    A SQLite file that does not exist is not created (nor its folders): None when the URL is
    the default one (`origin` None: nothing stored yet), ConfigError (exit 2) when `--db` or
    ROTATOR_DB_URL names it (a mistyped path). With `missing_file_ok` a file they name in an
    existing folder is None too (not yet created: the rules then say their history is
    missing); a missing folder is still a ConfigError. A database without any table (an
    empty file) is None: nothing stored yet, and nothing written to it.
    """
    path = sqlite_file(url)
    if path is not None and not path.exists() and origin is not None:
        if missing_file_ok:
            check_db_folder(url, origin)
        else:
            raise ConfigError(
                f"{origin}: no database file at {path} (nothing was created); check the path. "
                "`rotator plan` and `rotator report` create the database when they store a run"
            )
    return read_engine(url)


def safe_url(engine: Engine) -> str:
    """The engine's URL with any password masked (for messages)."""
    return engine.url.render_as_string(hide_password=True)


def demo_engine(url: str, loaded_at: datetime) -> Engine:
    """An engine on the demo database, with the bundled history loaded (once; idempotent).

    Args:
        url: the demo's own file (`Settings.demo_db_url`) or the database given by `--db` /
            ROTATOR_DB_URL.
        loaded_at: the run's time: what the bundled rows are recorded at when loaded now.
    """
    engine = open_engine(url)
    if last_day(engine, DEMO_SOURCE, "SOL/USD") != HISTORY_END:
        prices = bundled_prices()
        for bars in prices.bars:
            save_bars(engine, bars, loaded_at)
        for dominance in prices.dominance:
            save_dominance(engine, dominance, loaded_at)
    # The macro series end on 2021-12-29 (weekly) or 2021-12-31; MOVE is loaded last.
    if last_macro_day(engine, macro_key("index:MOVE")) != HISTORY_END:
        for macro in bundled_macro():
            save_macro(engine, macro, loaded_at)
    return engine


def holds_demo_history(engine: Engine) -> bool:
    """Whether the bundled history is loaded in full (`demo_engine` loads what is not)."""
    return (
        last_day(engine, DEMO_SOURCE, "SOL/USD") == HISTORY_END
        and last_macro_day(engine, macro_key("index:MOVE")) == HISTORY_END
    )


def demo_engine_unsaved(
    url: str, origin: str | None, loaded_at: datetime, scratch: Callable[[], str]
) -> Engine:
    """The demo's database for a command that writes nothing (`--no-save`).

    `url` (the demo's own file, or --db) is only read (`existing_store`: a damaged one is still
    a StoreError), and used when it holds the bundled history already: its stored runs and
    screens are read too. Else the bundled history goes into the database `scratch()` gives (a
    file removed when the command ends), and `url` is left as it was.
    """
    engine = existing_store(url, origin, missing_file_ok=True)
    if engine is not None:
        if holds_demo_history(engine):
            return engine
        engine.dispose()
    return demo_engine(scratch(), loaded_at)


@dataclass(frozen=True, slots=True)
class BundledPrices:
    """The demo's bundled market history, parsed: BTC, ETH and SOL bars; BTC dominance derived
    from market caps before DOMINANCE_FROM, then as recorded."""

    bars: tuple[tuple[DailyBar, ...], ...]
    dominance: tuple[tuple[DominanceObservation, ...], ...]


@functools.cache
def bundled_prices() -> BundledPrices:
    """The bundled market history, parsed once per process (package files: they do not change
    while it runs, and a process that loads several demo stores, such as a test run, parses
    them once)."""
    btc = import_csv(BTC_PRICES, asset="BTC", source=DEMO_SOURCE).bars
    eth = import_csv(ETH_PRICES, asset="ETH", source=DEMO_SOURCE).bars
    sol = import_csv(SOL_PRICES, asset="SOL", source=DEMO_SOURCE).bars
    recorded = import_csv(DOMINANCE, kind="dominance", source=DEMO_SOURCE).dominance
    return BundledPrices((btc, eth, sol), (tuple(derived_dominance(btc)), recorded))


@functools.cache
def bundled_macro() -> tuple[tuple[MacroObservation, ...], ...]:
    """The bundled macro series, parsed once per process, in MACRO's order (MOVE last)."""
    return tuple(
        import_csv(HISTORY / name, series=series, source=DEMO_SOURCE).macro
        for name, series in MACRO.items()
    )


def derived_dominance(btc: Sequence[DailyBar]) -> list[DominanceObservation]:
    """BTC dominance before DOMINANCE_FROM: BTC market cap / total market cap, in percent."""
    caps = {bar.day: bar.market_cap for bar in btc if bar.market_cap}
    out = []
    with TOTAL_MARKET_CAP.open(newline="") as handle:
        for row in csv.DictReader(handle):
            day = datetime.fromtimestamp(int(row["snapped_at"]) / 1000, UTC).date()
            total = float(row["market_cap"])
            btc_cap = caps.get(day)
            if day >= DOMINANCE_FROM or not btc_cap or total <= 0 or btc_cap >= total:
                continue
            pct = btc_cap / total * 100
            out.append(DominanceObservation("demo-derived", day, pct, btc_cap, total))
    return out
