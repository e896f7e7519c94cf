"""What a command runs with: portfolio, rule set, environ, settings, database and clock.

`open_session(demo=...)` is the one place that tells a real session from the demo; commands
never branch on `--demo` themselves. Both factories give a `Session`:

- `user_session`: portfolio.yaml from --config / $ROTATOR_CONFIG, credentials from the process
  environment, the database from --db / $ROTATOR_DB_URL, markets cached in the cache dir.
- `demo_session`: the bundled demo portfolio pointed at a local replay server (started on first
  use of the portfolio, environ or settings: `backtest --demo` never starts it), dummy
  credentials, the revenue screen's data served by the same server, the demo's own
  database (or the one --db names; $ROTATOR_DB_URL is ignored, so the user's database gets
  none of the demo's history or runs) with the bundled 2013-2021 history, rules evaluated as
  of DEMO_AS_OF, nothing cached and nothing delivered.

The portfolio and the database are opened on first use, so `rotator plan --no-save` on static
targets opens no database and `history list` reads no portfolio.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from rotator.cli.clock import session_clock
from rotator.config.env import Settings, read_settings
from rotator.config.paths import ruleset_label
from rotator.config.portfolio import Portfolio, load_portfolio
from rotator.config.ruleset import load_portfolio_ruleset, load_ruleset, shipped_ruleset
from rotator.core.clock import Clock
from rotator.core.models import RebalancePolicy
from rotator.core.rules.engine import RuleSet
from rotator.demo import DEMO_ENVIRON, demo_server, point_at, point_at_chains
from rotator.demo import PORTFOLIO as DEMO_PORTFOLIO
from rotator.demo.chains import mount_chains
from rotator.demo.history import DEMO_AS_OF
from rotator.demo.replay import ReplayServer
from rotator.demo.screen import mount_screen
from rotator.pipeline.store import (
    Engine,
    check_db_folder,
    check_db_url,
    demo_engine,
    demo_engine_unsaved,
    existing_store,
    open_store,
)

DEFAULT_RULESET = "cycle.yaml"


@dataclass(eq=False)
class Session:
    """A command's world. Build one with `open_session`; attributes are read-only by use.

    Attributes:
        settings: the ROTATOR_* variables (rotator.config.env); read on first use.
        environ: where credentials are looked up by the names portfolio.yaml gives; read on
            first use (the demo's replay server starts then: it serves what these point at).
        clock: the run's one clock: wall time (frozen by --now in tests and simulations),
            monotonic time and waits, handed down to every adapter that needs time.
        db_url: the database this session reads and writes.
        demo: a demo session (for messages that tell the user how to repeat a command).
        rules_as_of: the rules' evaluation day when the command is given none (demo: the end
            of its bundled history); None means today.
        market_cache: folder for cached exchange markets (None for the demo, whose server
            moves to a new port every run).
        deliver: whether reports are delivered (never for the demo).
        config_path: the portfolio file (None for the demo's bundled one).
        db_origin: where `db_url` came from, for messages: "--db", "ROTATOR_DB_URL", or None
            for the default file.
    """

    clock: Clock
    db_url: str
    demo: bool
    rules_as_of: date | None
    market_cache: Path | None
    deliver: bool
    config_path: Path | None
    _settings: Callable[[], Settings]
    _environ: Callable[[], Mapping[str, str]]
    _portfolio: Callable[[], Portfolio]
    _declared: Callable[[], Portfolio]
    _engine: Callable[[str], Engine]
    _signals_ruleset: Callable[[Path | None], tuple[RuleSet, str]]
    _plan_ruleset: Callable[[Path | None], tuple[RuleSet, str]] | None = None
    db_origin: str | None = None
    _opened: dict[str, object] = field(default_factory=dict)

    @property
    def settings(self) -> Settings:
        if "settings" not in self._opened:
            self._opened["settings"] = self._settings()
        return self._opened["settings"]  # type: ignore[return-value]

    @property
    def environ(self) -> Mapping[str, str]:
        if "environ" not in self._opened:
            self._opened["environ"] = self._environ()
        return self._opened["environ"]  # type: ignore[return-value]

    @property
    def portfolio(self) -> Portfolio:
        if "portfolio" not in self._opened:
            self._opened["portfolio"] = self._portfolio()
        return self._opened["portfolio"]  # type: ignore[return-value]

    def declared(self) -> Portfolio:
        """The portfolio as its file declares it: the same as `portfolio` for the user's; for
        the demo its bundled file, read without starting the replay server (nor importing ccxt
        to point the accounts at it). For what needs no server address: the rebalance policy,
        the variable names."""
        return self._declared()

    def policy(self) -> RebalancePolicy:
        """The portfolio's rebalance policy (the demo's own without starting its server)."""
        return self.declared().policy()

    def engine(self) -> Engine:
        """The session's database, opened (created and migrated when needed) on first use. A
        SQLite file --db / ROTATOR_DB_URL names goes only into an existing folder (else a
        ConfigError, exit 2: a mistyped folder); the default file's folder is created."""
        if "engine" not in self._opened:
            check_db_folder(self.db_url, self.db_origin)
            self._opened["engine"] = self._engine(self.db_url)
        return self._opened["engine"]  # type: ignore[return-value]

    def existing_engine(self, *, missing_file_ok: bool = False) -> Engine | None:
        """The session's database for commands that only read it (`history`, `--no-save`):
        never created, nothing written to it (no migration lock either) unless its schema is
        older than this rotator's. None when there is nothing stored yet: the default database
        does not exist, or the database has no table; a mistyped --db / ROTATOR_DB_URL path
        is a ConfigError (exit 2). `missing_file_ok`: a file they name in an existing folder
        is None too (`plan` and `signals` read no history from it and say so); a missing
        folder is still exit 2. The demo's is its own (`engine`)."""
        if self.demo:
            return self.engine()
        if "engine" not in self._opened:
            engine = existing_store(self.db_url, self.db_origin, missing_file_ok=missing_file_ok)
            if engine is None:
                return None
            self._opened["engine"] = engine
        return self._opened["engine"]  # type: ignore[return-value]

    def ruleset(self, rules_path: Path | None) -> tuple[RuleSet, str]:
        """The rule set `backtest` / `history fetch` use, and where it came from."""
        return self._signals_ruleset(rules_path)

    def plan_ruleset(self, rules_path: Path | None) -> tuple[RuleSet, str]:
        """The rule set whose regime `plan` puts in force (what `signals` evaluates): --rules,
        else the portfolio's. The demo's is its portfolio's cycle_revenue.yaml, so a regime
        name means the same in `signals --demo` and `plan --demo`."""
        return (self._plan_ruleset or self._signals_ruleset)(rules_path)

    def close(self) -> None:
        """Release the database connections (the session's factory calls this at its end)."""
        engine = self._opened.pop("engine", None)
        if engine is not None:
            engine.dispose()  # type: ignore[attr-defined]

    def now(self) -> datetime:
        return self.clock.now()

    @property
    def db_hint(self) -> str:
        """How to point a follow-up command at this session's database."""
        if self.demo and self.db_origin is None:
            return " --demo"
        return "" if self.db_origin != "--db" else f" --db {self.db_url}"

    @property
    def dates_note(self) -> str | None:
        """For the demo, the one line saying which dates it mixes; None for a real session."""
        if not self.demo:
            return None
        return (
            f"demo: holdings and prices as recorded for late November 2025, served stamped with "
            f"the run time {self.now():%Y-%m-%d %H:%M} UTC (as is the revenue screen's data); "
            f"rules on the bundled 2013-2021 history as of {self.rules_as_of}"
        )

    @property
    def has_portfolio(self) -> bool:
        """Whether there is a portfolio to read (the demo's, or portfolio.yaml exists)."""
        return self.demo or (self.config_path is not None and self.config_path.exists())

    @property
    def reports_dir(self) -> Path:
        """Where reports go: reports.directory of portfolio.yaml, else <data dir>/reports."""
        if self.demo:
            return self.settings.data_dir / "demo-reports"
        if not self.has_portfolio:
            return self.settings.data_dir / "reports"
        directory = self.portfolio.reports.directory
        if directory is None:
            return self.settings.data_dir / "reports"
        directory = directory.expanduser()
        if not directory.is_absolute() and self.config_path is not None:
            directory = self.config_path.resolve().parent / directory
        return directory


