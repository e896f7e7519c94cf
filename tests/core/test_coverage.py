"""History coverage and the dominance proxy: pure functions on literal inputs."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from rotator.config.ruleset import load_ruleset, shipped_ruleset
from rotator.core.coverage import StoredExtent, assess_coverage, history_note
from rotator.core.dominance_proxy import dominance_proxy, is_proxy, proxy_source

TODAY = date(2026, 6, 30)


def test_every_status_from_literal_extents():
    needed = {"close:BTC": 1460, "btc_dominance": 93, "fred:WALCL": 42, "index:MOVE": 60}
    stored = {
        # full: starts before today - 1460 and ends yesterday
        "close:BTC": StoredExtent(1500, TODAY - timedelta(days=1500), TODAY - timedelta(days=1)),
        # short: 30 days where 93 are needed
        "btc_dominance": StoredExtent(30, TODAY - timedelta(days=30), TODAY - timedelta(days=1)),
        # stale: enough days, but the newest is 40 days old (max_age 10 + lag 1 + 3)
        "fred:WALCL": StoredExtent(100, TODAY - timedelta(days=700), TODAY - timedelta(days=40)),
    }
    ages = {"close:BTC": 2, "btc_dominance": 3, "fred:WALCL": 10, "index:MOVE": 5}
    lines = {c.series: c for c in assess_coverage(needed, stored, ages, TODAY)}
    assert [lines[n].status for n in needed] == ["ok", "short", "stale", "missing"]
    assert lines["close:BTC"].stored_days == 1500 and lines["close:BTC"].needed_days == 1460
    assert lines["index:MOVE"].first is None and lines["index:MOVE"].stored_days == 0
    assert "rotator history fetch" in lines["btc_dominance"].describe()
    assert "MOVE.csv" in lines["index:MOVE"].describe()
    assert "rotator history fetch" not in lines["close:BTC"].describe()
    assert lines["btc_dominance"].as_json() == {
        "series": "btc_dominance",
        "stored_days": 30,
        "first": "2026-05-31",
        "last": "2026-06-29",
        "needed_days": 93,
        "status": "short",
        "sources": [],
        "fill": "rotator history fetch",
    }


def test_a_weekly_series_a_week_old_is_not_stale():
    extent = StoredExtent(300, date(2020, 1, 1), TODAY - timedelta(days=8))
    (line,) = assess_coverage({"fred:WALCL": 42}, {"fred:WALCL": extent}, {"fred:WALCL": 10}, TODAY)
    assert line.status == "ok"


def test_shipped_rule_sets_declare_their_lookbacks():
    cycle = load_ruleset(shipped_ruleset("cycle.yaml")).lookbacks()
    # prior_high_break (find: drawdown) reaches back its lookback_days (1460 by default);
    # fallen_from_peak needs its 90-day window plus 3 confirming days.
    assert cycle == {"close:BTC": 1460, "btc_dominance": 93}
    thesis = load_ruleset(shipped_ruleset("thesis.yaml")).lookbacks()
    assert thesis["fred:WALCL"] == 28 + 14 and thesis["treasury:buybacks"] == 56
    assert thesis["index:MOVE"] == 90 and thesis["fred:DGS10"] == 90 + 2 * 20 + 14


def test_history_note_names_the_rules_the_series_and_the_command():
    coverage = assess_coverage(
        {"close:BTC": 1460, "btc_dominance": 93},
        {"close:BTC": StoredExtent(2000, date(2020, 1, 1), TODAY - timedelta(days=1))},
        {},
        TODAY,
    )
    inputs = {"up": ("close:BTC",), "dom": ("btc_dominance",), "both": ()}
    note = history_note(inputs, ["dom", "both"], coverage)
    assert note == (
        "1 rule unknown for lack of history (dom; btc_dominance missing): run "
        "`rotator history fetch`, then `rotator check` shows the coverage"
    )
    assert history_note(inputs, ["up"], coverage) is None  # unknown, but not for history


def test_proxy_is_btc_share_of_the_summed_caps():
    d1, d2, d3 = date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 3)
    caps = {
        "bitcoin": {d1: 800.0, d2: 900.0, d3: 600.0},
        "ethereum": {d1: 200.0, d2: 100.0, d3: 300.0},
        "solana": {d2: 200.0, d3: 100.0},  # listed on d2: counts 0 before
    }
    days = dominance_proxy(caps)
    assert [(d.day, d.dominance_pct) for d in days] == [
        (d1, pytest.approx(80.0)),
        (d2, pytest.approx(75.0)),
        (d3, pytest.approx(60.0)),
    ]
    assert days[1].btc_market_cap == 900.0 and days[1].total_market_cap == 1200.0


def test_proxy_bridges_short_gaps_and_skips_long_ones():
    start = date(2024, 1, 1)
    day = [start + timedelta(days=k) for k in range(10)]
    btc = {d: 100.0 for d in day}
    eth = {day[0]: 100.0, day[2]: 100.0, day[9]: 100.0}  # gap of 1 day, then of 6 days
    days = {d.day: d.dominance_pct for d in dominance_proxy({"bitcoin": btc, "ethereum": eth})}
    assert days[day[1]] == pytest.approx(50.0)  # ethereum's day-0 cap carried over one day
    assert day[6] not in days and day[7] not in days  # more than 3 days without ethereum
    assert days[day[5]] == pytest.approx(50.0) and days[day[9]] == pytest.approx(50.0)


def test_proxy_source_says_proxy():
    assert proxy_source(10) == "proxy:coingecko-top10" and is_proxy(proxy_source(3))
    assert not is_proxy("livecoinwatch")
