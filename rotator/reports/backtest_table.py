"""`rotator backtest` in the terminal: the metrics table, the regime periods, and a sweep's
ranked grid (table or JSON). The HTML report is rotator.reports.backtest."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any, Protocol

from rich.table import Table
from rich.text import Text

from rotator.core.backtest.results import BacktestSettings
from rotator.reports.escape import SafeConsole
from rotator.reports.robustness import render_robustness


class SweepRowLike(Protocol):
    """One ranked grid point (rotator.pipeline.sweep.SweepRow)."""

    @property
    def point(self) -> Mapping[str, Any]: ...
    @property
    def in_sample(self) -> Mapping[str, Any]: ...
    @property
    def out_of_sample(self) -> Mapping[str, Any] | None: ...


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


def render_backtest(report: dict[str, Any]) -> None:
    """The metrics table (rule set and benchmarks side by side), then the regime periods: the
    result alone (the command prints its notes on stderr)."""
    console = SafeConsole()
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
        Text(
            "annualised over 365 days; decisions on day D use data up to D's close and trade "
            "at D+1's close",
            style="dim",
        )
    )
    render_robustness(console, report.get("robustness"))
    days = report["metrics"]["days_in_regime"]
    console.print("days in regime: " + ", ".join(f"{r} {n}" for r, n in days.items()))
    periods = Table(title="Regimes", show_lines=False)
    for column in ("regime", "from", "to", "why"):
        periods.add_column(column, overflow="fold")
    for p in report["regimes"]:
        periods.add_row(p["regime"], p["from"], p["to"], p["reason"])
    console.print(periods)


def sweep_json(
    rows: Sequence[SweepRowLike], settings: BacktestSettings, split: date | None, by: str
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


def render_sweep(
    rows: Sequence[SweepRowLike], settings: BacktestSettings, split: date | None, by: str
) -> None:
    """The ranked grid (the command prints its note and warning on stderr)."""
    console = SafeConsole()
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
