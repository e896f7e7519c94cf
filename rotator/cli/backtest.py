"""`rotator backtest`: what following the rule set would have done, day by day."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from rotator.cli.options import config_option, db_option, rules_option
from rotator.errors import ConfigError

if TYPE_CHECKING:
    from rotator.core.models import RebalancePolicy
    from rotator.core.rules.engine import RuleSet


def _day(flag: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{flag}: expected a date like 2021-01-07, got {value!r}") from None


def _number(flag: str, value: str, *, low: Decimal, high: Decimal | None = None) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or number < low or (high is not None and number > high):
        limit = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ConfigError(f"{flag}: expected a number {limit}, got {value!r}")
    return number


@click.command()
@config_option("portfolio.yaml whose rule set and rebalance policy to replay.")
@rules_option("Replay this rule-set file instead of the portfolio's.")
@click.option("--from", "start", metavar="DATE", help="First day (default: first stored close).")
@click.option("--to", "end", metavar="DATE", help="Last day (default: last stored close).")
@click.option("--every", default=1, show_default=True, help="Decide every N days.")
@click.option("--start-value", default="10000", show_default=True, help="Starting cash (USD).")
@click.option("--fee-rate", default="0.001", show_default=True, help="Fee rate per trade.")
@click.option("--slippage-bps", default="10", show_default=True, help="Slippage, basis points.")
@click.option(
    "--benchmark",
    "benchmarks",
    multiple=True,
    metavar="'BTC=0.6,ETH=0.4'",
    help="Extra static-weight benchmark (repeatable); hodl_btc and static always run.",
)
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=None)
@click.option("--sweep", "sweep_path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--split", "split", metavar="DATE", help="Sweep: out-of-sample from DATE on.")
@click.option("--workers", type=int, default=None, help="Sweep: local processes (default: all).")
@click.option("--dask", "dask_address", metavar="ADDRESS", help="Sweep: Dask scheduler address.")
@click.option("--demo", is_flag=True, help="Use the bundled 2013-2021 history (offline).")
@db_option
def backtest(
    config_path: Path | None,
    rules_path: Path | None,
    start: str | None,
    end: str | None,
    every: int,
    start_value: str,
    fee_rate: str,
    slippage_bps: str,
    benchmarks: tuple[str, ...],
    output_format: str,
    out_dir: Path | None,
    sweep_path: Path | None,
    split: str | None,
    workers: int | None,
    dask_address: str | None,
    demo: bool,
    db_url: str | None,
) -> None:
    """Replay the rule set day by day over the stored market history.

    Decisions on day D use data up to D's close and trade at D+1's close on a simulated venue
    (every asset with a stored close trades against USD at that close ± slippage, with the fee
    rate), through the same rule engine and planner as `rotator plan`.
    """
    from rotator.pipeline.backtest import (
        BacktestSettings,
        default_window,
        history_span,
        load_backtest_history,
        replay,
    )

    if every < 1:
        raise ConfigError(f"--every: expected at least 1 day, got {every}")
    ruleset, policy, engine, note = _session(config_path, rules_path, demo, db_url)
    first, last = _day("--from", start), _day("--to", end)
    history = load_backtest_history(engine, ruleset, last or date.today(), benchmarks)
    span = history_span(history)
    if span is None:
        from rotator.pipeline.backtest import MissingHistory

        raise MissingHistory(
            "no BTC closes in the market history: fill it with `rotator history fetch` or "
            "`rotator history import` (or try --demo)"
        )
    window = default_window(span, first, last)
    settings = BacktestSettings(
        start=window[0],
        end=window[1],
        every=every,
        start_value=_number("--start-value", start_value, low=Decimal(1)),
        fee_rate=_number("--fee-rate", fee_rate, low=Decimal(0), high=Decimal("0.1")),
        slippage_bps=_number("--slippage-bps", slippage_bps, low=Decimal(0), high=Decimal(1000)),
        policy=policy,
    )
    if sweep_path is not None:
        from rotator.cli.backtest_sweep import run_sweep_command

        run_sweep_command(
            sweep_path,
            ruleset,
            history,
            settings,
            split=_day("--split", split),
            workers=workers,
            dask_address=dask_address,
            output_format=output_format,
            note=note,
        )
        return
    result = replay(ruleset, history, settings, benchmarks)
    from rotator.pipeline.backtest import as_json

    report = as_json(result)
    written = None
    if out_dir is not None:
        from rotator.reports.backtest import write_backtest_report

        written = write_backtest_report(result, report, out_dir)
    if output_format == "json":
        click.echo(json.dumps(report, indent=2))
        for line in result.main.notes:
            click.echo(f"note: {line}", err=True)
    else:
        render_backtest(report, note, result.main.notes)
    if written is not None:
        click.echo(f"report written to {written}", err=output_format == "json")


def _session(
    config_path: Path | None, rules_path: Path | None, demo: bool, db_url: str | None
) -> tuple[RuleSet, RebalancePolicy, Any, str]:
    """The rule set, rebalance policy, market store and a note saying where they came from."""
    from rotator.adapters.storage.db import open_engine
    from rotator.cli.options import choose_ruleset
    from rotator.config.portfolio import default_config_path, load_portfolio
    from rotator.config.ruleset import load_ruleset, shipped_ruleset
    from rotator.core.models import RebalancePolicy

    if demo:
        from rotator.demo import PORTFOLIO
        from rotator.demo.history import demo_engine

        ruleset = load_ruleset(rules_path or shipped_ruleset("cycle.yaml"))
        policy = load_portfolio(PORTFOLIO).policy()
        note = f"demo: bundled 2013-2021 history, rule set {ruleset.name}, demo rebalance policy"
        return ruleset, policy, demo_engine(), note
    ruleset, note = choose_ruleset(rules_path, config_path)
    path = config_path or default_config_path()
    policy = (
        load_portfolio(path).policy()
        if config_path is not None or path.exists()
        else RebalancePolicy()
    )
    return ruleset, policy, open_engine(db_url), note


def _pct(value: Any) -> str:
    return "-" if value is None else f"{value:+.1%}"


def _num(value: Any) -> str:
    return "-" if value is None else f"{value:.2f}"


ROWS: tuple[tuple[str, str, Any], ...] = (
    ("total return", "total_return", _pct),
    ("CAGR", "cagr", _pct),
    ("volatility", "volatility", lambda v: f"{v:.1%}"),
    ("Sharpe", "sharpe", _num),
    ("Sortino", "sortino", _num),
    ("max drawdown", "max_drawdown", _pct),
    ("Calmar", "calmar", _num),
    ("days under water", "time_under_water_days", str),
    ("turnover", "turnover", lambda v: f"{v:.1f}×"),
    ("fees (USD)", "fees", lambda v: f"{v:,.0f}"),
    ("trades", "trades", str),
    ("regime switches", "regime_switches", str),
)


def render_backtest(report: dict[str, Any], note: str, notes: tuple[str, ...]) -> None:
    """The metrics table (rule set and benchmarks side by side), then the regime periods."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"[dim]{note}[/dim]")
    table = Table(
        title=f"Backtest {report['from']} .. {report['to']}, start {report['start_value']:,.0f} USD"
    )
    names = ["rule set", *report["benchmarks"]]
    columns = [report["metrics"], *report["benchmarks"].values()]
    table.add_column("metric")
    for name in names:
        table.add_column(name, justify="right")
    for label, key, fmt in ROWS:
        table.add_row(label, *(fmt(c[key]) for c in columns))
    console.print(table)
    console.print(
        "[dim]annualised over 365 days; decisions on day D use data up to D's close and trade "
        "at D+1's close[/dim]"
    )
    days = report["metrics"]["days_in_regime"]
    console.print("days in regime: " + ", ".join(f"{r} {n}" for r, n in days.items()))
    periods = Table(title="Regimes", show_lines=False)
    for column in ("regime", "from", "to", "why"):
        periods.add_column(column, overflow="fold")
    for p in report["regimes"]:
        periods.add_row(p["regime"], p["from"], p["to"], p["reason"])
    console.print(periods)
    for line in notes:
        console.print(f"note: {line}", highlight=False, markup=False)
