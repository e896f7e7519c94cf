"""Bitcoin: Esplora and blockchain.info answers (recorded and composed), xpub gap-limit scans."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from email.utils import format_datetime
from urllib.parse import unquote

from conftest import NOW, fixture, read
from fake_clock import FakeClock

from rotator.config.keys import parse_hd
from rotator.core.models import WalletKind
from rotator.demo.chains import DEMO_ZPUB, esplora_address, esplora_routes

TAPROOT = "bc1pjt9a2j85q8yn6p0g7q07c38nev9wct9fquj9fda7283y94khmc0s3fwp4j"


def test_esplora_recorded_address_balance_and_source(server):
    server.mount("/btc", {"GET /blocks/tip/height": b"901541"})  # composed: a plain integer
    server.add_route(
        f"GET /btc/address/{TAPROOT}", fixture("esplora.address.mainnet.bc1pjt9a2j85.xchainpy.json")
    )
    snap = read(server, "/btc", chain="bitcoin", addresses=[TAPROOT])
    assert snap.ok and snap.exchange == "chain:bitcoin"
    [h] = snap.holdings
    # chain_stats: funded_txo_sum - spent_txo_sum = 5589017 sat (confirmed only)
    assert h.asset == "BTC" and h.total == Decimal("0.05589017")
    assert h.wallet is WalletKind.ONCHAIN and not h.sellable
    assert h.source.address == TAPROOT and h.source.block == 901541 and h.source.read_at == NOW
    assert len(server.requests) == 2


def test_retry_after_is_waited_on_the_runs_clock(server):
    """A 429 asking for 7 s (then an HTTP date 5 s after the run's time): each is one wait of
    that length on the run's clock, recorded by the fake clock instead of slept."""
    server.mount("/btc", {"GET /blocks/tip/height": b"901541"})
    server.add_route(
        f"GET /btc/address/{TAPROOT}", fixture("esplora.address.mainnet.bc1pjt9a2j85.xchainpy.json")
    )
    tip = "GET /btc/blocks/tip/height"
    server.fault(tip, status=429, headers={"Retry-After": "7"}, times=1)
    fake = FakeClock(NOW, frozen=True)
    snap = read(server, "/btc", clock=fake.clock, chain="bitcoin", addresses=[TAPROOT], retries=1)
    assert snap.ok, snap.problems
    assert len(server.requests_to(tip)) == 2
    assert [w for w in fake.waits if w >= 0.5] == [7.0]  # not the 0.5 s back-off

    when = format_datetime(NOW + timedelta(seconds=5), usegmt=True)
    server.fault(tip, status=429, headers={"Retry-After": when}, times=1)
    fake = FakeClock(NOW, frozen=True)
    snap = read(server, "/btc", clock=fake.clock, chain="bitcoin", addresses=[TAPROOT], retries=1)
    assert snap.ok, snap.problems
    assert [w for w in fake.waits if w >= 0.5] == [5.0]  # read against the run's time


def _wallet_routes(used: dict[tuple[int, int], int], scanned: int = 120) -> dict:
    hd = parse_hd(DEMO_ZPUB)
    wallet = {hd.address(b, i): sats for (b, i), sats in used.items()}
    unused = [a for b in (0, 1) for a in hd.addresses(b, 0, scanned) if a not in wallet]
    return esplora_routes(wallet, unused, 924310)


def test_xpub_scan_reads_batches_until_the_gap_limit(server):
    used = {(0, i): 1000 for i in range(60)} | {(1, 0): 500, (1, 1): 250}
    server.mount("/btc", _wallet_routes(used))
    snap = read(server, "/btc", chain="bitcoin", xpub=DEMO_ZPUB)
    [h] = snap.holdings
    assert h.total == Decimal(60 * 1000 + 750) / 100_000_000
    assert h.source.addresses == 62 and h.source.address == DEMO_ZPUB
    asked = [r.path for r in server.requests if "/address/" in r.path]
    # receive: 4 batches of 20 (the 4th all unused); change: 2 batches (used 0 and 1 leave
    # only 18 unused in the first); plus the tip height
    assert len(asked) == 80 + 40 and len(server.requests) == 121


def test_gap_limit_stops_after_enough_unused_addresses(server):
    hd = parse_hd(DEMO_ZPUB)
    server.mount("/btc", _wallet_routes({(0, 0): 7, (0, 25): 9}))
    snap = read(server, "/btc", chain="bitcoin", xpub=DEMO_ZPUB, change=False)
    assert snap.holdings[0].total == Decimal(16) / 100_000_000
    asked = {r.path.rsplit("/", 1)[1] for r in server.requests if "/address/" in r.path}
    # index 25 used: the batch 40..59 leaves 34 unused after it -> stop; 60 is never asked
    assert hd.address(0, 59) in asked and hd.address(0, 60) not in asked
    assert len(asked) == 60 and hd.address(1, 0) not in asked


def test_gap_limit_is_configurable(server):
    server.mount("/btc", _wallet_routes({(0, 3): 100}))
    snap = read(server, "/btc", chain="bitcoin", xpub=DEMO_ZPUB, gap_limit=5, change=False)
    assert snap.holdings[0].total == Decimal(100) / 100_000_000
    assert len([r for r in server.requests if "/address/" in r.path]) == 10


def test_blockchain_info_reads_a_batch_of_addresses_in_one_request(server):
    # The 20 P2SH addresses of the recorded request (all unused: the gap-limit answer).
    recorded = fixture("blockchain_info.multiaddr.p2sh_batch20_zero.2025-06-16.json")
    import json

    addresses = [a["address"] for a in json.loads(recorded)["addresses"]]
    server.add_route("GET /bci/multiaddr", recorded)
    snap = read(server, "/bci", chain="bitcoin", api="blockchain_info", addresses=addresses)
    assert snap.ok and snap.holdings == ()
    [request] = server.requests
    assert set(unquote(request.query["active"][0]).split("|")) == set(addresses)


def test_esplora_answer_without_stats_is_a_failed_read(server):
    server.mount("/btc", {"GET /blocks/tip/height": b"1", f"GET /address/{TAPROOT}": b"{}"})
    snap = read(server, "/btc", chain="bitcoin", addresses=[TAPROOT])
    assert not snap.ok and snap.holdings == ()
    assert "unexpected answer" in snap.problems[0].message


def test_composed_answer_layout_matches_the_recording():
    import json

    recorded = json.loads(fixture("esplora.address.mainnet.bc1pjt9a2j85.xchainpy.json"))
    composed = json.loads(esplora_address(TAPROOT, 5))
    assert set(composed) <= set(recorded)
    assert set(composed["chain_stats"]) == set(recorded["chain_stats"])
