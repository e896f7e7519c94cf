"""The backtest report: one self-contained HTML file in the daily report's style.

Sections: the metrics table (rule set against its benchmarks), how sure the excess CAGR is
(the block bootstrap's intervals, rotator.reports.robustness), the equity curves (log scale),
the drawdown, the regimes shaded over the BTC price, every regime switch with the rule values
that caused it, and fees and turnover. Charts are PNG data URIs (rotator.reports.charts), so the
file opens offline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rotator.reports.charts import (
    ACCENT,
    MUTED,
    TARGET,
    WARN,
    Chart,
    _encode,
    _figure,
    _log_price_axis,
)
from rotator.reports.charts import _format_dates as format_dates
from rotator.reports.json_document import render_document
from rotator.reports.robustness import bootstrap_caption, bootstrap_rows

if TYPE_CHECKING:
    from rotator.core.backtest.results import BacktestResult

REGIME_COLOURS = ("#bfdbfe", "#fde68a", "#bbf7d0", "#fecaca", "#ddd6fe", "#e5e7eb")
LINE_COLOURS = (ACCENT, "#111827", TARGET, "#059669", "#7c3aed", MUTED)
METRIC_ROWS: tuple[tuple[str, str, str], ...] = (
    ("total return", "total_return", "pct"),
    ("CAGR", "cagr", "pct"),
    ("volatility (annualised, 365 d)", "volatility", "level"),
    ("Sharpe", "sharpe", "num"),
    ("Sortino", "sortino", "num"),
    ("max drawdown", "max_drawdown", "pct"),
    ("drawdown peak", "max_drawdown_peak", "text"),
    ("drawdown trough", "max_drawdown_trough", "text"),
    ("Calmar", "calmar", "num"),
    ("longest time under water (days)", "time_under_water_days", "text"),
    ("turnover (traded / mean value)", "turnover", "times"),
    ("fees (USD)", "fees", "money"),
    ("trades", "trades", "text"),
    ("regime switches", "regime_switches", "text"),
)


@dataclass(frozen=True, slots=True)
class Switch:
    """One regime period for the switches table."""

    regime: str
    start: str
    end: str
    days: int
    reason: str


def _fmt(value: Any, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "pct":
        return f"{value * 100:+,.1f} %"
    if kind == "level":  # a size, never negative: no sign
        return f"{value * 100:,.1f} %"
    if kind == "num":
        return f"{value:.2f}"
    if kind == "times":
        return f"{value:.1f}×"
    if kind == "money":
        return f"{value:,.0f}"
    return str(value)


def equity_figure(result: BacktestResult) -> Any:
    """Equity of the rule set and every benchmark, log scale (a matplotlib Figure)."""
    fig, ax = _figure()
    sims = {"rule set": result.main, **result.benchmarks}
    for colour, (name, sim) in zip(LINE_COLOURS * 3, sims.items(), strict=False):
        equity = sim.equity()
        width = 1.8 if name == "rule set" else 1.1
        ax.plot(equity.index, equity.to_numpy(), color=colour, linewidth=width, label=name)
    _log_price_axis(ax)
    ax.set_ylabel("portfolio value (USD, log scale)")
    ax.legend(frameon=False, loc="upper left", fontsize=8)
    format_dates(fig, ax)
    return fig


def equity_chart(result: BacktestResult) -> Chart:
    """The equity figure as a chart; its points are the longest replay's days."""
    sims = (result.main, *result.benchmarks.values())
    points = max(len(sim.days) for sim in sims)
    title = "Equity against the benchmarks (log scale)"
    return Chart("equity", title, points, _encode(equity_figure(result)))


def drawdown_chart(result: BacktestResult) -> Chart:
    """Drawdown from the running peak, rule set and HODL BTC."""
    fig, ax = _figure()
    sims = {"rule set": result.main}
    if "hodl_btc" in result.benchmarks:
        sims["hodl_btc"] = result.benchmarks["hodl_btc"]
    points = 0
    for colour, (name, sim) in zip((ACCENT, MUTED), sims.items(), strict=False):
        equity = sim.equity()
        drawdown = (equity / equity.cummax() - 1) * 100
        points = max(points, len(drawdown))
        ax.fill_between(drawdown.index, drawdown.to_numpy(), 0, color=colour, alpha=0.35)
        ax.plot(drawdown.index, drawdown.to_numpy(), color=colour, linewidth=1, label=name)
    ax.set_ylabel("drawdown (% below peak)")
    ax.legend(frameon=False, loc="lower left", fontsize=8)
    format_dates(fig, ax)
    return Chart("drawdown", "Drawdown", points, _encode(fig))


