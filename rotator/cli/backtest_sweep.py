"""`rotator backtest --sweep FILE`: run the grid, print the ranked table (rotator.reports)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rotator.cli.output import echo
from rotator.cli.progress import show_progress
from rotator.config.sweep import load_sweep
from rotator.core.backtest.walkforward import walk_forward_folds
from rotator.errors import ConfigError
from rotator.pipeline.robustness import (
    deflate_best,
    deflated_json,
    walk_forward_json,
    walk_forward_sweep,
)
from rotator.pipeline.sweep import (
    apply_point,
    check_dask_address,
    rank,
    run_dask,
    run_local,
    scrub_environment,
)
from rotator.reports.backtest_table import render_sweep, sweep_json
from rotator.reports.json_document import render_document
from rotator.reports.robustness import render_sweep_robustness

if TYPE_CHECKING:
    from collections.abc import Mapping

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


def config_env_names(portfolio: Any) -> tuple[str, ...]:
    """Every variable name portfolio.yaml names in a `*_env` field (credentials, secret URLs)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if str(key).endswith("_env") and isinstance(item, str):
                    found.append(item)
                else:
                    walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    walk(portfolio.model_dump())
    return tuple(sorted(set(found)))


def run_sweep_command(
    sweep_path: Path,
    ruleset: RuleSet,
    history: Mapping[str, pd.Series],
    settings: BacktestSettings,
    *,
    split: date | None,
    workers: int | None,
    dask_address: str | None,
    walk_forward: tuple[int, int] | None = None,
    output_format: str,
    note: str,
    trust_cluster: bool = False,
    secret_names: tuple[str, ...] = (),
    quiet: bool = False,
    datasets: Mapping[str, object] | None = None,
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
    if walk_forward is not None:
        try:  # enough days for one fold, before any point runs
            walk_forward_folds(settings.start, settings.end, *walk_forward)
        except ValueError as exc:
            raise ConfigError(f"--walk-forward: {exc}") from None
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers: expected at least 1, got {workers}")
    if dask_address:
        check_dask_address(dask_address, trust=trust_cluster)  # before any other work
        # The cluster runs code in this process: nothing secret may be left for it to read.
        scrub_environment(secret_names)
        rows = run_dask(
            ruleset, history, settings, points, address=dask_address, split=split,
            trust=trust_cluster, datasets=datasets,
        )  # fmt: skip
    else:
        with show_progress(quiet) as progress:
            advance = progress.step(f"sweep of {len(points)} points", len(points))
            rows = run_local(
                ruleset, history, settings, points, split=split, workers=workers,
                advance=advance, secret_names=secret_names, datasets=datasets,
            )  # fmt: skip
    ranked = rank(rows, sweep.rank_by)
    wf = None
    if walk_forward is not None:
        try:
            wf = walk_forward_sweep(ranked, settings, sweep.rank_by, *walk_forward)
        except ValueError as exc:
            raise ConfigError(f"--walk-forward: {exc}") from None
    ranked_days = None if split is None else (split - settings.start).days
    deflated = deflate_best(ranked, ranked_days)
    best = ranked[0].point if ranked else None
    extra = {
        "walk_forward": walk_forward_json(wf),
        "deflated_sharpe": deflated_json(deflated, best),
    }
    warning = OVERFIT if split is not None else NO_SPLIT
    # The note and the warning are messages: stderr, so stdout is the result alone.
    echo(note, err=True)
    if output_format == "json":
        out = sweep_json(ranked, settings, split, sweep.rank_by) | extra
        echo(render_document(out))
    else:
        render_sweep(ranked, settings, split, sweep.rank_by)
        render_sweep_robustness(extra, sweep.rank_by)
    echo(warning, err=True)
