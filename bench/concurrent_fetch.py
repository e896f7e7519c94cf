"""Benchmark: are exchange accounts fetched concurrently, and does the market cache work?

Also: the warm one-account plan (market cache hit) for a Binance account with spot, funding
and earn wallets, in round trips (elapsed / injected latency): its wallets are read at once
and ccxt's rolling-window rate limiter lets them out together (at most 3 round trips at
300 ms), against the same run with ccxt's default leaky-bucket limiter, which spaces requests
by their cost (the earn endpoints cost 15 x 50 ms each).

Serves the bundled Binance demo responses from a local ReplayServer, each account under its
own path prefix with 300 ms of injected latency on every request, and times
`fetch_accounts` over 6 accounts against the same over 1 account. Concurrent fetching makes
the ratio close to 1 (sequential fetching would make it about 6). Then runs twice with a
market cache folder and counts market-definition requests on the second run (should be 0).

Run: python bench/concurrent_fetch.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rotator.adapters.exchanges import AccountSettings, fetch_accounts
from rotator.cli.clock import SYSTEM_CLOCK
from rotator.demo import DEMO_ENVIRON, binance_routes
from rotator.demo.replay import ReplayServer, api_urls_for

LATENCY = 0.3
REPEATS = 3
WANTED = {"BTC", "ETH", "BNB", "USDT", "LINK", "ADA"}


def accounts(server: ReplayServer, count: int, **ccxt_settings: object) -> list[AccountSettings]:
    return [
        AccountSettings(
            name=f"binance-{i}",
            exchange="binance",
            api_key_env="BINANCE_API_KEY",
            secret_env="BINANCE_SECRET",
            wallets=("spot", "funding", "earn"),
            # ccxt's own pacing (binance: 50 ms) stays on; only the SSL close grace is skipped.
            ccxt={
                "urls": api_urls_for("binance", f"{server.url}/a{i}"),
                "timeout_on_exit": 0,
                **ccxt_settings,
            },
        )
        for i in range(count)
    ]


def timed(
    server: ReplayServer, count: int, cache_dir: Path | None, **ccxt_settings: object
) -> tuple[float, int]:
    server.reset_requests()
    start = time.perf_counter()
    snaps = fetch_accounts(
        accounts(server, count, **ccxt_settings),
        WANTED,
        environ=DEMO_ENVIRON,
        clock=SYSTEM_CLOCK,
        cache_dir=cache_dir,
    )
    elapsed = time.perf_counter() - start
    failed = [str(p) for s in snaps for p in s.problems]
    if failed:
        raise SystemExit(f"benchmark run had problems: {failed}")
    return elapsed, len(server.requests)


def main() -> None:
    with ReplayServer() as server:
        for i in range(6):
            server.mount(f"/a{i}", binance_routes())
            server.fault(f"/a{i}/", latency=LATENCY)
        timed(server, 1, None)  # warm-up: imports, ccxt class setup

        # Best of REPEATS: the machine may be shared, and noise only ever adds time.
        one, one_requests = min(timed(server, 1, None) for _ in range(REPEATS))
        six, six_requests = min(timed(server, 6, None) for _ in range(REPEATS))
        print(f"injected latency per request: {LATENCY * 1000:.0f} ms (best of {REPEATS} runs)")
        print(f"1 account : {one:6.2f} s  ({one_requests} requests)")
        print(f"6 accounts: {six:6.2f} s  ({six_requests} requests)")
        print(f"ratio 6/1 : {six / one:6.2f}  (concurrent ~1, sequential ~6)")

        with tempfile.TemporaryDirectory() as folder:
            cache = Path(folder)
            cold, _ = timed(server, 6, cache)
            markets_cold = len([r for r in server.requests if r.path.endswith("/exchangeInfo")])
            warm, _ = timed(server, 6, cache)
            markets_warm = len([r for r in server.requests if r.path.endswith("/exchangeInfo")])
        print(f"market cache, run 1: {cold:6.2f} s, {markets_cold} market-definition requests")
        print(f"market cache, run 2: {warm:6.2f} s, {markets_warm} market-definition requests")

        # The warm one-account plan: markets from the cache, then wallets and tickers.
        with tempfile.TemporaryDirectory() as folder:
            cache = Path(folder)
            timed(server, 1, cache)  # fills the cache
            burst, burst_requests = min(timed(server, 1, cache) for _ in range(REPEATS))
            leaky = {"rateLimiterAlgorithm": "leakyBucket"}
            paced, _ = min(timed(server, 1, cache, **leaky) for _ in range(REPEATS))
        print(
            f"warm 1-account plan: {burst:6.2f} s = {burst / LATENCY:4.1f} round trips "
            f"({burst_requests} requests; at most 3 wanted)"
        )
        print(
            f"  same with ccxt's leaky bucket: {paced:6.2f} s = {paced / LATENCY:4.1f} round "
            f"trips (ratio {paced / burst:4.2f})"
        )


if __name__ == "__main__":
    main()
