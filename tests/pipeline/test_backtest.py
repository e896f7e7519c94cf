"""`rotator backtest`'s replay: no look-ahead, benchmarks, a hand-computed rebalanced portfolio,
assets without history, agreement with a single evaluation and with the run's stages, the tuned
shipped rule set."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D
from pathlib import Path

import pandas as pd
import pytest

from rotator.config.ruleset import load_ruleset, shipped_ruleset
from rotator.core.models import CASH_BUCKET, RebalancePolicy
from rotator.core.rules.decision import decide
from rotator.core.rules.engine import RuleSet, history_only
from rotator.core.rules.regimes import Regime
from rotator.core.rules.registry import default_registry
from rotator.pipeline.backtest import BacktestResult, BacktestSettings, as_json, replay
from rotator.pipeline.run import RunConfig, choose_targets, evaluate_rules

DEMO = Path(__file__).resolve().parents[2] / "rotator" / "demo" / "history"


def _coingecko(name: str) -> pd.Series:
    frame = pd.read_csv(DEMO / name)
    index = pd.DatetimeIndex(pd.to_datetime(frame["snapped_at"].str[:10]))
    return pd.Series(frame["price"].to_numpy(dtype=float), index=index)


def _history() -> dict[str, pd.Series]:
    dom = pd.read_csv(DEMO / "btc_dominance_pct_daily_2018-2021.csv")
    dominance = pd.Series(
        dom["value"].to_numpy(dtype=float), index=pd.DatetimeIndex(pd.to_datetime(dom["Date"]))
    )
    btc = pd.read_csv(DEMO / "coingecko_btc-usd_daily_2013-2021.csv")
    btc.index = pd.DatetimeIndex(pd.to_datetime(btc["snapped_at"].str[:10]))
    total = pd.read_csv(DEMO / "coingecko_global_total_market_cap_daily_2013-2021.csv")
    total.index = pd.DatetimeIndex(pd.to_datetime(total["snapped_at"], unit="ms").dt.normalize())
    early = (btc["market_cap"] / total["market_cap"] * 100).dropna()
    early = early[(early > 0) & (early < 100) & (early.index < "2018-01-01")]
    return {
        "close:BTC": _coingecko("coingecko_btc-usd_daily_2013-2021.csv"),
        "close:ETH": _coingecko("coingecko_eth-usd_daily_2015-2021.csv"),
        "close:SOL": _coingecko("coingecko_sol-usd_daily_2020-2021.csv"),
        "btc_dominance": pd.concat([early, dominance]).sort_index(),
    }


HISTORY = _history()
CYCLE = load_ruleset(shipped_ruleset("cycle.yaml"))
POLICY = RebalancePolicy(min_order_value=D(25), max_turnover=D("0.5"))


def _settings(start: date, end: date, **kw: object) -> BacktestSettings:
    return BacktestSettings(start, end, policy=kw.pop("policy", POLICY), **kw)  # type: ignore[arg-type]


def test_no_look_ahead_a_changed_price_changes_nothing_decided_before_it():
    start, end, shock = date(2020, 11, 1), date(2021, 3, 31), date(2021, 1, 20)
    base = replay(CYCLE, HISTORY, _settings(start, end))
    moved = dict(HISTORY)
    btc = HISTORY["close:BTC"].copy()
    btc[pd.Timestamp(shock)] *= 3  # an absurd close on one day
    moved["close:BTC"] = btc
    dom = HISTORY["btc_dominance"].copy()
    dom[pd.Timestamp(shock)] -= 20
    moved["btc_dominance"] = dom
    other = replay(CYCLE, moved, _settings(start, end))
    before = [d for d in base.main.decisions if d[0] < shock]
    assert before == [d for d in other.main.decisions if d[0] < shock]
    assert [d for d in base.main.days if d.day < shock] == [
        d for d in other.main.days if d.day < shock
    ]
    # ...while the change is visible from that day on (so the test can fail)
    assert base.main.days != other.main.days


def test_a_decision_trades_at_the_next_close():
    ruleset = RuleSet("all-btc", (), (Regime("all", None, {"BTC": D(1)}),), default_registry())
    start = date(2021, 1, 1)
    settings = _settings(start, start + timedelta(days=3), policy=RebalancePolicy())
    result = replay(ruleset, HISTORY, settings)
    days = result.main.days
    assert days[0].trades == 0 and days[0].value == D(10_000)  # decided at day 0's close
    assert days[1].trades == 1  # bought at day 1's close
    assert days[2].trades == 0 or days[2].traded < 200  # only drift trades afterwards


FIVE_YEARS = (date(2017, 1, 1), date(2021, 12, 31))


@pytest.fixture(scope="session")  # kept while other modules' tests run in between
def cycle_2017_2021() -> BacktestResult:
    """The shipped cycle rules over 2017-2021, replayed once for the tests that read it."""
    return replay(CYCLE, HISTORY, _settings(*FIVE_YEARS))


# The tests reading the five-year replay run on the same worker, so it is replayed once.
five_years = pytest.mark.xdist_group("cycle_2017_2021")


@pytest.mark.slow  # started first (see conftest.py)
@five_years
def test_hodl_btc_total_return_is_the_ratio_of_last_to_first_close(
    cycle_2017_2021: BacktestResult,
) -> None:
    start, end = FIVE_YEARS
    metrics = cycle_2017_2021.benchmarks["hodl_btc"].metrics()
    closes = HISTORY["close:BTC"]
    ratio = closes[pd.Timestamp(end)] / closes[pd.Timestamp(start)]
    assert metrics["total_return"] == pytest.approx(ratio - 1, rel=1e-12)


def test_static_targets_with_a_zero_band_equal_a_daily_rebalanced_portfolio():
    index = pd.date_range("2021-01-01", periods=5, freq="D")
    btc = [100.0, 110.0, 99.0, 120.0, 126.0]
    eth = [10.0, 9.0, 12.0, 11.0, 10.5]
    history = {"close:BTC": pd.Series(btc, index=index), "close:ETH": pd.Series(eth, index=index)}
    targets = {"BTC": D("0.5"), "ETH": D("0.3"), CASH_BUCKET: D("0.2")}
    ruleset = RuleSet("static", (), (Regime("hold", None, targets),), default_registry())
    policy = RebalancePolicy(drift_abs=D(0), drift_rel=D(0), min_order_value=D(0))
    settings = BacktestSettings(
        date(2021, 1, 1), date(2021, 1, 5), fee_rate=D(0), slippage_bps=D(0), policy=policy
    )
    result = replay(ruleset, history, settings)
    # By hand: cash on day 0 (decision at its close); at day 1's close the portfolio is put at
    # its targets and then re-set to them at every close.
    expected = [10_000.0, 10_000.0]
    for i in range(2, 5):
        growth = 0.5 * btc[i] / btc[i - 1] + 0.3 * eth[i] / eth[i - 1] + 0.2
        expected.append(expected[-1] * growth)
    got = [float(d.value) for d in result.main.days]
    # The planner's optimizer computes in floating point (amounts kept to 12 digits).
    assert got == pytest.approx(expected, rel=1e-10)
    assert [float(d.value) for d in result.benchmarks["static"].days] == pytest.approx(expected)


def test_an_asset_without_history_stays_in_cash_and_is_said_once():
    result = replay(CYCLE, HISTORY, _settings(date(2017, 1, 1), date(2017, 12, 31)))
    notes = [n for n in result.main.notes if n.startswith("SOL")]
    assert len(notes) == 1 and "history starts 2020-04-11" in notes[0]


def test_the_replay_agrees_with_a_single_evaluation_on_each_day():
    tuned = CYCLE
    start, end = date(2020, 12, 1), date(2021, 2, 28)
    result = replay(tuned, HISTORY, _settings(start, end))
    by_day = {d.day: d.regime for d in result.main.days}
    for day in (date(2020, 12, 20), date(2021, 1, 10), date(2021, 1, 25), date(2021, 2, 20)):
        single = decide(tuned, HISTORY, day, cash_assets=POLICY.cash_assets | {"USD"})
        assert single.choice.regime == by_day[day], day


def test_the_replay_takes_the_run_stages_decision_with_its_targets():
    # The replay decides through the run's stages 3-4, so on any day it holds the regime and
    # targets a plan run (evaluate_rules, choose_targets) chooses from the same history.
    start, end = date(2020, 12, 1), date(2021, 2, 28)
    result = replay(CYCLE, HISTORY, _settings(start, end))
    decided = {day: (regime, targets) for day, regime, targets in result.main.decisions}
    cash = POLICY.cash_assets | {"USD"}
    for day in (date(2020, 12, 20), date(2021, 1, 25), date(2021, 2, 20)):
        config = RunConfig(None, CYCLE, RebalancePolicy(cash_assets=cash), day)
        choice = choose_targets(config, evaluate_rules(config, history_only(day, HISTORY)))
        regime, targets = decided[day]
        assert (choice.regime, choice.targets.weights) == (regime, targets.weights), day


def test_json_has_exactly_the_documented_keys():
    result = replay(CYCLE, HISTORY, _settings(date(2020, 1, 1), date(2020, 3, 31)))
    report = as_json(result)
    assert list(report) == [
        "from", "to", "start_value", "metrics", "benchmarks", "regimes", "equity"
    ]  # fmt: skip
    keys = {
        "total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown",
        "max_drawdown_peak", "max_drawdown_trough", "calmar", "time_under_water_days",
        "turnover", "fees", "trades", "regime_switches", "days_in_regime",
    }  # fmt: skip
    assert set(report["metrics"]) == keys
    assert {"hodl_btc", "static"} <= set(report["benchmarks"])
    assert all(set(m) == keys for m in report["benchmarks"].values())
    assert all(set(r) == {"regime", "from", "to", "reason"} for r in report["regimes"])
    assert set(report["equity"][0]) == {"date", "value", "regime"}


@pytest.mark.slow  # started first (see conftest.py)
@five_years
def test_shipped_cycle_rules_switch_at_most_8_times_over_2017_2021(
    cycle_2017_2021: BacktestResult,
) -> None:
    periods = cycle_2017_2021.main.periods
    assert len(periods) - 1 <= 8, [(p.regime, p.start, p.end) for p in periods]
    # every regime entered after the first day lasts at least 14 days (the last may be cut
    # short by the end of the data)
    for p in periods[1:-1]:
        assert (p.end - p.start).days + 1 >= 14, (p.regime, p.start, p.end)


def test_a_regime_needing_a_basket_is_said_once_not_to_fire():
    revenue = load_ruleset(shipped_ruleset("cycle_revenue.yaml"))
    result = replay(revenue, HISTORY, _settings(date(2021, 1, 1), date(2021, 4, 30)))
    notes = [n for n in result.main.notes if "basket revenue_basket" in n]
    assert len(notes) == 1 and "regime rotate cannot fire in the backtest" in notes[0]
    assert "rotate" not in {d.regime for d in result.main.days}
