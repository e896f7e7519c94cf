"""`rotator backtest --sweep FILE`: run the grid, print the ranked table (rotator.reports)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rotator.cli.output import echo
from rotator.config.sweep import load_sweep
from rotator.errors import ConfigError
from rotator.pipeline.sweep import (
    apply_point,
    check_dask_address,
    rank,
    run_dask,
    run_local,
    scrub_environment,
)
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
    history: dict[str, pd.Series],
    settings: BacktestSettings,
    *,
    split: date | None,
    workers: int | None,
    dask_address: str | None,
    output_format: str,
    note: str,
    trust_cluster: bool = False,
    secret_names: tuple[str, ...] = (),
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
        check_dask_address(dask_address, trust=trust_cluster)  # before any other work
        # The cluster runs code in this process: nothing secret may be left for it to read.
        scrub_environment(secret_names)
        rows = run_dask(
            ruleset, history, settings, points, address=dask_address, split=split,
            trust=trust_cluster,
        )  # fmt: skip
    else:
        rows = run_local(
            ruleset, history, settings, points, split=split, workers=workers,
            secret_names=secret_names,
        )  # fmt: skip
    ranked = rank(rows, sweep.rank_by)
    warning = OVERFIT if split is not None else NO_SPLIT
    if output_format == "json":
        echo(json.dumps(sweep_json(ranked, settings, split, sweep.rank_by), indent=2))
        echo(warning, err=True)
        return
    render_sweep(ranked, settings, split, sweep.rank_by, note)
    echo(warning)
