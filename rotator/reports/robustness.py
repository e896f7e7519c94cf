"""How sure is a backtest, in the terminal: the block bootstrap's intervals under the metrics
table, and a sweep's walk-forward folds and deflated Sharpe ratio under its ranked grid."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

VERSUS = (("hodl_btc", "excess_cagr_vs_hodl_btc"), ("static", "excess_cagr_vs_static"))


def _pct(value: Any) -> str:
    return "-" if value is None else f"{value:+.1%}"


def bootstrap_rows(robustness: Mapping[str, Any] | None) -> list[tuple[str, str, str, str]]:
    """(benchmark, excess CAGR, 95 % interval, share of resamples beating it) per benchmark."""
    boot = (robustness or {}).get("block_bootstrap")
    if not boot:
        return []
    rows = []
    for name, key in VERSUS:
        if key in boot:
            x = boot[key]
            rows.append(
                (
                    name,
                    _pct(x["estimate"]),
                    f"{_pct(x['ci95_low'])} .. {_pct(x['ci95_high'])}",
                    f"{x['p_positive']:.0%}",
                )
            )
    return rows


def bootstrap_caption(robustness: Mapping[str, Any] | None) -> str:
    boot = (robustness or {}).get("block_bootstrap")
    if not boot:
        return "block bootstrap: the window is too short to resample"
    return (
        f"stationary block bootstrap of the daily returns, {boot['samples']:,} resampled "
        f"histories, mean block {boot['block_days']} days; rule set and benchmark resampled on "
        "the same days"
    )


def render_robustness(console: Console, robustness: Mapping[str, Any] | None) -> None:
    """The bootstrap table: excess CAGR over each benchmark with its 95 % interval."""
    table = Table(title="How sure: excess CAGR of the rule set")
    for column in ("against", "excess CAGR", "95 % interval", "resamples beating it"):
        table.add_column(column, justify="right" if column != "against" else "left")
    for row in bootstrap_rows(robustness):
        table.add_row(*row)
    console.print(table)
    # Text, not markup: the console may print markup as it is (SafeConsole turns it off).
    console.print(Text(bootstrap_caption(robustness), style="dim"))


def render_sweep_robustness(extra: Mapping[str, Any], rank_by: str) -> None:
    """Walk-forward folds and out-of-sample metrics, then the deflated Sharpe ratio."""
    console = Console()
    wf = extra.get("walk_forward")
    if wf is not None:
        oos = wf["out_of_sample"]
        table = Table(
            title=(
                f"Walk-forward {wf['train_days']}:{wf['test_days']} days, best {rank_by} "
                "on each training window"
            )
        )
        for column in ("test from", "test to", "chosen parameters", f"train {rank_by}"):
            table.add_column(column, overflow="fold")
        keys = list(wf["folds"][0]["params"]) if wf["folds"] else []
        tails = [k.rpartition(".")[2] for k in keys]  # `param` where unambiguous
        short = {k: t if tails.count(t) == 1 else k for k, t in zip(keys, tails, strict=True)}
        for fold in wf["folds"]:
            params = " ".join(f"{short.get(k, k)}={v}" for k, v in fold["params"].items())
            score = fold["train_score"]
            table.add_row(
                fold["test_from"],
                fold["test_to"],
                escape(params),
                "-" if score is None else f"{score:.3f}",
            )
        console.print(table)
        console.print(
            f"out-of-sample, stitched test windows {oos['from']} .. {oos['to']}: "
            f"total return {_pct(oos['total_return'])}, CAGR {_pct(oos['cagr'])}, "
            f"Sharpe {'-' if oos['sharpe'] is None else format(oos['sharpe'], '.2f')}, "
            f"max drawdown {_pct(oos['max_drawdown'])}",
            highlight=False,
        )
    ds = extra.get("deflated_sharpe")
    if ds is not None:
        console.print(
            f"deflated Sharpe ratio of the best point: {ds['deflated_sharpe']:.2f} "
            f"(Sharpe {ds['sharpe']:.2f} annualised, best of {ds['trials']} points; "
            "the probability that its true Sharpe ratio beats the best of that many "
            "unskilled points)",
            highlight=False,
        )
