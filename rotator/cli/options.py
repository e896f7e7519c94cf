"""Options and helpers shared by the commands that evaluate rules or touch the market store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from rotator.errors import ConfigError

if TYPE_CHECKING:
    from rotator.core.rules.engine import RuleSet

DEFAULT_RULESET = "cycle.yaml"


def parse_as_of(value: str | None) -> date | None:
    """`--as-of 2021-01-07` -> date (a bad value is a usage error, exit 2)."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--as-of: expected a date like 2021-01-07, got {value!r}") from None


def parse_now(value: str) -> datetime:
    """`--now 2025-11-24T07:00` -> an aware UTC datetime (naive input is taken as UTC)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--now: expected an ISO date-time, got {value!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def fixed_clock(value: str) -> Callable[[], datetime]:
    """A clock frozen at `--now` (simulations and tests move the clock this way)."""
    moment = parse_now(value)
    return lambda: moment


def today_utc() -> date:
    return datetime.now(UTC).date()


def config_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--config PATH` (portfolio.yaml), passed as `config_path`; `help_text` says its use here."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help=help_text,
    )


def rules_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--rules FILE` (a rule-set file instead of the portfolio's), passed as `rules_path`."""
    return click.option(
        "--rules",
        "rules_path",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help=help_text,
    )


def db_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """`--db URL`: the SQLAlchemy URL of the store (default $ROTATOR_DB_URL or the data dir)."""
    return click.option(
        "--db",
        "db_url",
        default=None,
        metavar="URL",
        help="Database URL (default: $ROTATOR_DB_URL, else a SQLite file in the data dir).",
    )(func)


def choose_ruleset(rules_path: Path | None, config_path: Path | None) -> tuple[RuleSet, str]:
    """The rule set to evaluate and a note saying where it came from.

    `--rules FILE` wins; then the `rules:` of portfolio.yaml (--config or the default path);
    without either, the shipped default rule set (cycle.yaml).
    """
    from rotator.config.portfolio import default_config_path, load_portfolio
    from rotator.config.ruleset import load_ruleset, shipped_ruleset
    from rotator.pipeline.rules import load_portfolio_ruleset

    if rules_path is not None:
        return load_ruleset(rules_path), f"rule set {rules_path}"
    path = config_path or default_config_path()
    if config_path is not None or path.exists():
        portfolio = load_portfolio(path)
        ruleset = load_portfolio_ruleset(portfolio)
        if ruleset is not None:
            return ruleset, f"rule set {ruleset.name} (from {path})"
        note = f"{path} names no rule set (`rules:`): using the shipped {DEFAULT_RULESET}"
    else:
        note = f"no {path}: using the shipped {DEFAULT_RULESET}"
    return load_ruleset(shipped_ruleset(DEFAULT_RULESET)), note