def _database(db_url: str | None, settings: Settings) -> tuple[str, str | None]:
    """The database URL (--db, else ROTATOR_DB_URL, else the default file) and its origin,
    checked before anything is opened: a bad value is a ConfigError naming the option."""
    if db_url:
        return check_db_url(db_url, "--db"), "--db"
    if settings.db_url_set:
        return check_db_url(settings.db_url_set, "ROTATOR_DB_URL"), "ROTATOR_DB_URL"
    return settings.db_url, None


def choose_ruleset(
    rules_path: Path | None, config_path: Path | None, settings: Settings
) -> tuple[RuleSet, str]:
    """`--rules FILE` wins; then the `rules:` of portfolio.yaml (--config or the default path);
    without either, the shipped default rule set (cycle.yaml)."""
    if rules_path is not None:
        chosen = load_ruleset(rules_path)
        return chosen, f"rule set {ruleset_label(chosen.name)}"
    path = config_path or settings.config_path
    if config_path is not None or path.exists():
        portfolio = load_portfolio(path)
        ruleset = load_portfolio_ruleset(portfolio)
        if ruleset is not None:
            return ruleset, f"rule set {ruleset_label(ruleset.name)} (from {path})"
        note = f"{path} names no rule set (`rules:`): using the shipped {DEFAULT_RULESET}"
    else:
        note = f"no {path}: using the shipped {DEFAULT_RULESET}"
    return load_ruleset(shipped_ruleset(DEFAULT_RULESET)), note


