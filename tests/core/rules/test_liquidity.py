"""net_liquidity on literal FRED-shaped series (weekly levels carried forward)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from rotator.core.rules.engine import RuleSet, RuleSpec, evaluate
from rotator.core.rules.liquidity import NetLiquidityParams
from rotator.core.rules.registry import default_registry


def weekly(values: list[float], start: str = "2024-01-03") -> pd.Series:
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="7D"))


HISTORY = {
    "fred:WALCL": weekly([7_700_000, 7_650_000, 7_600_000, 7_550_000, 7_500_000]),  # millions
    "fred:WTREGEN": weekly([750_000, 800_000, 850_000, 800_000, 700_000]),  # millions
    "fred:RRPONTSYD": pd.Series(
        [600.0] * 29, index=pd.date_range("2024-01-03", periods=29, freq="D")
    ),
}


def one(**params: object) -> RuleSet:
    spec = RuleSpec("liq", "net_liquidity", NetLiquidityParams(**params))
    return RuleSet("t", (spec,), (), default_registry())


def test_change_over_window():
    # Wednesday 2024-01-31's H.4.1 levels are public on Thursday 2024-02-01:
    # 7500 - 700 - 600 = 6200; 28 days before (2024-01-04 -> the 01-03 levels): 7700 - 750 - 600.
    thursday = date(2024, 2, 1)
    result = evaluate(one(window=28, min_change_pct=-3), HISTORY, thursday)["liq"]
    expected = (6200 / 6350 - 1) * 100
    assert result.inputs["net_liquidity_bn"] == 6200.0
    assert result.inputs["change_pct"] == round(expected, 2)
    assert "fred:WALCL 2024-01-31 (public 2024-02-01, lag 1 bd)" in result.inputs["data"]
    assert result.value is False  # fell 2.36 %: not the 3 % asked for
    falling = evaluate(one(window=28, min_change_pct=-2), HISTORY, thursday)["liq"]
    assert falling.value is True


def test_weekly_levels_invisible_before_publication():
    """On the Wednesday itself only the previous week's H.4.1 levels are public."""
    wednesday = evaluate(one(test="above", level=6000), HISTORY, date(2024, 1, 31))["liq"]
    assert wednesday.as_of == date(2024, 1, 31)  # RRP (same day) is the newest input
    assert wednesday.inputs["net_liquidity_bn"] == 7550 - 800 - 600
    # With no lag (an explicit override) the Wednesday levels are used at once.
    eager = one(test="above", level=6000, lag_days={"WALCL": 0, "WTREGEN": 0})
    assert evaluate(eager, HISTORY, date(2024, 1, 31))["liq"].inputs["net_liquidity_bn"] == 6200


def test_level_and_staleness():
    assert evaluate(one(test="above", level=6000), HISTORY, date(2024, 2, 1))["liq"].value
    stale = evaluate(one(test="above", level=6000), HISTORY, date(2024, 2, 20))["liq"]
    assert stale.value is None and "fred:WALCL is stale" in stale.reason
    missing = evaluate(one(), {"fred:WALCL": HISTORY["fred:WALCL"]}, date(2024, 1, 31))["liq"]
    assert missing.value is None and "no fred:WTREGEN history" in missing.reason


def test_net_liquidity():
    # Net liquidity of Wednesday 2024-01-31, public on Thursday 2024-02-01 (H.4.1 lag):
    # 7,500,000 M * 0.001 - 700,000 M * 0.001 - 600 B = 6,200 B.
    thursday = date(2024, 2, 1)
    below = evaluate(one(test="below", level=6300), HISTORY, thursday)["liq"]
    assert below.value is True and below.inputs["net_liquidity_bn"] == 6200.0
    assert below.as_of == date(2024, 1, 31)
    assert "net liquidity 6,200B vs below 6,300B" in below.reason
    # `scales` converts each series' unit: WALCL counted in billions here would dwarf the rest.
    raw = {"WALCL": 1.0, "WTREGEN": 1.0, "RRPONTSYD": 1.0}
    unscaled = evaluate(one(test="below", level=6300, scales=raw), HISTORY, thursday)
    assert unscaled["liq"].value is False
    assert unscaled["liq"].inputs["net_liquidity_bn"] == 7_500_000 - 700_000 - 600.0
    # Over 14 days it rose (2024-01-17's levels, public 01-18: 7,600 - 850 - 600 = 6,150 ->
    # 6,200): +0.81 %.
    rising = evaluate(one(window=14, min_change_pct=0), HISTORY, thursday)["liq"]
    assert rising.value is True and rising.inputs["change_pct"] == round((6200 / 6150 - 1) * 100, 2)
    assert evaluate(one(window=14, min_change_pct=1), HISTORY, thursday)["liq"].value is False
    # A series missing altogether: unknown, naming it.
    partial = {k: v for k, v in HISTORY.items() if k != "fred:WTREGEN"}
    missing = evaluate(one(test="above", level=1), partial, date(2024, 1, 31))["liq"]
    assert missing.value is None and "no fred:WTREGEN history" in missing.reason
