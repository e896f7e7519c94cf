"""How far the top-N dominance proxy is from real BTC dominance, and what that does to a rule.

`rotator history fetch` without a LiveCoinWatch key stores BTC's share of the top-N coins'
market caps (rotator.core.dominance_proxy) as a PROXY for BTC dominance. This script rebuilds
that proxy day by day from real per-coin market caps (the Kaggle/CoinMarketCap files in
tests/fixtures/history/kaggle_cryptocurrency_historical_prices: BTC, ETH, XRP, USDT, BNB, DOGE,
LTC, USDC, SOL) and compares it with the reference dominance series
(tests/fixtures/history/btc_dominance_pct_daily_2018-2021.csv, CoinGecko BTC market cap over
the total market cap) on every common day from 2018-01-01 to 2021-07-06. It prints

1. the level error, proxy - reference, in percentage points: mean, mean absolute and max;
2. the error of the 90-day change (what `fallen_from_peak` and `change` tests read);
3. the days the shipped `dominance_rolling_over` rule (rules/thesis.yaml: 3 points below the
   90-day peak on 3 days, held until a 5-point recovery) turns true on each series, and the
   shift between matching switch-on days.

Run: python3 bench/dominance_proxy.py [N]   (N = coins in the proxy, default all 9)
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rotator.config.ruleset import load_ruleset, shipped_ruleset  # noqa: E402
from rotator.core.dominance_proxy import dominance_proxy  # noqa: E402
from rotator.core.rules.engine import RuleSet, evaluate  # noqa: E402

HISTORY = ROOT / "tests" / "fixtures" / "history"
KAGGLE = HISTORY / "kaggle_cryptocurrency_historical_prices"
START, END = date(2018, 1, 1), date(2021, 7, 6)
MATCH_DAYS = 60  # switch-on days further apart than this count as unmatched


def coin_caps() -> dict[str, dict[date, float]]:
    """Coin symbol -> day -> market cap (USD) from the Kaggle files."""
    out = {}
    for path in sorted(KAGGLE.glob("coin_*.csv")):
        frame = pd.read_csv(path)
        days = pd.to_datetime(frame["Date"].str[:10]).dt.date
        out[str(frame["Symbol"].iloc[0])] = dict(
            zip(days, frame["Marketcap"].astype(float), strict=True)
        )
    return out


def proxy_series(caps: dict[str, dict[date, float]], coins: int) -> pd.Series:
    """The proxy over the `coins` largest coins (by their cap on END), as a daily series."""
    ranked = sorted(caps, key=lambda c: caps[c].get(END, 0.0), reverse=True)[:coins]
    if "BTC" not in ranked:
        ranked = ["BTC", *ranked[: coins - 1]]
    days = dominance_proxy({c: caps[c] for c in ranked}, btc="BTC")
    index = pd.DatetimeIndex([pd.Timestamp(d.day) for d in days])
    return pd.Series([d.dominance_pct for d in days], index=index)


def reference_series() -> pd.Series:
    frame = pd.read_csv(HISTORY / "btc_dominance_pct_daily_2018-2021.csv")
    return pd.Series(frame["value"].astype(float).to_numpy(), index=pd.DatetimeIndex(frame["Date"]))


def rolling_over_rule() -> RuleSet:
    """rules/thesis.yaml with only its `dominance_rolling_over` rule."""
    thesis = load_ruleset(shipped_ruleset("thesis.yaml"))
    spec = next(s for s in thesis.rules if s.name == "dominance_rolling_over")
    return RuleSet("dominance_rolling_over", (spec,), (), thesis.registry)


def switch_on_days(series: pd.Series, ruleset: RuleSet) -> list[date]:
    """Days the rule turns true (false or unknown the day before)."""
    history = {"btc_dominance": series}
    before: bool | None = None
    out = []
    for day in pd.date_range(START, END).date:
        value = evaluate(ruleset, history, day)["dominance_rolling_over"].value
        if value and not before:
            out.append(day)
        before = value
    return out


def match(reference: list[date], proxy: list[date]) -> list[tuple[date, date | None]]:
    """Each reference switch-on day with the nearest proxy one within MATCH_DAYS (or None)."""
    out = []
    for day in reference:
        near = min(proxy, key=lambda p: abs((p - day).days), default=None)
        out.append((day, near if near and abs((near - day).days) <= MATCH_DAYS else None))
    return out


def main() -> None:
    coins = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    started = time.perf_counter()
    caps = coin_caps()
    proxy = proxy_series(caps, coins)
    reference = reference_series()
    common = proxy.index.intersection(reference.index)
    common = common[(common >= pd.Timestamp(START)) & (common <= pd.Timestamp(END))]
    error = proxy[common] - reference[common]
    change = (proxy[common].diff(90) - reference[common].diff(90)).dropna()
    print(f"proxy: BTC's share of the top {coins} market caps; {len(common)} common days")
    print(f"{START} to {END}")
    print(
        f"level error (proxy - reference), pp: mean {error.mean():+.2f}, "
        f"mean abs {error.abs().mean():.2f}, max abs {error.abs().max():.2f} "
        f"(on {error.abs().idxmax().date()})"
    )
    print(
        f"90-day change error, pp: mean abs {change.abs().mean():.2f}, "
        f"max abs {change.abs().max():.2f}"
    )
    rule = rolling_over_rule()
    on_ref = switch_on_days(reference, rule)
    on_proxy = switch_on_days(proxy, rule)
    print(f"dominance_rolling_over switches on: reference {len(on_ref)}, proxy {len(on_proxy)}")
    shifts = []
    for day, near in match(on_ref, on_proxy):
        if near is None:
            print(f"  {day}: reference only")
            continue
        shifts.append((near - day).days)
        print(f"  {day}: proxy {near} ({(near - day).days:+d} days)")
    unmatched = [p for p in on_proxy if all(abs((p - r).days) > MATCH_DAYS for r in on_ref)]
    for day in unmatched:
        print(f"  {day}: proxy only")
    if shifts:
        mean = sum(abs(s) for s in shifts) / len(shifts)
        worst = max(abs(s) for s in shifts)
        print(f"shift of matched switch-on days: mean abs {mean:.1f} days, max abs {worst}")
    print(f"({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
