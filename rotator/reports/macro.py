"""The daily report's macro panel: bond stress, net liquidity and its parts, buybacks.

`build_macro_panel` takes the stored macro series (as `load_history` returns them) and the day's
rule rows and returns what the panel shows, each series cut to what was *public* on the day
(the same publication lags the rules use, rotator.core.publication), so the report never shows
a number the rules could not see. Bond stress is the MOVE index when stored, else its DGS10
proxy (as `bond_volatility` computes it); the levels drawn are those the day's
`bond_volatility` rules test against.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, cast

from rotator.core.rules.engine import history_only
from rotator.core.rules.registry import MissingInput, RuleContext
from rotator.reports.rows import RuleRow, Series

if TYPE_CHECKING:
    import pandas as pd

MACRO_SERIES = (
    "index:MOVE",
    "fred:DGS10",
    "fred:WALCL",
    "fred:WTREGEN",
    "fred:RRPONTSYD",
    "treasury:buybacks",
)
MACRO_CHART_DAYS = 730
PROXY_WINDOW = 20
# Each part of net liquidity: series, label, multiplier to billions of USD (the default units).
PARTS = (
    ("fred:WALCL", "Fed balance sheet (WALCL)", 0.001),
    ("fred:WTREGEN", "Treasury account (TGA)", 0.001),
    ("fred:RRPONTSYD", "reverse repos (RRP)", 1.0),
)


@dataclass(frozen=True, slots=True)
class MacroPanel:
    """What the macro panel shows; empty series are left out of the charts.

    Attributes:
        stress: MOVE (or its proxy) per day; `stress_label` says which.
        stress_levels: (rule name, level) pairs from the day's bond_volatility rules.
        net_liquidity: WALCL - TGA - RRP in billions per day (weekly parts carried forward).
        parts: the three parts in billions, same order as PARTS.
        buybacks: par accepted per operation day, billions (days without one left out).
        notes: one line per series: newest reference date, publication day and lag.
    """

    stress: Series
    stress_label: str
    stress_levels: tuple[tuple[str, float], ...]
    net_liquidity: Series
    parts: tuple[Series, ...]
    buybacks: Series
    notes: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not (self.stress.points or self.net_liquidity.points or self.buybacks.points)


def _points(series: pd.Series, start: date) -> tuple[tuple[date, float], ...]:
    return tuple(
        (stamp.date(), float(value))
        for stamp, value in _dated(series)
        if stamp.date() >= start and value == value  # drop NaN
    )


def _dated(series: pd.Series) -> list[tuple[pd.Timestamp, float]]:
    """(timestamp, value) pairs of a series indexed by day (a DatetimeIndex)."""
    return [(cast("pd.Timestamp", stamp), float(value)) for stamp, value in series.items()]


def _levels(rules: Sequence[RuleRow]) -> tuple[tuple[str, float], ...]:
    out = []
    for row in rules:
        level = row.inputs.get("level")
        if row.kind == "bond_volatility" and isinstance(level, int | float):
            out.append((row.name, float(level)))
    return tuple(out)


def build_macro_panel(
    history: Mapping[str, pd.Series], rules: Sequence[RuleRow], day: date
) -> MacroPanel | None:
    """The panel as public on `day`, or None when no macro series is stored."""
    import pandas as pd

    from rotator.core.rules.bond_volatility import realised_vol_bp
    from rotator.core.rules.macro import data_note

    ctx = RuleContext(day, history, history_only(day, history))
    start = day - timedelta(days=MACRO_CHART_DAYS - 1)
    public: dict[str, pd.Series] = {}
    notes = []
    for name in MACRO_SERIES:
        try:
            public[name] = ctx.series(name).dropna()
        except MissingInput:
            continue
        if len(public[name]):
            notes.append(data_note(name, public[name], None))
    if not public:
        return None
    if "index:MOVE" in public:
        stress, label = public["index:MOVE"], "MOVE index"
    elif "fred:DGS10" in public:
        stress = realised_vol_bp(public["fred:DGS10"], PROXY_WINDOW)
        label = f"MOVE proxy: {PROXY_WINDOW}-day realised vol of DGS10 changes (bp)"
    else:
        stress, label = pd.Series(dtype=float), "no MOVE or DGS10 stored"
    parts = [
        public[name] * scale if name in public else pd.Series(dtype=float)
        for name, _, scale in PARTS
    ]
    if all(len(p) for p in parts):
        frame = pd.concat(parts, axis=1, sort=True).ffill().dropna()
        net = frame.iloc[:, 0] - frame.iloc[:, 1] - frame.iloc[:, 2]
    else:
        net = pd.Series(dtype=float)
    buybacks = public.get("treasury:buybacks", pd.Series(dtype=float))
    return MacroPanel(
        stress=Series(label, _points(stress, start)),
        stress_label=label,
        stress_levels=_levels(rules),
        net_liquidity=Series("net liquidity (billions USD)", _points(net, start)),
        parts=tuple(
            Series(title, _points(part, start))
            for (_, title, _), part in zip(PARTS, parts, strict=True)
        ),
        buybacks=Series(
            "buybacks accepted (billions USD)", _points(buybacks[buybacks > 0] / 1e9, start)
        ),
        notes=tuple(notes),
    )
