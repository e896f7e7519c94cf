"""How sure is a backtest: the block bootstrap of a replay and walk-forward over a sweep.

`assess` resamples the daily returns of the rule set and of the `hodl_btc` and `static`
benchmarks jointly (rotator.core.backtest.bootstrap) for `robustness.block_bootstrap`.
`walk_forward_sweep` picks the best grid point on each training window and stitches the
following test windows, and `deflate_best` deflates the best point's Sharpe ratio for the
number of points tried (rotator.core.backtest.walkforward).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from rotator.core.backtest.bootstrap import BlockBootstrap, block_bootstrap
from rotator.core.backtest.metrics import performance
from rotator.core.backtest.walkforward import (
    DeflatedSharpe,
    Fold,
    deflated_sharpe,
    per_day_sharpe,
    stitch,
    walk_forward,
    walk_forward_folds,
)

if TYPE_CHECKING:
    from rotator.core.backtest.results import BacktestResult, BacktestSettings
    from rotator.pipeline.sweep import SweepRow

BOOTSTRAP_AGAINST = ("hodl_btc", "static")
WALK_FORWARD_SHOWN = (
    "total_return",
    "cagr",
    "volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "calmar",
)


def assess(
    result: BacktestResult, *, block_days: int, samples: int, seed: int
) -> BlockBootstrap | None:
    """The block bootstrap of the rule set's excess CAGR over `hodl_btc` and `static`
    (None when the window has fewer than two daily returns)."""
    if len(result.main.days) < 3:
        return None
    benchmarks = {
        name: result.benchmarks[name].equity().to_numpy()
        for name in BOOTSTRAP_AGAINST
        if name in result.benchmarks
    }
    return block_bootstrap(
        result.main.equity().to_numpy(),
        benchmarks,
        block_days=block_days,
        samples=samples,
        seed=seed,
    )


def robustness_json(bootstrap: BlockBootstrap | None) -> dict[str, Any]:
    """`robustness`: `block_bootstrap` with its settings and one interval per benchmark."""
    if bootstrap is None:
        return {"block_bootstrap": None}
    out: dict[str, Any] = {"block_days": bootstrap.block_days, "samples": bootstrap.samples}
    for name, interval in bootstrap.excess_cagr.items():
        out[f"excess_cagr_vs_{name}"] = {
            "estimate": round(interval.estimate, 6),
            "ci95_low": round(interval.ci95_low, 6),
            "ci95_high": round(interval.ci95_high, 6),
            "p_positive": round(interval.p_positive, 6),
        }
    return {"block_bootstrap": out}


def with_robustness(report: Mapping[str, Any], bootstrap: BlockBootstrap | None) -> dict[str, Any]:
    """The backtest JSON with `robustness` placed before the (long) `equity` list."""
    out = {k: v for k, v in report.items() if k != "equity"}
    out["robustness"] = robustness_json(bootstrap)
    out["equity"] = report["equity"]
    return out


@dataclass(frozen=True, slots=True)
class WalkForward:
    """The chosen point per fold and the stitched out-of-sample metrics."""

    train_days: int
    test_days: int
    folds: tuple[tuple[Fold, Mapping[str, Any], float | None], ...]
    out_of_sample: Mapping[str, Any]
    days: tuple[date, ...]
    equity: tuple[float, ...]


def _days(settings: BacktestSettings) -> list[date]:
    count = (settings.end - settings.start).days + 1
    return [settings.start + timedelta(days=i) for i in range(count)]


def _series(days: Sequence[date], values: Sequence[float]) -> Any:
    import pandas as pd

    return pd.Series(list(values), index=pd.DatetimeIndex(list(days)), dtype=float)


def walk_forward_sweep(
    rows: Sequence[SweepRow],
    settings: BacktestSettings,
    rank_by: str,
    train_days: int,
    test_days: int,
) -> WalkForward:
    """Best point (by `rank_by` on each training window) per fold, test windows stitched.

    Raises:
        ValueError: the replay window is too short for one fold.
    """
    days = _days(settings)
    folds = walk_forward_folds(settings.start, settings.end, train_days, test_days)
    equities = [r.equity for r in rows]

    def score(window: Sequence[date], values: Sequence[float]) -> float | None:
        value = performance(_series(window, values))[rank_by]
        return None if value is None else float(value)

    chosen = walk_forward(days, equities, folds, score)
    out_days, values = stitch(
        days, equities, [(f, i) for f, i, _ in chosen], float(settings.start_value)
    )
    metrics = performance(_series(out_days, values))
    return WalkForward(
        train_days,
        test_days,
        tuple((f, rows[i].point, s) for f, i, s in chosen),
        {k: metrics[k] for k in WALK_FORWARD_SHOWN},
        tuple(out_days),
        tuple(values),
    )


def deflate_best(rows: Sequence[SweepRow], ranked_days: int | None = None) -> DeflatedSharpe | None:
    """The deflated Sharpe ratio of the first (best-ranked) row among all rows tried, on the
    days the ranking used (the first `ranked_days`, else all; None when they do not vary)."""
    cut = slice(None) if ranked_days is None else slice(0, ranked_days)
    if not rows or len(rows[0].equity[cut]) < 4:
        return None
    sharpes = [per_day_sharpe(r.equity[cut]) for r in rows]
    try:
        return deflated_sharpe(rows[0].equity[cut], sharpes)
    except ValueError:
        return None


def walk_forward_json(wf: WalkForward | None) -> dict[str, Any] | None:
    if wf is None:
        return None
    return {
        "train_days": wf.train_days,
        "test_days": wf.test_days,
        "folds": [
            {
                "train_from": f.train_from.isoformat(),
                "train_to": f.train_to.isoformat(),
                "test_from": f.test_from.isoformat(),
                "test_to": f.test_to.isoformat(),
                "params": dict(point),
                "train_score": None if score is None else round(score, 6),
            }
            for f, point, score in wf.folds
        ],
        "out_of_sample": {
            "from": wf.days[1].isoformat(),
            "to": wf.days[-1].isoformat(),
            **{k: None if v is None else round(float(v), 6) for k, v in wf.out_of_sample.items()},
        },
    }


def deflated_json(ds: DeflatedSharpe | None, point: Mapping[str, Any] | None) -> Any:
    if ds is None:
        return None
    return {
        "params": None if point is None else dict(point),
        "sharpe": round(ds.sharpe_annualised, 6),
        "sharpe_per_day": round(ds.sharpe, 6),
        "trials": ds.trials,
        "sharpe_variance_per_day": round(ds.sharpe_variance, 9),
        "skew": round(ds.skew, 6),
        "kurtosis": round(ds.kurtosis, 6),
        "observations": ds.observations,
        "expected_max_sharpe_per_day": round(ds.expected_max_sharpe, 6),
        "deflated_sharpe": round(ds.deflated_sharpe, 6),
    }
