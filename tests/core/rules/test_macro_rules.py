"""The macro rule kinds on literal series: bond_volatility, treasury_buybacks, reverse_repo,
treasury_account."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from rotator.core.rules.bond_volatility import BondVolatilityParams
from rotator.core.rules.engine import RuleSet, RuleSpec, evaluate
from rotator.core.rules.fed_accounts import ReverseRepoParams, TreasuryAccountParams
from rotator.core.rules.registry import Params, default_registry
from rotator.core.rules.treasury_buybacks import TreasuryBuybacksParams


def run(kind: str, params: Params, history: dict[str, pd.Series], day: date):
    ruleset = RuleSet("t", (RuleSpec("r", kind, params),), (), default_registry())
    return evaluate(ruleset, history, day)["r"]


def daily(values: list[float], start: str) -> pd.Series:
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="D"))


def bd(values: list[float], start: str) -> pd.Series:
    return pd.Series(values, index=pd.bdate_range(start, periods=len(values)))


# MOVE closes: calm around 60, a spike to 140 on 2025-04-08, easing to 98 by 2025-04-30.
MOVE = daily([60, 61, 59, 60, 62, 61, 60, 59, 60, 61, 90, 120, 140, 130], "2025-03-27")
MOVE = pd.concat([MOVE, daily([125, 118, 110, 104, 100, 98], "2025-04-10")])
MOVE = pd.concat([MOVE, daily([98] * 20, "2025-04-16")])


def bv(**params: object) -> BondVolatilityParams:
    return BondVolatilityParams(**params)


def test_bond_volatility():
    history = {"index:MOVE": MOVE}
    above = run("bond_volatility", bv(test="above", level=120), history, date(2025, 4, 8))
    assert above.value is True and above.inputs["value"] == 140
    assert above.reason == "MOVE 140.0 vs above 120"
    assert above.inputs["data"] == "index:MOVE 2025-04-08 (lag 0)"
    below = run("bond_volatility", bv(test="below", level=120), history, date(2025, 4, 8))
    assert below.value is False
    # z-score spike: 120 on 2025-04-07 vs the previous 10 days around 60.
    spike = bv(test="spike", window=12, z=3)
    result = run("bond_volatility", spike, history, date(2025, 4, 7))
    assert result.value is True and result.inputs["zscore"] > 3
    calm = run("bond_volatility", spike, history, date(2025, 4, 3))
    assert calm.value is False
    rise = bv(test="spike", spike_method="rise", window=7, rise_pct=50)
    assert run("bond_volatility", rise, history, date(2025, 4, 8)).value is True  # 60 -> 140
    assert run("bond_volatility", rise, history, date(2025, 5, 5)).value is False
    # relief: the 140 peak (>= 110) within 30 days, now 98: 30 % below it.
    relief = bv(test="relief", level=110, window=30, fallen_pct=25)
    eased = run("bond_volatility", relief, history, date(2025, 4, 20))
    assert eased.value is True and eased.inputs["peak"] == 140
    assert eased.inputs["fallen_pct"] == pytest.approx(30.0)
    assert run("bond_volatility", relief, history, date(2025, 4, 8)).value is False  # at peak
    assert run("bond_volatility", relief, history, date(2025, 4, 11)).value is False  # -15.7 %
    # With a 20-day window the peak has left it by 2025-05-05: no relief without a recent peak.
    short = bv(test="relief", level=110, window=20, fallen_pct=25)
    assert run("bond_volatility", short, history, date(2025, 5, 5)).value is False
    # Missing and stale data are unknown, never false.
    nothing = run("bond_volatility", relief, {}, date(2025, 4, 20))
    assert (
        nothing.value is None and "index:MOVE" in nothing.reason and "fred:DGS10" in nothing.reason
    )
    assert (
        run(
            "bond_volatility", bv(test="above", level=1, source="move"), history, date(2025, 6, 30)
        ).value
        is None
    )
    with pytest.raises(ValidationError, match="test 'relief' needs fallen_pct"):
        bv(test="relief", level=110, window=30)


def test_bond_volatility_proxy_matches_reference():
    """The DGS10 proxy against an independent numpy computation on a literal yield series."""
    rng = np.random.default_rng(7)
    yields = 4.0 + np.cumsum(rng.normal(0, 0.06, 80)).round(2)
    series = bd(list(yields), "2025-01-01")
    series.iloc[30] = np.nan  # a blank (holiday) in FRED's file: skipped, not zero
    clean = series.dropna().to_numpy()
    changes_bp = np.diff(clean)[-20:] * 100
    expected = float(np.std(changes_bp, ddof=1) * math.sqrt(252))
    day = series.index[-1].date()
    # DGS10 is public the next business day: evaluate on the day after the last observation.
    after = (series.index[-1] + pd.offsets.BDay(1)).date()
    result = run("bond_volatility", bv(test="above", level=1), {"fred:DGS10": series}, after)
    assert result.value is True
    assert "MOVE proxy (20-day realised vol of fred:DGS10 changes, bp)" in result.reason
    assert result.inputs["value"] == pytest.approx(round(expected, 2))
    assert result.as_of == day
    # On the observation day itself that value is not public yet: the proxy ends a day earlier.
    same_day = run("bond_volatility", bv(test="above", level=1), {"fred:DGS10": series}, day)
    assert same_day.as_of == series.index[-2].date()
    # A windowed test sees the same proxy values as one computed on the whole history.
    full = [
        float(np.std(np.diff(clean)[i - 20 : i] * 100, ddof=1) * math.sqrt(252))
        for i in range(20, len(clean))
    ]
    dates = series.dropna().index[20:]
    ten_days_before = pd.Timestamp(after) - pd.Timedelta(days=10)
    then = full[int(np.searchsorted(dates, ten_days_before, side="right")) - 1]
    rise = run(
        "bond_volatility",
        bv(test="spike", spike_method="rise", window=10, rise_pct=1),
        {"fred:DGS10": series},
        after,
    )
    assert rise.inputs["rise_pct"] == pytest.approx(round((expected / then - 1) * 100, 2))
    # auto prefers MOVE when it is fresh, and falls back to the proxy when it is not.
    fresh = {"fred:DGS10": series, "index:MOVE": bd([101.0] * 80, "2025-01-01")}
    assert run("bond_volatility", bv(test="above", level=1), fresh, after).inputs["value"] == 101
    stale = {"fred:DGS10": series, "index:MOVE": bd([101.0] * 10, "2025-01-01")}
    used = run("bond_volatility", bv(test="above", level=1), stale, after)
    assert used.inputs["value"] == pytest.approx(round(expected, 2))


def test_treasury_buybacks():
    # Accepted par per day (USD), 0 on days without an operation.
    ops = daily([0.0] * 80, "2025-02-01")
    ops[pd.Timestamp("2025-03-12")] = 2e9
    ops[pd.Timestamp("2025-04-09")] = 4e9
    ops[pd.Timestamp("2025-04-16")] = 1.5e9
    history = {"treasury:buybacks": ops}
    rising = TreasuryBuybacksParams(test="rising", window=28)
    result = run("treasury_buybacks", rising, history, date(2025, 4, 20))
    assert result.value is True
    assert result.inputs["accepted_bn"] == 5.5 and result.inputs["prior_bn"] == 2.0
    # From nothing (2025-02-08..03-08) to 2B (03-09..04-05) is rising; 0 after 0 is not.
    assert run("treasury_buybacks", rising, history, date(2025, 4, 5)).value is True
    week = TreasuryBuybacksParams(test="rising", window=7)
    assert run("treasury_buybacks", week, history, date(2025, 3, 30)).value is False
    assert run("treasury_buybacks", week, history, date(2025, 4, 20)).value is False  # 1.5 < 4
    above = TreasuryBuybacksParams(test="above", window=14, level_bn=5)
    assert run("treasury_buybacks", above, history, date(2025, 4, 20)).value is True
    assert run("treasury_buybacks", above, history, date(2025, 4, 12)).value is False
    # The prior window reaches before the history: unknown.
    assert run("treasury_buybacks", rising, history, date(2025, 3, 20)).value is None
    assert run("treasury_buybacks", rising, history, date(2025, 5, 20)).value is None  # stale
    assert run("treasury_buybacks", rising, {}, date(2025, 4, 20)).value is None
    with pytest.raises(ValidationError, match="needs level_bn"):
        TreasuryBuybacksParams(test="above")


def test_reverse_repo():
    rrp = bd([2200.0 - 20 * i for i in range(40)], "2023-01-02")  # billions, draining
    rrp.iloc[5] = np.nan  # a blank day
    history = {"fred:RRPONTSYD": rrp}
    day = rrp.index[-1].date()
    draining = ReverseRepoParams(test="change", window=28, min_change=-300)
    result = run("reverse_repo", draining, history, day)
    assert result.value is True and result.inputs["change_bn"] == -400.0  # 20 business days
    assert result.inputs["data"] == f"fred:RRPONTSYD {day} (lag 0)"
    assert (
        run("reverse_repo", draining.model_copy(update={"min_change": -500}), history, day).value
        is False
    )
    pct = ReverseRepoParams(test="change", window=28, min_change=-10, change_in="pct")
    assert run("reverse_repo", pct, history, day).value is True
    below = ReverseRepoParams(test="below", level=1500)
    assert run("reverse_repo", below, history, day).value is True
    assert run("reverse_repo", below, history, date(2023, 1, 20)).value is False
    with pytest.raises(ValidationError, match="needs min_change"):
        ReverseRepoParams(test="change")


def test_treasury_account():
    tga = pd.Series(
        [750_000.0, 800_000.0, 850_000.0, 700_000.0, 600_000.0],  # millions, weekly
        index=pd.date_range("2024-01-03", periods=5, freq="7D"),
    )
    history = {"fred:WTREGEN": tga}
    falling = TreasuryAccountParams(test="change", window=14, min_change=-100)
    # Thursday 2024-02-01: the 01-31 level (600B) is public; 14 days back -> the 01-17 level.
    result = run("treasury_account", falling, history, date(2024, 2, 1))
    assert result.value is True and result.inputs["change_bn"] == -250.0
    assert result.inputs["data"] == "fred:WTREGEN 2024-01-31 (public 2024-02-01, lag 1 bd)"
    # On Wednesday 2024-01-31 the newest public level is 01-24's 700B: 700 - 800 (01-17).
    wednesday = run("treasury_account", falling, history, date(2024, 1, 31))
    assert wednesday.value is True and wednesday.inputs["value_bn"] == 700.0
    above = TreasuryAccountParams(test="above", level=650)
    assert run("treasury_account", above, history, date(2024, 2, 1)).value is False
    assert run("treasury_account", above, history, date(2024, 1, 31)).value is True
    assert run("treasury_account", above, history, date(2024, 3, 1)).value is None  # stale