@contextmanager
def user_session(
    *,
    config_path: Path | None = None,
    db_url: str | None = None,
    now_text: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Iterator[Session]:
    """A session on the user's portfolio.yaml, environment and database."""
    env = dict(os.environ if environ is None else environ)
    settings = read_settings(env)
    path = config_path or settings.config_path
    url, origin = _database(db_url, settings)
    session = Session(
        clock=session_clock(now_text),
        db_url=url,
        db_origin=origin,
        demo=False,
        rules_as_of=None,
        market_cache=settings.market_cache,
        deliver=True,
        config_path=path,
        _settings=lambda: settings,
        _environ=lambda: env,
        _portfolio=lambda: load_portfolio(path),
        _declared=lambda: session.portfolio,
        _engine=open_store,
        _signals_ruleset=lambda rules: choose_ruleset(rules, config_path, settings),
    )
    try:
        yield session
    finally:
        session.close()


def demo_ruleset(rules_path: Path | None) -> tuple[RuleSet, str]:
    """The demo's rule set for `backtest`: --rules, else the shipped cycle.yaml (the demo
    plan's cycle_revenue.yaml rotates into the revenue screen, which has no history to replay)."""
    ruleset = load_ruleset(rules_path or shipped_ruleset(DEFAULT_RULESET))
    return ruleset, f"demo: bundled 2013-2021 history, rule set {ruleset_label(ruleset.name)}"


def demo_plan_ruleset(rules_path: Path | None) -> tuple[RuleSet, str]:
    """The demo's rule set for `signals`: --rules, else the one `plan --demo` uses."""
    if rules_path is not None:
        ruleset = load_ruleset(rules_path)
    else:
        found = load_portfolio_ruleset(load_portfolio(DEMO_PORTFOLIO))
        assert found is not None  # the demo portfolio names its rule set
        ruleset = found
    return ruleset, (
        f"demo: rule set {ruleset_label(ruleset.name)} (the one `plan --demo` uses), evaluated on "
        f"the bundled 2013-2021 history as of {DEMO_AS_OF}"
    )


@contextmanager
def demo_session(
    *, db_url: str | None = None, now_text: str | None = None, no_save: bool = False
) -> Iterator[Session]:
    """A session on the bundled demo (see the module docstring).

    The replay server starts when the session's portfolio, environ or settings are first read
    (`backtest --demo` needs only the database and never starts it). It runs on the session's
    clock, so the tickers it serves are stamped with the run's time (a fixed --now included).

    The database is --db when given, else the demo's own file: never ROTATOR_DB_URL (the
    user's database gets none of the demo's history or runs). With `no_save` it is only read,
    when it holds the bundled history already; else the history goes into a scratch file
    removed at the end (`demo_engine_unsaved`): nothing is written anywhere that outlives the
    command."""
    clock = session_clock(now_text)
    # The database settings come from the user's environment alone (not from the server).
    base = read_settings(dict(os.environ))
    with ExitStack() as stack:
        served: dict[str, object] = {}
        if db_url:
            url, origin = check_db_url(db_url, "--db"), "--db"
        else:
            url, origin = base.demo_db_url, None

        def scratch() -> str:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            return f"sqlite:///{folder / 'demo.sqlite3'}"

        def engine(url: str) -> Engine:
            if no_save:
                return demo_engine_unsaved(url, origin, clock.now(), scratch)
            return demo_engine(url, clock.now())

        def serve() -> dict[str, object]:
            if not served:
                server = stack.enter_context(demo_server(clock.now))
                served["server"] = server
                # The revenue screen's DefiLlama/CoinGecko data, served by the same server.
                urls = mount_screen(server)
                # Dummy keys only: the demo never sees the user's credentials. Its settings
                # are the user's locations (data dir, cache dir) with the sources pointed at
                # the local server.
                served["environ"] = {**DEMO_ENVIRON, **urls}
                served["settings"] = read_settings({**os.environ, **urls})
            return served

        def portfolio() -> Portfolio:
            # Pointing the exchange accounts at the server asks ccxt for each exchange's API
            # layout: only a command that reads the portfolio's accounts gets here.
            if "portfolio" not in served:
                server: ReplayServer = serve()["server"]  # type: ignore[assignment]
                pointed = point_at(load_portfolio(DEMO_PORTFOLIO), server)
                # On-chain wallets (Esplora, Ethereum JSON-RPC) and the oracle, likewise.
                served["portfolio"] = point_at_chains(pointed, mount_chains(server))
            return served["portfolio"]  # type: ignore[return-value]

        session = Session(
            clock=clock,
            # --db, else the demo's own file: the bundled history is loaded into it.
            db_url=url,
            db_origin=origin,
            demo=True,
            rules_as_of=DEMO_AS_OF,
            market_cache=None,
            deliver=False,
            config_path=None,
            _settings=lambda: serve()["settings"],  # type: ignore[return-value,arg-type]
            _environ=lambda: serve()["environ"],  # type: ignore[return-value,arg-type]
            _portfolio=portfolio,
            _declared=lambda: load_portfolio(DEMO_PORTFOLIO),
            _engine=engine,
            _signals_ruleset=demo_ruleset,
            _plan_ruleset=demo_plan_ruleset,
        )
        try:
            yield session
        finally:
            session.close()


@contextmanager
def open_session(
    *,
    demo: bool = False,
    config_path: Path | None = None,
    db_url: str | None = None,
    now_text: str | None = None,
    no_save: bool = False,
) -> Iterator[Session]:
    """The session a command runs in: the demo's or the user's (the only `--demo` branch).

    `no_save`: the command stores nothing (the demo then keeps its history out of the data
    dir unless its own file is there already)."""
    if demo:
        factory = demo_session(db_url=db_url, now_text=now_text, no_save=no_save)
    else:
        factory = user_session(config_path=config_path, db_url=db_url, now_text=now_text)
    with factory as session:
        yield session
