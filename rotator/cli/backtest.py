"""`rotator backtest`: what following the rule set would have done, day by day."""

from __future__ import annotations

from datetime import UTC, date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click

from rotator.cli.backtest_sweep import config_env_names, run_sweep_command
from rotator.cli.options import (
    config_option,
    db_option,
    demo_option,
    format_option,
    out_option,
    quiet_option,
    rules_option,
)
from rotator.cli.output import echo
from rotator.cli.progress import show_progress
from rotator.cli.session import open_session
from rotator.config.paths import ruleset_label
from rotator.core.models import RebalancePolicy
from rotator.errors import ConfigError
from rotator.pipeline.backtest import (
    BacktestSettings,
    MissingHistory,
    as_json,
    default_window,
    history_span,
    load_backtest_datasets,
    load_backtest_history,
    replay,
)
from rotator.pipeline.robustness import assess, with_robustness
from rotator.reports.backtest import write_backtest_report
from rotator.reports.backtest_table import render_backtest
from rotator.reports.json_document import render_document


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


def _walk_forward(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    train, sep, test = value.partition(":")
    if sep and train.isdigit() and test.isdigit() and int(train) >= 2 and int(test) >= 1:
        return int(train), int(test)
    raise ConfigError(
        f"--walk-forward: expected TRAIN_DAYS:TEST_DAYS (whole days, training at least 2), "
        f"e.g. 365:90, got {value!r}"
    )


@click.command()
@config_option
@rules_option
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
@format_option("table", "json")
@out_option
@click.option("--sweep", "sweep_path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--split", "split", metavar="DATE", help="Sweep: out-of-sample from DATE on.")
@click.option("--workers", type=int, default=None, help="Sweep: local processes (default: all).")
@click.option(
    "--dask",
    "dask_address",
    metavar="ADDRESS",
    help="Sweep: Dask scheduler address (loopback, or tls:// elsewhere; see --trust-cluster).",
)
@click.option(
    "--trust-cluster",
    is_flag=True,
    help="Sweep: allow a --dask scheduler on another machine without TLS. A Dask cluster runs "
    "code inside rotator's process (results come back pickled): pass this only for a cluster "
    "you control on a network you trust.",
)
@click.option(
    "--walk-forward",
    "walk_forward",
    metavar="TRAIN_DAYS:TEST_DAYS",
    help="Sweep: pick the best point on each training window, report the test windows.",
)
@click.option(
    "--bootstrap-samples",
    default=1000,
    show_default=True,
    help="Block bootstrap: resampled histories (100 to 100,000).",
)
@click.option(
    "--block-days",
    default=30,
    show_default=True,
    help="Block bootstrap: mean block length in days (stationary bootstrap).",
)
@click.option("--seed", default=1, show_default=True, help="Block bootstrap: random seed.")
@demo_option
@db_option
@quiet_option
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
    trust_cluster: bool,
    walk_forward: str | None,
    bootstrap_samples: int,
    block_days: int,
    seed: int,
    demo: bool,
    db_url: str | None,
    quiet: bool,
) -> None:
    """Replay the rule set day by day over the stored market history.

    Decisions on day D use data up to D's close and trade at D+1's close on a simulated venue
    (every asset with a stored close trades against USD at that close ± slippage, with the fee
    rate), through the same run stages (rules, regime, planner) as `rotator plan`.
    """
    if every < 1:
        raise ConfigError(f"--every: expected at least 1 day, got {every}")
    if not 100 <= bootstrap_samples <= 100_000:
        raise ConfigError(
            f"--bootstrap-samples: expected a count from 100 to 100000, got {bootstrap_samples}"
        )
    if not 1 <= block_days <= 365:
        raise ConfigError(f"--block-days: expected 1 to 365 days, got {block_days}")
    if not 0 <= seed < 2**32:
        raise ConfigError(f"--seed: expected a whole number from 0 to 4294967295, got {seed}")
    folds = _walk_forward(walk_forward)
    if folds is not None and sweep_path is None:
        raise ConfigError("--walk-forward: only with --sweep FILE (it chooses among grid points)")
    first, last = _day("--from", start), _day("--to", end)
    with open_session(demo=demo, config_path=config_path, db_url=db_url) as s:
        ruleset, note = s.ruleset(rules_path)
        # The portfolio's rebalance policy (the demo's own), else the defaults.
        explicit = config_path is not None or s.has_portfolio
        policy = s.policy() if explicit else RebalancePolicy()
        if s.demo:
            note = f"{note}, demo rebalance policy"
        secret_names = config_env_names(s.declared()) if s.has_portfolio else ()
        day = last or s.now().astimezone(UTC).date()
        datasets = load_backtest_datasets(s.engine(), ruleset, day)
        history = load_backtest_history(s.engine(), ruleset, day, benchmarks, datasets)
    span = history_span(history)
    if span is None:
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
        run_sweep_command(
            sweep_path,
            ruleset,
            history,
            settings,
            split=_day("--split", split),
            workers=workers,
            dask_address=dask_address,
            trust_cluster=trust_cluster,
            secret_names=secret_names,
            walk_forward=folds,
            datasets=datasets,
            output_format=output_format,
            note=note,
            quiet=quiet,
        )
        return
    with show_progress(quiet) as progress:
        result = replay(ruleset, history, settings, benchmarks, datasets, step=progress.step)
    bootstrap = assess(result, block_days=block_days, samples=bootstrap_samples, seed=seed)
    report = with_robustness(as_json(result), bootstrap)
    written = None
    if out_dir is not None:
        label = ruleset_label(ruleset.name)
        written = write_backtest_report(result, report, out_dir, ruleset_label=label)
    # The note, the replay's notes and the report's path are messages: stderr, so stdout is
    # the table or the JSON document alone (docs/output-formats.md).
    echo(note, err=True)
    if output_format == "json":
        echo(render_document(report))
    else:
        render_backtest(report)
    for line in result.main.notes:
        echo(f"note: {line}", err=True)
    if written is not None:
        echo(f"report written to {written}", err=True)
