"""Every option shared by commands, each defined once, and the parsers of their values.

A command stacks the decorators it needs (`@config_option`, `@db_option`, `@demo_option`...);
the parameter names they pass (`config_path`, `db_url`, `demo`, `output_format`, `as_of`,
`now_text`, `rules_path`, `no_save`, `quiet`) are the same in every command.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click

from rotator.errors import ConfigError

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


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


config_option: Decorator = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="portfolio.yaml to read (default: ./portfolio.yaml or $ROTATOR_CONFIG).",
)

rules_option: Decorator = click.option(
    "--rules",
    "rules_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="A rule-set file to use instead of the portfolio's `rules:`.",
)

db_option: Decorator = click.option(
    "--db",
    "db_url",
    default=None,
    metavar="URL",
    help=(
        "Database URL (default: $ROTATOR_DB_URL, else a SQLite file in the data dir); a SQLite "
        "file's folder must exist."
    ),
)

demo_option: Decorator = click.option(
    "--demo",
    is_flag=True,
    help="The bundled demo: recorded exchange data and 2013-2021 history, offline, in its own "
    "database (<data dir>/demo.sqlite3) unless --db names one; $ROTATOR_DB_URL is ignored.",
)

as_of_option: Decorator = click.option(
    "--as-of", "as_of", metavar="DATE", help="Evaluate the rules on history as of DATE's close."
)

now_option: Decorator = click.option(
    "--now", "now_text", default=None, hidden=True, help="Clock override (tests, simulations)."
)

no_save_option: Decorator = click.option(
    "--no-save", is_flag=True, help="Write nothing: no database is created or changed."
)

fiscaldata_url_option: Decorator = click.option(
    "--fiscaldata-url",
    "fiscaldata_url",
    default=None,
    metavar="URL",
    help="Treasury Fiscal Data API base URL (buyback operations; no key needed).",
)


out_option: Decorator = click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder for the report files (report: default reports.directory, else "
    "<data dir>/reports; backtest: written only when given).",
)


def format_option(*choices: str) -> Decorator:
    """`--format`, passed as `output_format`: the first choice is the default."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(list(choices)),
        default=choices[0],
        show_default=True,
    )


quiet_option: Decorator = click.option(
    "--quiet",
    "-q",
    is_flag=True,
    help="No progress display on stderr (it is shown only when stderr is a terminal).",
)
