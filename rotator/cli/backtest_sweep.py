"""`rotator backtest --sweep FILE`: run the grid, print the ranked table (rotator.reports)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from rotator.cli.progress import show_progress
from rotator.config.sweep import load_sweep
from rotator.errors import ConfigError
from rotator.pipeline.sweep import apply_point, rank, run_dask, run_local
from rotator.reports.backtest_table import render_sweep, sweep_json

if TYPE_CHECKING:
    import pandas as pd

    from rotator.core.backtest.results import BacktestSettings
    from rotator.core.rules.engine import RuleSet

OVERFIT = (
    "warning: the in-sample ranking overfits: the best parameters are chosen on the same data "
    "they are scored on; judge them by the out-of-sample columns"
)
NO_SPLIT = (
    "warning: ranked on the whole period: the best parameters are chosen on the data they are "
    "scored on, so this ranking overfits; use --split DATE for an out-of-sample check"
)


def run_sweep_command(
    sweep_path: Path,
    ruleset: RuleSet,
    history: dict[str, pd.Series],
    settings: BacktestSettings,
    *,
    split: date | None,
    workers: int | None,
    dask_address: str | None,
    output_format: str,
    note: str,
    quiet: bool = False,
) -> None:
    sweep = load_sweep(sweep_path)
    points = sweep.points()
    for point in points:  # every point valid before any work starts (exit 2 otherwise)
        try:
            apply_point(ruleset, point)
        except ConfigError as exc:
            raise ConfigError(f"{sweep_path}: grid: {exc}") from None
    if split is not None and not settings.start < split <= settings.end:
        raise ConfigError(f"--split {split}: must fall after --from {settings.start} and by --to")
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers: expected at least 1, got {workers}")
    if dask_address:
        rows = run_dask(ruleset, history, settings, points, address=dask_address, split=split)
    else:
        with show_progress(quiet) as progress:
            advance = progress.step(f"sweep of {len(points)} points", len(points))
            rows = run_local(
                ruleset, history, settings, points, split=split, workers=workers, advance=advance
            )
    ranked = rank(rows, sweep.rank_by)
    warning = OVERFIT if split is not None else NO_SPLIT
    if output_format == "json":
        click.echo(json.dumps(sweep_json(ranked, settings, split, sweep.rank_by), indent=2))
        click.echo(warning, err=True)
        return
    render_sweep(ranked, settings, split, sweep.rank_by, note)
    click.echo(warning)