def regime_figure(result: BacktestResult) -> Any:
    """BTC close (log scale) with each regime period shaded (a matplotlib Figure)."""
    from datetime import timedelta

    fig, ax = _figure()
    colours = _regime_colours(result)
    seen: set[str] = set()
    for p in result.main.periods:
        label = None if p.regime in seen else p.regime
        seen.add(p.regime)
        ax.axvspan(p.start, p.end + timedelta(days=1), color=colours[p.regime], label=label)
    btc = result.btc
    points = 0 if btc is None else len(btc)
    if btc is not None and points:
        ax.plot(btc.index, btc.to_numpy(), color="#111827", linewidth=1.1, label="BTC close")
        _log_price_axis(ax)
        ax.set_ylabel("BTC close (USD, log scale)")
    # The legend sits below the plot (under the dates), never over the shaded regime bands.
    fig.subplots_adjust(bottom=0.3)
    ax.legend(
        frameon=False,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.2),
        ncol=max(1, len(seen) + 1),
        fontsize=8,
    )
    format_dates(fig, ax)
    return fig


def regime_chart(result: BacktestResult) -> Chart:
    """The regime figure as a chart; its points are the BTC closes drawn."""
    points = 0 if result.btc is None else len(result.btc)
    return Chart("regimes", "Regimes over the BTC price", points, _encode(regime_figure(result)))


def _regime_colours(result: BacktestResult) -> dict[str, str]:
    names = list(dict.fromkeys(p.regime for p in result.main.periods))
    return {n: REGIME_COLOURS[i % len(REGIME_COLOURS)] for i, n in enumerate(names)}


def backtest_charts(result: BacktestResult) -> dict[str, Chart]:
    return {
        "equity": equity_chart(result),
        "drawdown": drawdown_chart(result),
        "regimes": regime_chart(result),
    }


def switches(result: BacktestResult) -> tuple[Switch, ...]:
    return tuple(
        Switch(
            p.regime, p.start.isoformat(), p.end.isoformat(), (p.end - p.start).days + 1, p.why()
        )
        for p in result.main.periods
    )


def metric_table(report: Mapping[str, Any]) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """Column names and formatted rows: rule set first, then each benchmark."""
    columns = [report["metrics"], *report["benchmarks"].values()]
    names = ["rule set", *report["benchmarks"]]
    rows = [(label, [_fmt(c[key], kind) for c in columns]) for label, key, kind in METRIC_ROWS]
    return names, rows


def render_backtest_html(
    result: BacktestResult, report: Mapping[str, Any], ruleset_label: str | None = None
) -> str:
    """The report as one HTML document with its charts embedded; the rule set named
    `ruleset_label` (as every output names it for people: `cycle.yaml (shipped)`), else by its
    file name."""
    from rotator.reports.daily_render import _environment

    names, rows = metric_table(report)
    template = _environment(True).get_template("backtest.html.j2")
    return template.render(
        r=report,
        ruleset=ruleset_label or Path(result.ruleset).name,
        settings=result.settings,
        names=names,
        rows=rows,
        robustness_rows=bootstrap_rows(report.get("robustness")),
        robustness_caption=bootstrap_caption(report.get("robustness")),
        switches=switches(result),
        days_in_regime=report["metrics"]["days_in_regime"],
        colours=_regime_colours(result),
        notes=result.main.notes,
        charts=backtest_charts(result),
        warn=WARN,
    )


def write_backtest_report(
    result: BacktestResult,
    report: Mapping[str, Any],
    out_dir: Path,
    ruleset_label: str | None = None,
) -> Path:
    """Write backtest.html (and backtest.json) into `out_dir`; return the HTML path."""
    from rotator.reports.files import ensure_folder, write_text_safely

    ensure_folder(out_dir)
    page = out_dir / "backtest.html"
    write_text_safely(page, render_backtest_html(result, report, ruleset_label))
    write_text_safely(out_dir / "backtest.json", render_document(report))
    return page
