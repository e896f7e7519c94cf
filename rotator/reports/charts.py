"""Report charts: matplotlib (Agg, no display) -> PNG bytes -> base64 data URIs.

Charts are embedded in the HTML report as data URIs so the report is one self-contained file
that opens offline and survives being mailed. Each function takes plain points and returns a
`Chart` carrying the number of points drawn (the report states it, and tests check it).
"""

from __future__ import annotations

import base64
import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Any

from rotator.reports.rows import DriftRow, Series

WIDTH, HEIGHT, DPI = 7.5, 2.8, 110
ACCENT, TARGET, MUTED, WARN = "#2563eb", "#f59e0b", "#9ca3af", "#dc2626"


@dataclass(frozen=True, slots=True)
class Chart:
    """A rendered chart: what it shows, how many points, and the PNG as a data URI."""

    key: str
    title: str
    points: int
    data_uri: str


def _figure() -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and in cron
    from matplotlib.figure import Figure

    # Figure() directly (not pyplot): no global state, nothing to close, thread-safe.
    fig = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
    # Fixed margins instead of tight_layout(): that costs a full extra draw per chart.
    fig.subplots_adjust(left=0.13, right=0.98, top=0.96, bottom=0.14)
    ax = fig.add_subplot()
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="y", color="#e5e7eb", linewidth=0.8)
    ax.set_axisbelow(True)
    return fig, ax


