"""Chain wallet reads with 100 ms injected latency on every request; print round trips and ratios.

Two wallets are read from a loopback replay server whose every answer is delayed 100 ms:
- a Bitcoin xpub (the BIP-84 test vector account) with 60 used receive addresses, gap limit 20,
  from an Esplora endpoint (one address per request, a batch's addresses read concurrently);
- an Ethereum address holding 50 ERC-20 tokens and ETH, through Multicall3 aggregate3, and
  again with `multicall: false` (JSON-RPC batches).
The server runs in its own process (its JSON and ABI work would otherwise hold the client's
interpreter lock). Round trips are counted from the client's own request times (each request
is one round trip deeper than the deepest one whose answer came back before it was sent); the
wall time is printed too, in latencies: it adds this machine's CPU time per request (request
building, HD derivation, ABI coding; several ms on a loaded machine). Fastest of three reads
after an untimed warm-up. The issue's bounds: the xpub in at most one round trip per gap-limit
batch plus two; the 50 token balances in at most two round trips.

Run: python bench/chain_wallets.py
"""

from __future__ import annotations

import asyncio
import sys
import time
from multiprocessing import Pipe, Process
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from rotator.adapters.chains.read import open_endpoint, read_chain_wallet
from rotator.cli.clock import SYSTEM_CLOCK
from rotator.config.chains import ChainWallet
from rotator.config.keys import parse_hd
from rotator.demo.chains import DEMO_ZPUB, EvmState, esplora_routes
from rotator.demo.replay import ReplayServer
from rotator.pipeline.chains import wallet_settings

LATENCY = 0.1
USED = 60
GAP = 20
TOKENS = 50
HOLDER = "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045"


def serve(conn: Connection) -> None:
    """The loopback server, in its own process so its work does not hold the client's GIL."""
    hd = parse_hd(DEMO_ZPUB)
    used = {a: 10_000 for a in hd.addresses(0, 0, USED)}
    unused = hd.addresses(0, USED, 3 * GAP) + hd.addresses(1, 0, 2 * GAP)
    holders = {HOLDER.lower(): 10**6}
    tokens = {f"0x{i + 1:040x}": (6 + 6 * (i % 3), holders) for i in range(TOKENS)}
    state = EvmState(block=1, native={HOLDER.lower(): 10**18}, tokens=tokens)
    with ReplayServer() as server:
        server.mount("/btc", esplora_routes(used, unused, 900_000))
        server.add_route("POST /eth", state.body())
        conn.send(server.url)
        while (command := conn.recv()) != "stop":
            if isinstance(command, float):  # set the injected latency
                server.clear_faults()
                if command:
                    server.fault("/", latency=command)
                server.reset_requests()
                conn.send(None)
            else:
                conn.send(len(server.requests))


def depth(timings: list[tuple[float, float]]) -> int:
    """Round trips the client waited in sequence: a request is one deeper than the deepest
    request whose answer had arrived before it was sent (times taken by the client)."""
    done: list[tuple[float, int]] = []
    deepest = 0
    for start, end in sorted(timings):
        level = 1 + max((d for e, d in done if e <= start), default=0)
        done.append((end, level))
        deepest = max(deepest, level)
    return deepest


def read_once(conn: Connection, wallet: ChainWallet) -> tuple[float, int, int, Any]:
    """(wall seconds, round trips, HTTP requests in the server's log, snapshot)."""
    conn.send(LATENCY)
    conn.recv()
    settings = wallet_settings(wallet, {})
    endpoint = open_endpoint(settings, SYSTEM_CLOCK)

    async def read() -> Any:
        try:
            return await read_chain_wallet(settings, SYSTEM_CLOCK, endpoint)
        finally:
            await endpoint.aclose()

    started = time.perf_counter()
    snap = asyncio.run(read())
    elapsed = time.perf_counter() - started
    assert snap.ok, snap.problems
    conn.send("count")
    return elapsed, depth(endpoint.timings), conn.recv(), snap


def timed(conn: Connection, wallet: ChainWallet) -> tuple[float, int, int, Any]:
    """The fastest of three reads after one untimed warm-up (imports, first connections)."""
    read_once(conn, wallet)
    return min((read_once(conn, wallet) for _ in range(3)), key=lambda r: r[0])


def main() -> None:
    from eth_utils import to_checksum_address

    token_map = {f"T{i}": to_checksum_address(f"0x{i + 1:040x}") for i in range(TOKENS)}
    conn, child = Pipe()
    process = Process(target=serve, args=(child,), daemon=True)
    process.start()
    url = conn.recv()
    try:
        btc = ChainWallet(
            name="xpub",
            chain="bitcoin",
            xpub=DEMO_ZPUB,
            gap_limit=GAP,
            rpc_url=f"{url}/btc",
            requests_per_second=1000,
        )
        seconds, trips, requests, snap = timed(conn, btc)
        batches = -(-USED // GAP) + 1  # receive chain: ceil(60/20) batches with used ones + 1
        bound = batches + 2
        print(
            f"xpub, {USED} used addresses, gap limit {GAP}, {LATENCY * 1000:.0f} ms latency: "
            f"{requests} requests, {trips} round trips, {seconds:.2f} s wall "
            f"(= {seconds / LATENCY:.1f} latencies)"
        )
        print(
            f"  bound: {batches} gap-limit batches + 2 = {bound} round trips; round trips / "
            f"bound = {trips / bound:.2f}; wall latencies / bound = "
            f"{seconds / LATENCY / bound:.2f}; one-by-one / wall = "
            f"{requests * LATENCY / seconds:.1f}x"
        )
        print(
            f"  balance {snap.holdings[0].total} BTC over {snap.holdings[0].source.addresses} "
            "used addresses"
        )
        for multicall in (True, False):
            evm = ChainWallet(
                name="evm",
                chain="ethereum",
                addresses=(HOLDER,),
                tokens=token_map,
                rpc_url=f"{url}/eth",
                requests_per_second=1000,
                multicall=None if multicall else False,
            )
            seconds, trips, requests, snap = timed(conn, evm)
            how = "Multicall3 aggregate3" if multicall else "JSON-RPC batches"
            print(
                f"EVM, {TOKENS} tokens + ETH via {how}: {requests} HTTP requests, {trips} "
                f"round trip(s), {seconds:.2f} s wall (= {seconds / LATENCY:.1f} latencies); "
                f"round trips / bound 2 = {trips / 2:.2f}; {len(snap.holdings)} balances"
            )
    finally:
        conn.send("stop")
        process.join(timeout=10)


if __name__ == "__main__":
    main()
