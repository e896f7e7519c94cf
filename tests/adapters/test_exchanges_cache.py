"""The market cache: a second run within the TTL loads no market definitions."""

from __future__ import annotations

from datetime import timedelta

from rotator.adapters.exchanges import fetch_accounts

MARKET_ROUTES = (
    "GET /b/api/v3/exchangeInfo",
    "GET /k/0/public/AssetPairs",
    "GET /k/0/public/Assets",
)


def _market_requests(server):
    return sum(len(server.requests_to(route)) for route in MARKET_ROUTES)


def _run(kit, accounts, cache_dir, now, ttl=3600):
    return fetch_accounts(
        accounts,
        {"USDT"},
        environ=kit.ENVIRON,
        now=lambda: now,
        cache_dir=cache_dir,
        market_ttl_seconds=ttl,
    )


def test_second_run_within_ttl_makes_no_market_requests(server, kit, tmp_path):
    server.mount("/b", kit.binance_routes())
    server.mount("/k", kit.kraken_routes())
    accounts = [
        kit.account(server, "binance-main", "binance", "/b"),
        kit.account(server, "kraken", "kraken", "/k"),
    ]
    cache = tmp_path / "markets"

    first = _run(kit, accounts, cache, kit.NOW)
    assert _market_requests(server) == 2
    server.reset_requests()

    second = _run(kit, accounts, cache, kit.NOW + timedelta(minutes=59))
    assert _market_requests(server) == 0
    # Same results from cached markets: holdings, markets and quotes.
    assert [s.markets for s in second] == [s.markets for s in first]
    assert [s.holdings for s in second] == [s.holdings for s in first]
    assert [[q.bid for q in s.quotes] for s in second] == [[q.bid for q in s.quotes] for s in first]
    assert all(s.ok for s in second)
    # Balances and tickers are never cached.
    assert len(server.requests_to("GET /b/api/v3/account")) == 1
    assert len(server.requests_to("GET /k/0/public/Ticker")) == 1

    server.reset_requests()
    _run(kit, accounts, cache, kit.NOW + timedelta(minutes=61))
    assert _market_requests(server) == 2  # expired: reloaded


def test_cache_key_ignores_credentials_and_never_stores_them(server, kit, tmp_path):
    server.mount("/b", kit.binance_routes())
    account = kit.account(server, "b", "binance", "/b")
    cache = tmp_path / "markets"
    _run(kit, [account], cache, kit.NOW)

    other_keys = {
        **kit.ENVIRON,
        "BINANCE_API_KEY": "otherKEY0123456789",
        "BINANCE_SECRET": "otherSECRET0123456789",
    }
    server.reset_requests()
    fetch_accounts([account], {"USDT"}, environ=other_keys, now=lambda: kit.NOW, cache_dir=cache)
    assert server.requests_to("GET /b/api/v3/exchangeInfo") == []

    [cache_file] = cache.glob("markets-binance-*.json")
    text = cache_file.read_text()
    assert "BTC/USDT" in text
    for value in (*kit.ENVIRON.values(), "otherKEY0123456789", "otherSECRET0123456789"):
        assert value not in text


def test_different_endpoint_settings_use_different_cache_entries(server, kit, tmp_path):
    server.mount("/b", kit.binance_routes())
    server.mount("/b2", kit.binance_routes())
    cache = tmp_path / "markets"
    _run(kit, [kit.account(server, "b", "binance", "/b")], cache, kit.NOW)
    _run(kit, [kit.account(server, "b2", "binance", "/b2")], cache, kit.NOW)
    assert len(server.requests_to("GET /b2/api/v3/exchangeInfo")) == 1
    assert len(list(cache.glob("markets-binance-*.json"))) == 2


def test_corrupt_cache_file_is_ignored(server, kit, tmp_path):
    server.mount("/b", kit.binance_routes())
    account = kit.account(server, "b", "binance", "/b")
    cache = tmp_path / "markets"
    _run(kit, [account], cache, kit.NOW)
    [cache_file] = cache.glob("*.json")
    cache_file.write_text("{not json")
    server.reset_requests()
    [snap] = _run(kit, [account], cache, kit.NOW)
    assert snap.ok
    assert len(server.requests_to("GET /b/api/v3/exchangeInfo")) == 1


def test_entries_unused_for_a_day_are_pruned(server, kit, tmp_path):
    import os
    import time

    server.mount("/b", kit.binance_routes())
    cache = tmp_path / "markets"
    cache.mkdir()
    stale = cache / "markets-binance-0000000000000000.json"
    recent = cache / "markets-kraken-1111111111111111.json"
    for path in (stale, recent):
        path.write_text("{}")
    day_and_a_bit = time.time() - 25 * 3600
    os.utime(stale, (day_and_a_bit, day_and_a_bit))
    _run(kit, [kit.account(server, "b", "binance", "/b")], cache, kit.NOW)
    assert not stale.exists()
    assert recent.exists()
    assert len(list(cache.glob("markets-binance-*.json"))) == 1


def test_fresh_but_unusable_cache_entry_falls_back_to_loading(server, kit, tmp_path):
    import json

    server.mount("/b", kit.binance_routes())
    account = kit.account(server, "b", "binance", "/b")
    cache = tmp_path / "markets"
    _run(kit, [account], cache, kit.NOW)
    [cache_file] = cache.glob("*.json")
    entry = json.loads(cache_file.read_text())
    entry["markets"] = {"BTC/USDT": {"no": "symbol"}}
    cache_file.write_text(json.dumps(entry))
    server.reset_requests()
    [snap] = _run(kit, [account], cache, kit.NOW)
    assert snap.ok, snap.problems
    assert [m.symbol for m in snap.markets] == ["BTC/USDT"]
    assert len(server.requests_to("GET /b/api/v3/exchangeInfo")) == 1