def _encode(fig: Any) -> str:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # A few days of history: the date locator falls back to a default interval and
        # says so; the fallback is fine for a short axis.
        warnings.filterwarnings("ignore", message="AutoDateLocator was unable")
        fig.savefig(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _dates(points: Sequence[tuple[date, float]]) -> tuple[list[date], list[float]]:
    return [d for d, _ in points], [float(v) for _, v in points]


# A date axis spans at least this many days: one stored day is drawn in the middle of a few
# days, not of the four years matplotlib's autoscale pads a single date with.
MIN_DATE_SPAN_DAYS = 4
# Up to this many days of data every day gets a tick, dates only (no "12:00" in between).
DAILY_TICKS_DAYS = 10


def _format_dates(fig: Any, ax: Any) -> None:
    """Date ticks for daily data; data spanning less than MIN_DATE_SPAN_DAYS (one or two stored
    days) is centred in that many days."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, DayLocator

    # The data's own extent (in days): get_xlim() would autoscale, and a single date autoscales
    # to +-2 years.
    low, high = ax.dataLim.intervalx
    if high - low < MIN_DATE_SPAN_DAYS:
        middle = (low + high) / 2
        ax.set_xlim(middle - MIN_DATE_SPAN_DAYS / 2, middle + MIN_DATE_SPAN_DAYS / 2)
    locator: Any = DayLocator() if high - low < DAILY_TICKS_DAYS else AutoDateLocator(maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))


def allocation_figure(rows: Sequence[DriftRow]) -> Any:
    """Grouped bars: each asset's weight now next to its target (a matplotlib Figure)."""
    fig, ax = _figure()
    names = [r.asset for r in rows]
    now = [float(r.weight) * 100 for r in rows]
    target = [float(r.target) * 100 if r.target is not None else 0.0 for r in rows]
    xs = range(len(rows))
    ax.bar([x - 0.2 for x in xs], now, width=0.4, color=ACCENT, label="now")
    ax.bar([x + 0.2 for x in xs], target, width=0.4, color=TARGET, label="target")
    ax.set_xticks(list(xs), names)
    _fit_names(fig, ax, names)
    ax.set_ylabel("% of portfolio")
    # The legend sits above the axes in one row, never over a bar however many assets there are.
    fig.subplots_adjust(top=0.88)
    ax.legend(frameon=False, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2)
    return fig


def allocation_chart(rows: Sequence[DriftRow]) -> Chart:
    """The allocation figure as a chart; its points are the assets."""
    return Chart(
        "allocation", "Allocation now vs target", len(rows), _encode(allocation_figure(rows))
    )


def _fit_names(fig: Any, ax: Any, names: Sequence[str]) -> None:
    """Names under their bars side by side while they fit; upright and smaller, with the bottom
    margin grown to hold the longest, once two neighbours would run into each other (a
    portfolio of twenty assets)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    def width(name: str, size: str | float) -> float:  # in points, as the renderer lays it out
        found = TextToPath().get_text_width_height_descent(name, FontProperties(size=size), False)
        return float(found[0])

    slot = ax.get_position().width * fig.get_figwidth() * 72 / (len(names) + 1)
    widths = [width(n, "medium") for n in names]  # rcParams' tick label size
    if all((a + b) / 2 + 4 <= slot for a, b in pairwise(widths)):
        return
    ax.tick_params(axis="x", labelrotation=90, labelsize=8)
    longest = max(width(n, 8) for n in names)
    fig.subplots_adjust(bottom=min(0.5, (longest + 12) / (fig.get_figheight() * 72)))


def value_figure(series: Series, base_currency: str) -> Any:
    """Portfolio value per day, one point per stored day (a matplotlib Figure)."""
    fig, ax = _figure()
    days, values = _dates(series.points)
    ax.plot(days, values, color=ACCENT, marker="o", markersize=3, linewidth=1.6)
    # The currency goes in the legend, not a y label: long tick labels would push it out.
    ax.legend([f"portfolio value ({base_currency})"], frameon=False, loc="upper left")
    ax.yaxis.set_major_formatter(_thousands())
    if days:
        _format_dates(fig, ax)
    return fig


def value_chart(series: Series, base_currency: str) -> Chart:
    """The value figure as a chart; its points are the stored days."""
    fig = value_figure(series, base_currency)
    return Chart("value", "Portfolio value over time", len(series.points), _encode(fig))


def btc_chart(series: Series, level: float | None) -> Chart:
    """BTC daily close with the prior-high level the rule compares against."""
    fig, ax = _figure()
    days, values = _dates(series.points)
    ax.plot(days, values, color=ACCENT, linewidth=1.4, label="BTC close")
    if level is not None:
        ax.axhline(level, color=WARN, linestyle="--", linewidth=1.2, label=f"level {level:,.0f}")
    ax.yaxis.set_major_formatter(_thousands())
    if days:
        _format_dates(fig, ax)
        ax.legend(frameon=False, loc="upper left")
    return Chart("btc", "BTC price against its prior high", len(days), _encode(fig))


def dominance_chart(series: Series) -> Chart:
    """BTC dominance (percent of total crypto market cap) per day."""
    fig, ax = _figure()
    days, values = _dates(series.points)
    ax.plot(days, values, color=TARGET, linewidth=1.4)
    ax.set_ylabel("% of total market cap")
    if days:
        _format_dates(fig, ax)
    return Chart("dominance", "BTC dominance trend", len(days), _encode(fig))


def _log_price_axis(ax: Any) -> None:
    """Log y axis in plain thousands at round values (rotator.reports.log_ticks): at least three
    labels whatever the range, none over another; the minor ticks are marks without labels."""
    from matplotlib.ticker import LogLocator, NullFormatter

    from rotator.reports.log_ticks import LogSteps

    ax.set_yscale("log")  # before the locators: setting the scale resets them
    ax.yaxis.set_major_locator(LogSteps())
    ax.yaxis.set_major_formatter(_thousands())
    ax.yaxis.set_minor_locator(LogLocator(subs="auto"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _thousands() -> Any:
    """Tick labels with thousands separators and as many decimals as the ticks' spacing needs:
    "90,000" a thousand apart, "1,000.5" half a unit apart, "1.52" a hundredth of a BTC apart
    (whole numbers only would print "1,000 1,000 1,001", or "2 2 2" for a BTC portfolio)."""
    import math

    from matplotlib.ticker import Formatter

    class Grouped(Formatter):
        ticks: tuple[float, ...] = ()

        def set_locs(self, locs: Any) -> None:  # the axis hands over its ticks before labelling
            self.ticks = tuple(sorted(float(v) for v in locs))

        def __call__(self, x: float, pos: int | None = None) -> str:
            steps = [b - a for a, b in pairwise(self.ticks) if b > a]
            step = min(steps) if steps else 1.0
            decimals = min(8, max(0, -math.floor(math.log10(step) + 1e-9)))
            return f"{x:,.{decimals}f}"

    return Grouped()


def report_charts(
    allocation: Sequence[DriftRow],
    value: Series,
    btc: Series,
    level: float | None,
    dominance: Series,
    base_currency: str,
) -> dict[str, Chart]:
    """Every chart of the report by key; market charts only when there is data to draw."""
    charts = {
        "allocation": allocation_chart(allocation),
        "value": value_chart(value, base_currency),
    }
    if btc.points:
        charts["btc"] = btc_chart(btc, level)
    if dominance.points:
        charts["dominance"] = dominance_chart(dominance)
    return charts


def as_float(value: Decimal | float | None) -> float | None:
    """For templates: a Decimal as float (charts and formatting), None kept."""
    return None if value is None else float(value)
