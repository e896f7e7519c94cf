"""rules/thesis.yaml on short composed series: each step of the playbook (docs/thesis.md).

Every series is literal: a quiet world (MOVE ~60, Fed balance sheet, TGA and reverse repos
flat, no buybacks, BTC below its previous all-time high, dominance flat), changed only where a
step needs it. The regime is the one the conditions choose on the last day (no hysteresis), so
each case isolates one step.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from rotator.config.ruleset import load_ruleset
from rotator.core.rules.decision import condition_choice
from rotator.core.rules.engine import evaluate, history_only
from rotator.core.screen.history import DATASET, ScreenHistory, StoredScreen

THESIS = load_ruleset(Path(__file__).resolve().parents[3] / "rules" / "thesis.yaml")
END = date(2025, 4, 30)
DAYS = 400
INDEX = pd.DatetimeIndex([END - timedelta(days=DAYS - 1 - i) for i in range(DAYS)])


def series(values: list[float]) -> pd.Series:
    return pd.Series(values, index=INDEX, dtype=float)


def ramp(start: float, end: float, days: int, before: float | None = None) -> list[float]:
    """`before` (default start) until the last `days` days, then linearly to `end`."""
    head = [start if before is None else before] * (DAYS - days)
    return head + [start + (end - start) * (i + 1) / days for i in range(days)]


def quiet() -> dict[str, pd.Series]:
    # BTC: a top of 106 a year ago, a 28 % pullback to 76, now 80: below the prior high.
    btc = [50.0] * 100 + [106.0] + [90.0] * 50 + [76.0] * 50 + [80.0] * (DAYS - 201)
    return {
        "index:MOVE": series([59.0 + 2 * (i % 2) for i in range(DAYS)]),
        "fred:WALCL": series([7_000_000.0] * DAYS),  # millions: 7.0T
        "fred:WTREGEN": series([800_000.0] * DAYS),  # millions: 800B
        "fred:RRPONTSYD": series([400.0] * DAYS),  # billions
        "fred:DGS10": series([4.0] * DAYS),
        "treasury:buybacks": series([0.0] * DAYS),
        "close:BTC": series(btc),
        "btc_dominance": series([55.0] * DAYS),
    }


def regime(history: dict[str, pd.Series], datasets: dict[str, object] | None = None) -> str:
    snapshot = history_only(END, history, datasets)
    results = evaluate(THESIS, history, END, snapshot)
    return condition_choice(THESIS, results).regime


def stress(history: dict[str, pd.Series], level: float = 140.0) -> None:
    """Bond stress: MOVE jumps to `level` over the last 3 days (high and a spike)."""
    history["index:MOVE"] = series([*history["index:MOVE"].to_numpy()[:-3], level, level, level])


def draining(history: dict[str, pd.Series]) -> None:
    """Net liquidity falling: the Fed's balance sheet shrinks 2 % over the last 40 days."""
    history["fred:WALCL"] = series(ramp(7_000_000.0, 6_860_000.0, 40))


def test_quiet_below_the_prior_high_accumulates():
    assert regime(quiet()) == "accumulate"


def test_stress_without_response_while_liquidity_drains_defends():
    world = quiet()
    stress(world)
    draining(world)
    assert regime(world) == "defend"


@pytest.mark.parametrize(
    "lever",
    ["buybacks", "reverse_repo", "tga", "net_liquidity"],
)
def test_stress_with_a_policy_response_accumulates_aggressively(lever: str):
    world = quiet()
    stress(world)
    if lever == "buybacks":  # buybacks enlarged: 2B a day over the last 2 weeks
        draining(world)
        world["treasury:buybacks"] = series([0.0] * (DAYS - 14) + [2e9] * 14)
    elif lever == "reverse_repo":  # the RRP pool drained by 200B over 4 weeks
        draining(world)
        world["fred:RRPONTSYD"] = series(ramp(400.0, 200.0, 28))
    elif lever == "tga":  # the Treasury spent 150B of its account over 4 weeks
        draining(world)
        world["fred:WTREGEN"] = series(ramp(800_000.0, 650_000.0, 28))
    else:  # net liquidity turning up: the balance sheet grows 2 %
        world["fred:WALCL"] = series(ramp(7_000_000.0, 7_140_000.0, 40))
    assert regime(world) == "accumulate_aggressively", lever


def test_stress_past_its_peak_is_itself_the_response():
    # MOVE spiked to 150 five weeks ago and is back at 100 (-33 %), liquidity still draining.
    world = quiet()
    move = [60.0] * (DAYS - 40) + [150.0] * 5 + [100.0] * 35
    world["index:MOVE"] = series(move)
    draining(world)
    assert regime(world) == "accumulate_aggressively"


def broke_out(world: dict[str, pd.Series]) -> None:
    """BTC back above its 106 high: the last 5 closes at 110 (3 needed, 1 % above)."""
    world["close:BTC"] = series([*world["close:BTC"].to_numpy()[:-5], *[110.0] * 5])


def test_after_the_break_with_dominance_rising_rides_btc():
    world = quiet()
    broke_out(world)
    world["btc_dominance"] = series(ramp(55.0, 60.0, 30))  # 20-day average above the 60-day
    assert regime(world) == "ride_btc"
    # Below the prior high the same dominance trend only accumulates.
    world["close:BTC"] = quiet()["close:BTC"]
    assert regime(world) == "accumulate"


def test_dominance_rolling_over_after_the_break_rotates_into_the_basket():
    world = quiet()
    broke_out(world)
    # Dominance rose to ~59.5, then fell 4.5 points over the last 10 days (3+ on the last 3).
    dominance = ramp(55.0, 60.0, 60)[:-10] + [60.0 - 0.5 * (i + 1) for i in range(10)]
    world["btc_dominance"] = series(dominance)
    # No screen stored: the rule set's declared fallback basket (ETH).
    snapshot = history_only(END, world)
    results = evaluate(THESIS, world, END, snapshot)
    choice = condition_choice(THESIS, results)
    assert choice.regime == "rotate"
    assert "fallback basket declared in the rule set" in results["revenue_basket"].reason
    assert choice.targets.weights["ETH"] == Decimal("0.10") + Decimal("0.25")
    # With a screen stored on the day before: its basket.
    stored = StoredScreen(
        END - timedelta(days=1),
        "revenue_basket",
        {"AAVE": Decimal("0.5"), "HYPE": Decimal("0.5")},
        (),
        pd.Timestamp(END, tz="UTC").to_pydatetime(),
    )
    datasets = {DATASET: ScreenHistory((stored,))}
    results = evaluate(THESIS, world, END, history_only(END, world, datasets))
    choice = condition_choice(THESIS, results)
    assert choice.regime == "rotate"
    assert choice.targets.weights["AAVE"] == Decimal("0.125")
    # A dominance new high ends the roll-over: back to riding BTC.
    world["btc_dominance"] = series([*dominance[:-1], 61.0])
    assert regime(world) != "rotate"
