"""Tick labels of the report charts, drawn by matplotlib's Agg renderer as the reports are: no
label over another.

The backtest report's log price axes (equity, regimes over the BTC price) have at least three y
labels for a 2013-2021 range (100 to 60,000), the demo's 2019-2021 one (3,400 to 63,000, where
every minor tick used to be labelled: "10,000 9,000 8,000" piled up) and a short one with no
decade tick in it (30,000 to 60,000). The daily report's allocation bars keep twenty-two asset
names apart and inside the picture, and its legend off every bar (3 and 25 assets). Its value
chart's date axis spans the stored days: one day in a window of a few days (not the years
matplotlib pads a single date with), two days and thirty days with whole-day ticks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from rotator.core.backtest.results import BacktestResult, BacktestSettings, Day, Period, Simulation
from rotator.reports.backtest import equity_figure, regime_figure
from rotator.reports.charts import allocation_figure, value_figure
from rotator.reports.rows import DriftRow, Series

RANGES = {
    "2013-2021": (100.0, 60_000.0),
    "2019-2021": (3_400.0, 63_000.0),
    "no decade": (30_000.0, 60_000.0),
}


def replay(low: float, high: float, days: int = 120) -> BacktestResult:
    """A replay whose equity and BTC closes both run from `low` to `high` (with wobbles)."""
    start = date(2020, 1, 1)
    path = np.geomspace(low, high, days) * (1 + 0.03 * np.sin(np.arange(days)))
    path = np.clip(path, low, high)
    days_ = tuple(
        Day(start + timedelta(days=i), Decimal(f"{v:.2f}"), "accumulate" if i < 60 else "rotate")
        for i, v in enumerate(path)
    )
    periods = (
        Period("accumulate", days_[0].day, days_[59].day, "btc_above_prior_high = false"),
        Period("rotate", days_[60].day, days_[-1].day, "btc_above_prior_high = true"),
    )
    main = Simulation("rule set", days_, periods)
    btc = pd.Series(path, index=pd.DatetimeIndex([d.day for d in days_]))
    return BacktestResult(BacktestSettings(start, days_[-1].day), "cycle.yaml", main, {}, btc)


def drawn_labels(fig: Any, axis: str) -> tuple[list[str], list[Any]]:
    """The labels the renderer draws on the x or y axis (major and minor, in view, not empty)
    and their boxes in pixels."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    ax = fig.axes[0]
    along = 0 if axis == "x" else 1
    low, high = sorted(ax.get_xlim() if axis == "x" else ax.get_ylim())
    labels = [
        t
        for t in getattr(ax, f"{axis}axis").get_ticklabels(which="both")
        if t.get_visible() and t.get_text() and low <= t.get_position()[along] <= high
    ]
    return [t.get_text() for t in labels], [t.get_window_extent(renderer) for t in labels]


def assert_apart(texts: list[str], boxes: list[Any]) -> None:
    for i, box in enumerate(boxes):
        for j in range(i + 1, len(boxes)):
            assert not box.overlaps(boxes[j]), (texts[i], texts[j], texts)


@pytest.mark.parametrize("low, high", RANGES.values(), ids=list(RANGES))
@pytest.mark.parametrize("figure", [regime_figure, equity_figure], ids=["regimes", "equity"])
def test_log_price_axis_labels_do_not_overlap(
    figure: Callable[[BacktestResult], Any], low: float, high: float
) -> None:
    texts, boxes = drawn_labels(figure(replay(low, high)), "y")

    assert len(texts) >= 3, texts
    assert_apart(texts, boxes)
    values = [float(t.replace(",", "")) for t in texts]
    assert all(low / 1.2 <= v <= high * 1.2 for v in values), texts  # plain numbers, in range


ASSETS = [
    *("BTC", "ETH", "BNB", "SOL", "STETH", "ADA", "LINK", "KNC", "LRC", "TRX", "USDC"),
    *("WBTC", "DOGE", "MATIC", "AVAX", "DOT", "ATOM", "NEAR", "UNI", "AAVE", "1000SHIB", "CASH"),
]


def test_allocation_names_do_not_overlap() -> None:
    share = Decimal(1) / len(ASSETS)
    rows = [DriftRow(a, Decimal(1000), share, share, Decimal(0), None) for a in ASSETS]
    fig = allocation_figure(rows)
    texts, boxes = drawn_labels(fig, "x")

    assert texts == ASSETS
    assert_apart(texts, boxes)
    picture = fig.bbox
    assert all(picture.x0 <= b.x0 and b.x1 <= picture.x1 and picture.y0 <= b.y0 for b in boxes)


@pytest.mark.parametrize("count", [3, 25])
def test_allocation_legend_covers_no_bar(count: int) -> None:
    names = [*ASSETS, "ARB", "OP", "FIL"][:count]
    share = Decimal(1) / count  # bars of one height: no corner of the axes is free
    fig = allocation_figure(
        [DriftRow(a, Decimal(1000), share, share, Decimal(0), None) for a in names]
    )
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent(renderer)

    bars = [p.get_window_extent(renderer) for p in ax.patches]
    assert len(bars) == 2 * count
    assert not [b for b in bars if b.overlaps(legend)], legend
    picture = fig.bbox
    assert picture.x0 <= legend.x0 and legend.x1 <= picture.x1
    assert picture.y0 <= legend.y0 and legend.y1 <= picture.y1


@pytest.mark.parametrize("count", [1, 2, 30])
def test_value_chart_date_axis_spans_the_stored_days(count: int) -> None:
    from matplotlib.dates import num2date

    first = date(2026, 3, 1)
    days = [first + timedelta(days=i) for i in range(count)]
    fig = value_figure(
        Series("portfolio value", tuple((d, 1000.0 + i) for i, d in enumerate(days))), "USD"
    )
    texts, boxes = drawn_labels(fig, "x")
    low, high = (num2date(x).date() for x in fig.axes[0].get_xlim())

    assert low < days[0] and days[-1] < high  # every point inside the axis, none on its edge
    assert (high - low).days <= max(count + 3, 5), (low, high)  # a few days around short data
    assert len(texts) >= 3 and not [t for t in texts if ":" in t], texts  # whole days, no hours
    assert_apart(texts, boxes)


@pytest.mark.parametrize(
    ("values", "currency"),
    [((1000.0, 1000.4, 1001.2), "USD"), ((1.512, 1.519, 1.531), "BTC"), ((90e3, 95e3), "USD")],
    ids=["a-few-dollars-apart", "btc", "thousands-apart"],
)
def test_value_chart_labels_are_distinct_numbers(values: tuple[float, ...], currency: str) -> None:
    """Values a few units apart (or a BTC portfolio) get the decimals their ticks need."""
    days = [date(2026, 3, 1) + timedelta(days=i) for i in range(len(values))]
    fig = value_figure(Series("portfolio value", tuple(zip(days, values, strict=True))), currency)
    texts, boxes = drawn_labels(fig, "y")
    assert len(texts) >= 3 and len(set(texts)) == len(texts), texts
    numbers = [float(t.replace(",", "").replace("\u2212", "-")) for t in texts]
    assert numbers == sorted(numbers), texts
    assert_apart(texts, boxes)
