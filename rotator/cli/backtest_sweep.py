"""`rotator backtest --sweep FILE`: run the grid, print the ranked table."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from rotator.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from rotator.core.rules.engine import RuleSet
    from rotator.pipeline.backtest import BacktestSettings
    from rotator.pipeline.sweep import SweepRow

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
) -> None:
    from rotator.config.sweep import load_sweep
    from rotator.pipeline.sweep import apply_point, rank, run_dask, run_local

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
        rows = run_local(ruleset, history, settings, points, split=split, workers=workers)
    ranked = rank(rows, sweep.rank_by)
    warning = OVERFIT if split is not None else NO_SPLIT
    if output_format == "json":
        click.echo(json.dumps(sweep_json(ranked, settings, split, sweep.rank_by), indent=2))
        click.echo(warning, err=True)
        return
    render_sweep(ranked, settings, split, sweep.rank_by, note)
    click.echo(warning)


def sweep_json(
    rows: list[SweepRow], settings: BacktestSettings, split: date | None, by: str
) -> dict[str, Any]:
    return {
        "from": settings.start.isoformat(),
        "to": settings.end.isoformat(),
        "split": None if split is None else split.isoformat(),
        "rank_by": by,
        "points": [
            {
                "rank": i,
                "params": dict(r.point),
                "in_sample": _round(r.in_sample),
                "out_of_sample": None if r.out_of_sample is None else _round(r.out_of_sample),
            }
            for i, r in enumerate(rows, start=1)
        ],
    }


def _round(metrics: Any) -> dict[str, Any]:
    return {k: round(v, 6) if isinstance(v, float) else v for k, v in metrics.items()}


def _pct(v: Any) -> str:
    return "-" if v is None else f"{v:+.1%}"


def _num(v: Any) -> str:
    return "-" if v is None else f"{v:.2f}"


def render_sweep(
    rows: list[SweepRow], settings: BacktestSettings, split: date | None, by: str, note: str
) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"[dim]{note}[/dim]")
    if split is not None:
        part = f"in-sample {settings.start} .. {split - timedelta(days=1)}"
    else:
        part = f"{settings.start} .. {settings.end}"
    short = _short_names([str(k) for k in rows[0].point]) if rows else {}
    table = Table(title=f"Sweep: {len(rows)} points ranked by {by} ({part})")
    table.add_column("#", justify="right")
    table.add_column("parameters", overflow="fold")
    for label in ("return", "CAGR", "Sharpe", "max DD", "switches"):
        table.add_column(label, justify="right")
    if split is not None:
        for label in ("OOS return", "OOS Sharpe", "OOS max DD"):
            table.add_column(label, justify="right")
    for i, r in enumerate(rows, start=1):
        m = r.in_sample
        cells = [
            str(i),
            " ".join(f"{short[k]}={v}" for k, v in r.point.items()),
            _pct(m["total_return"]),
            _pct(m["cagr"]),
            _num(m["sharpe"]),
            _pct(m["max_drawdown"]),
            str(m["regime_switches"]),
        ]
        if r.out_of_sample is not None:
            o = r.out_of_sample
            cells += [_pct(o["total_return"]), _num(o["sharpe"]), _pct(o["max_drawdown"])]
        table.add_row(*cells)
    console.print(table)


def _short_names(keys: list[str]) -> dict[str, str]:
    """`rule.param` -> `param` where that is unambiguous among the grid's keys."""
    tails = [k.rpartition(".")[2] for k in keys]
    return {k: t if tails.count(t) == 1 else k for k, t in zip(keys, tails, strict=True)}
