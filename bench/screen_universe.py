"""Screen a synthetic universe of 5,000 protocols and 20,000 pools; print the time it takes.

The universe mimics DefiLlama's shapes: most protocols are children of a parent that carries the
token (so revenue is summed per token), some have no token, a few are chains, some data is
stale; pools are mostly LP pools with a staking pool per token; CoinGecko market data for every
token; two accounts whose markets list a third of the tokens. The screen runs on it with the
default parameters; a quarter-size universe is timed too, to show how the time grows.

Run: python bench/screen_universe.py
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from rotator.core.screen.params import ScreenParams
from rotator.core.screen.screening import ScreenData, screen

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)


def universe(protocols: int, pools: int, seed: int = 7) -> tuple[ScreenData, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    tokens = protocols // 2
    token_ids = np.array([f"token-{i}" for i in range(tokens)])
    symbols = np.array([f"T{i}" for i in range(tokens)])
    symbols[rng.choice(tokens, tokens // 50, replace=False)] = "DUP"  # colliding symbols
    slugs = np.array([f"proto-{i}" for i in range(protocols)])
    owner = rng.integers(0, tokens, protocols)  # several protocols per token
    via_parent = rng.random(protocols) < 0.4
    no_token = rng.random(protocols) < 0.1
    holders = rng.lognormal(12, 2, protocols) * np.where(rng.random(protocols) < 0.05, -1, 1)
    stale = rng.random(protocols) < 0.02
    fees = pd.DataFrame(
        {
            "slug": slugs,
            "name": slugs,
            "parent": np.where(via_parent, np.char.add("parent#", owner.astype(str)), None),
            "protocol_type": np.where(rng.random(protocols) < 0.02, "chain", "protocol"),
            "disabled": rng.random(protocols) < 0.01,
            "holders_30d": np.where(stale, np.nan, holders),
            "holders_prev_30d": holders * rng.uniform(0.5, 1.5, protocols),
            "revenue_30d": np.abs(holders) * 2,
            "has_holders": rng.random(protocols) < 0.9,
        }
    )
    protos = pd.DataFrame(
        {
            "slug": slugs,
            "gecko_id": np.where(via_parent | no_token, None, token_ids[owner]),
            "symbol": symbols[owner],
            "parent": fees["parent"],
        }
    )
    parents = pd.DataFrame(
        {"id": [f"parent#{i}" for i in range(tokens)], "gecko_id": token_ids, "name": token_ids}
    )
    project = rng.integers(0, protocols, pools)
    staking = rng.random(pools) < 0.2
    apy_base = rng.uniform(0, 10, pools)
    apy_reward = np.where(rng.random(pools) < 0.5, rng.uniform(0, 20, pools), np.nan)
    pool_frame = pd.DataFrame(
        {
            "project": slugs[project],
            "symbol": np.where(staking, symbols[owner[project]], "WETH-USDC"),
            "tvl_usd": rng.lognormal(15, 2, pools),
            "apy": apy_base + np.nan_to_num(apy_reward),
            "apy_base": apy_base,
            "apy_reward": apy_reward,
        }
    )
    mcap = rng.lognormal(19, 2, tokens)
    markets = pd.DataFrame(
        {
            "gecko_id": token_ids,
            "symbol": np.char.lower(symbols),
            "name": token_ids,
            "market_cap": np.where(rng.random(tokens) < 0.03, 0.0, mcap),
            "fdv": mcap * rng.uniform(1, 5, tokens),
            "volume_24h": mcap * rng.uniform(0.001, 0.1, tokens),
            "last_updated": pd.Timestamp(NOW - timedelta(hours=1)),
            "supply_growth": rng.normal(0.02, 0.03, tokens),
        }
    )
    listed = symbols[rng.random(tokens) < 0.33]
    accounts = pd.DataFrame(
        {
            "account": np.where(rng.random(len(listed)) < 0.5, "binance", "kraken"),
            "base": listed,
            "quote": "USDT",
            "active": True,
        }
    )
    fetched = NOW - timedelta(hours=2)
    data = ScreenData(
        fees=fees,
        protocols=protos,
        parents=parents,
        pools=pool_frame,
        markets=markets,
        as_of={k: fetched for k in ("fees", "protocols", "pools", "markets")},
    )
    return data, accounts


def timed(protocols: int, pools: int, runs: int = 3) -> tuple[float, pd.DataFrame]:
    data, accounts = universe(protocols, pools)
    params = ScreenParams()
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        outcome = screen(data, params, accounts, NOW)
        best = min(best, time.perf_counter() - start)
    return best, outcome.table


def main() -> None:
    small, _ = timed(1_250, 5_000)
    full, table = timed(5_000, 20_000)
    print(f"tokens screened: {len(table)} ({int(table['passed'].sum())} pass, "
          f"{int(table['in_basket'].sum())} in the basket)")  # fmt: skip
    print(f"1,250 protocols /  5,000 pools: {small * 1000:8.1f} ms (best of 3)")
    print(f"5,000 protocols / 20,000 pools: {full * 1000:8.1f} ms (best of 3)")
    print(f"4x the universe took {full / small:.1f}x the time")


if __name__ == "__main__":
    main()
