"""Hostile chain endpoints and oracles through the real CLI.

A `HostileServer` on 127.0.0.1 plays Esplora, blockchain.info, an EVM node, a Solana node,
CoinGecko and DefiLlama. Every hostile answer must end in a failed wallet or an unpriced
asset (exit 3, plan incomplete, a message naming what went wrong), or in a right result; never
in a traceback, a hang, or a complete plan built on a wrong number.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hostile_server import HostileServer

from rotator.cli.app import cli
from rotator.demo.chains import DEMO_ZPUB as ZPUB
from rotator.demo.chains import EvmState, esplora_address
from rotator.demo.replay import RecordedRequest

NOW = "2026-06-01T12:00:00+00:00"
ADDRESS = "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"
VITALIK = "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045"
SOL_ADDRESS = "7pFGok3zuvacRP797Ke3bUZqbq24PbVQNLvwopfErvih"
PRICES = {"bitcoin": 60000, "ethereum": 3000, "solana": 150, "xdai": 1, "staked-ether": 3000}


def coingecko(table: dict[str, Any]):
    def answer(request: RecordedRequest) -> bytes:
        ids = request.query["ids"][0].split(",")
        vs = request.query["vs_currencies"][0]
        return json.dumps({i: {vs: table[i]} for i in ids if i in table}).encode()

    return answer


def write(tmp_path: Path, server: HostileServer, wallets: str, extra: str = "") -> Path:
    path = tmp_path / "portfolio.yaml"
    path.write_text(
        f"""base_currency: {"BTC" if "base: BTC" in extra else "USD"}
targets: {{BTC: 0.5, ETH: 0.5}}
wallets:
{wallets}
oracles:
  coingecko_url: {server.url}/cg
  defillama_url: {server.url}/llama
{extra.replace("base: BTC", "")}
"""
    )
    return path


def btc_wallet(server: HostileServer, **fields: Any) -> str:
    lines = [
        "  - name: vault",
        "    chain: bitcoin",
        f"    rpc_url: {server.url}/btc",
        "    requests_per_second: 1000",
        "    retries: 0",
    ]
    if "xpub" not in fields and "addresses" not in fields:
        fields["addresses"] = f"[{ADDRESS}]"
    lines += [f"    {k}: {v}" for k, v in fields.items()]
    return "\n".join(lines)


def serve_btc(server: HostileServer, sats: int = 50_000_000, height: bytes = b"900000") -> None:
    server.add_route("GET /btc/blocks/tip/height", height)
    server.add_route(f"GET /btc/address/{ADDRESS}", esplora_address(ADDRESS, sats))
    server.add_route("GET /cg/simple/price", coingecko(PRICES))


def plan(path: Path, *args: str) -> tuple[Any, dict[str, Any] | None]:
    result = CliRunner().invoke(
        cli,
        ["plan", "--config", str(path), "--format", "json", "--no-save", "--now", NOW, *args],
        env={},
    )
    assert "Traceback" not in result.output
    out = result.stdout
    return result, (json.loads(out) if out.startswith("{") else None)


def incomplete(result: Any, data: dict[str, Any] | None, message: str) -> None:
    assert result.exit_code == 3, result.output
    assert data is not None and data["complete"] is False and data["orders"] == []
    texts = " | ".join(p["message"] for p in data["problems"])
    assert message in texts, texts


# -- configuration: addresses of other coins and networks (item 8) ------------------------
LITECOIN = "LKDyUEtTR1HXamkiEphisSiBJu6o3ZPE34"  # base58 version 0x30 (Litecoin P2PKH)


@pytest.mark.parametrize(
    ("address", "message"),
    [
        (LITECOIN, "base58 version byte 0x30"),
        ("ltc1qqqqsyqcyq5rqwzqfpg9scrgwpugpzysn3s44dy", "bech32 prefix 'ltc'"),
        ("xyz1qqqqsyqcyq5rqwzqfpg9scrgwpugpzysnqsgree", "bech32 prefix 'xyz'"),
        ("bcrt1qqqqsyqcyq5rqwzqfpg9scrgwpugpzysnard0ew", "bcrt1… testnet address"),
    ],
)
@pytest.mark.parametrize("command", ["check", "plan"])
def test_other_coins_addresses_are_config_errors(tmp_path, hostile, address, message, command):
    path = write(tmp_path, hostile, btc_wallet(hostile, addresses=f"[{address}]"))
    result = CliRunner().invoke(cli, [command, "--config", str(path)], env={})
    assert result.exit_code == 2, result.output
    assert "portfolio.yaml" in result.output and message in result.output
    assert "Traceback" not in result.output and "AttributeError" not in result.output


# -- transport: redirect, drip, flood, nesting (items 1, 5, 6) -----------------------------
def test_chain_redirect_is_not_followed(tmp_path, hostile):
    serve_btc(hostile)
    with HostileServer() as elsewhere:
        elsewhere.echo("/")
        hostile.redirect(f"GET /btc/address/{ADDRESS}", f"{elsewhere.url}/steal")
        result, data = plan(write(tmp_path, hostile, btc_wallet(hostile)))
        assert elsewhere.requests == []
    incomplete(result, data, "HTTP 307 redirect not followed")


def test_dripping_chain_answer_ends_at_timeout_seconds(tmp_path, hostile):
    serve_btc(hostile)
    hostile.drip(f"GET /btc/address/{ADDRESS}", interval=0.05, size=1000)
    result, data = plan(write(tmp_path, hostile, btc_wallet(hostile, timeout_seconds=0.4)))
    asked = hostile.requests_to(f"GET /btc/address/{ADDRESS}")
    assert asked and time.monotonic() - asked[0].at < 3  # the drip alone would take 50 s
    incomplete(result, data, "timed out after 0.4 s")


def test_wallet_deadline_bounds_the_whole_read(tmp_path, hostile):
    serve_btc(hostile)
    hostile.drip(f"GET /btc/address/{ADDRESS}", interval=0.05, size=1000)
    wallet = btc_wallet(hostile, timeout_seconds=5, deadline_seconds=0.5)
    result, data = plan(write(tmp_path, hostile, wallet))
    asked = hostile.requests_to(f"GET /btc/address/{ADDRESS}")
    assert asked and time.monotonic() - asked[0].at < 3  # the drip alone would take 50 s
    incomplete(result, data, "read not finished within 0.5 s (deadline_seconds)")


def test_flooding_chain_answer_is_cut_off(tmp_path, hostile):
    serve_btc(hostile)
    hostile.flood(f"GET /btc/address/{ADDRESS}", 17 * 2**20)
    result, data = plan(write(tmp_path, hostile, btc_wallet(hostile)))
    incomplete(result, data, "answer larger than 16 MiB")


def test_deeply_nested_chain_answer(tmp_path, hostile):
    serve_btc(hostile)
    hostile.nest(f"GET /btc/address/{ADDRESS}", 100_000)
    result, data = plan(write(tmp_path, hostile, btc_wallet(hostile)))
    incomplete(result, data, "nested too deeply")


# -- Esplora and multiaddr values (items 4, 6, 7, 8) ---------------------------------------
def esplora(funded: Any, spent: Any, txs: Any = 1) -> bytes:
    stats = {"funded_txo_sum": funded, "spent_txo_sum": spent, "tx_count": txs}
    return json.dumps({"address": ADDRESS, "chain_stats": stats, "mempool_stats": {}}).encode()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{}", "no chain_stats"),
        (b"[]", "no chain_stats"),
        (b"null", "no chain_stats"),
        (esplora(1000, 5000), "spent more than it was funded"),
        (b'{"chain_stats": {"funded_txo_sum": 1e30, "spent_txo_sum": 0, "tx_count": 1}}', "whole"),
        (esplora(10**30, 0), "out of range"),
        (esplora(1000, 0, "1"), "tx_count is not a whole number"),
        (b'{"chain_stats": {"funded_txo_sum": 1e400, "spent_txo_sum": 0, "tx_count": 1}}', "whole"),
        (esplora(-5, -10), "out of range"),
    ],
)
def test_hostile_esplora_values_fail_the_wallet(tmp_path, hostile, body, message):
    serve_btc(hostile)
    hostile.add_route(f"GET /btc/address/{ADDRESS}", body)
    result, data = plan(write(tmp_path, hostile, btc_wallet(hostile)))
    incomplete(result, data, message)


def test_five_thousand_digit_height_fails_the_wallet(tmp_path, hostile):
    serve_btc(hostile, height=b"9" * 5000)
    result, data = plan(write(tmp_path, hostile, btc_wallet(hostile)))
    incomplete(result, data, "not a height")


def test_xpub_scan_stops_at_max_addresses(tmp_path, hostile):
    serve_btc(hostile)
    hostile.fault("/btc/address/", status=200, body=esplora(0, 0, 1))  # every address used
    wallet = btc_wallet(hostile, xpub=ZPUB, gap_limit=20, max_addresses=60)
    result, data = plan(write(tmp_path, hostile, wallet))
    incomplete(result, data, "max_addresses (60)")
    assert len(hostile.requests_to("/btc/address/")) <= 2 * 60


def test_max_addresses_below_gap_limit_is_a_config_error(tmp_path, hostile):
    wallet = btc_wallet(hostile, xpub=ZPUB, gap_limit=20, max_addresses=10)
    result = CliRunner().invoke(cli, ["check", "--config", str(write(tmp_path, hostile, wallet))])
    assert result.exit_code == 2 and "max_addresses (10) must be at least gap_limit" in (
        result.output
    )


def multiaddr(info: Any) -> Any:
    def answer(request: RecordedRequest) -> bytes:
        wanted = request.query["active"][0].split("|")
        rows = [{"address": a, "final_balance": 512_000, "n_tx": 1} for a in wanted]
        return json.dumps({"addresses": rows, **({"info": info} if info else {})}).encode()

    return answer


def test_multiaddr_without_latest_block_reads_with_the_block_unknown(tmp_path, hostile):
    serve_btc(hostile)
    hostile.add_route("GET /btc/multiaddr", multiaddr(None))
    result, data = plan(write(tmp_path, hostile, btc_wallet(hostile, api="blockchain_info")))
    assert result.exit_code == 0, result.output
    [row] = data["onchain"]
    assert row["amount"] == "0.00512" and row["block"] is None


def test_btc_base_currency_keeps_small_values(tmp_path, hostile):
    serve_btc(hostile)
    hostile.add_route("GET /btc/multiaddr", multiaddr({"latest_block": {"height": 900000}}))
    path = write(tmp_path, hostile, btc_wallet(hostile, api="blockchain_info"), "base: BTC")
    result, data = plan(path)
    assert result.exit_code == 0, result.output
    assert data["base_currency"] == "BTC" and data["total_value"] == "0.00512"
    [row] = data["onchain"]
    assert row["value"] == "0.00512"


# -- EVM (items 6, 8) ---------------------------------------------------------------------
def evm_wallet(server: HostileServer, **fields: Any) -> str:
    lines = [
        "  - name: hot",
        "    chain: ethereum",
        f"    addresses: ['{VITALIK}']",
        f"    rpc_url: {server.url}/eth",
        "    retries: 0",
    ]
    return "\n".join(lines + [f"    {k}: {v}" for k, v in fields.items()])


def test_two_to_the_256_wei_fails_the_wallet(tmp_path, hostile):
    hostile.add_route("GET /cg/simple/price", coingecko(PRICES))
    hostile.add_route("POST /eth", EvmState(native={VITALIK.lower(): 2**256 - 1}).body())
    result, data = plan(write(tmp_path, hostile, evm_wallet(hostile)))
    incomplete(result, data, "implausible")


@pytest.mark.parametrize("multicall", ["false", None])
def test_single_answer_to_a_batch_fails_the_wallet(tmp_path, hostile, multicall):
    hostile.add_route("GET /cg/simple/price", coingecko(PRICES))
    hostile.add_route("POST /eth", b'{"jsonrpc": "2.0", "id": 1, "result": "0x1"}')
    fields = {"multicall": multicall} if multicall else {}
    result, data = plan(write(tmp_path, hostile, evm_wallet(hostile, **fields)))
    incomplete(result, data, "one answer to a batch")


def test_batch_answer_with_duplicated_ids_fails_the_wallet(tmp_path, hostile):
    hostile.add_route("GET /cg/simple/price", coingecko(PRICES))
    state = EvmState(native={VITALIK.lower(): 10**18}).body()

    def doubled(request: RecordedRequest) -> bytes:
        replies = json.loads(state(request))
        return json.dumps(replies + replies[:1]).encode()

    hostile.add_route("POST /eth", doubled)
    result, data = plan(write(tmp_path, hostile, evm_wallet(hostile, multicall="false")))
    incomplete(result, data, "answered twice")


def test_gnosis_by_chain_id_counts_xdai_not_eth(tmp_path, hostile):
    hostile.add_route("GET /cg/simple/price", coingecko(PRICES))
    hostile.add_route(
        "POST /eth", EvmState(chain_id=100, native={VITALIK.lower(): 5 * 10**18}).body()
    )
    wallet = evm_wallet(hostile, chain_id=100)
    result, data = plan(write(tmp_path, hostile, wallet))
    rows = {r["asset"]: r for r in (data or {}).get("onchain", [])}
    assert set(rows) == {"XDAI"}, result.output
    assert rows["XDAI"]["value"] == "5"


def test_unknown_chain_id_needs_native(tmp_path, hostile):
    path = write(tmp_path, hostile, evm_wallet(hostile, chain_id=777777))
    for command in ("check", "plan"):
        result = CliRunner().invoke(cli, [command, "--config", str(path)], env={})
        assert result.exit_code == 2 and "set native:" in result.output
        assert "Traceback" not in result.output


# -- Solana (items 4, 6, 7) ---------------------------------------------------------------
def solana(accounts: Any) -> Any:
    def answer(request: RecordedRequest) -> bytes:
        calls = json.loads(request.body)
        out = []
        for call in calls if isinstance(calls, list) else [calls]:
            value = accounts if call["method"] == "getMultipleAccounts" else []
            result = {"context": {"slot": 7}, "value": value}
            out.append({"jsonrpc": "2.0", "id": call["id"], "result": result})
        return json.dumps(out if isinstance(calls, list) else out[0]).encode()

    return answer


def sol_wallet(server: HostileServer) -> str:
    return "\n".join(
        [
            "  - name: phantom",
            "    chain: solana",
            f"    addresses: [{SOL_ADDRESS}]",
            f"    rpc_url: {server.url}/sol",
            "    retries: 0",
        ]
    )


@pytest.mark.parametrize(
    ("accounts", "message"),
    [
        ([], "0 accounts for 1 addresses asked"),
        ([{"lamports": "lots"}], "lamports is not a whole number"),
        ([{"lamports": 1e30}], "lamports is not a whole number"),
        ([{"lamports": 2**70}], "lamports is not a whole number"),
        (None, "answer has no value list"),
    ],
)
def test_hostile_solana_accounts_fail_the_wallet(tmp_path, hostile, accounts, message):
    hostile.add_route("GET /cg/simple/price", coingecko(PRICES))
    hostile.add_route("POST /sol", solana(accounts))
    result, data = plan(write(tmp_path, hostile, sol_wallet(hostile)))
    incomplete(result, data, message)


def test_solana_account_that_does_not_exist_is_zero(tmp_path, hostile):
    hostile.add_route("GET /cg/simple/price", coingecko(PRICES))
    hostile.add_route("POST /sol", solana([None]))
    result, data = plan(write(tmp_path, hostile, sol_wallet(hostile)))
    assert "Traceback" not in result.output and data is not None
    assert not any("phantom" in p["subject"] for p in data["problems"])


# -- oracles (items 6, 7, 8) --------------------------------------------------------------
STETH_TOKEN = "0xae7ab96520DE3A18E5e111B5EaAb095312D7fE84"


def steth_wallet(server: HostileServer) -> str:
    state = EvmState(tokens={STETH_TOKEN.lower(): (18, {VITALIK.lower(): 2 * 10**18})})
    server.add_route("POST /eth", state.body())
    return evm_wallet(server, tokens="[STETH]")


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("3.18e12", "implausible price"),
        ("1e-300", "implausible price"),
        ("1e400", "no oracle price"),
        ("NaN", "no oracle price"),
        ("Infinity", "no oracle price"),
        ("-3000", "no oracle price"),
        ("30000", "10 times ETH, which it tracks"),
        ('"lots"', "no oracle price"),
    ],
)
def test_hostile_oracle_prices_leave_the_asset_unpriced(tmp_path, hostile, price, message):
    def answer(request: RecordedRequest) -> bytes:
        ids = request.query["ids"][0].split(",")
        table = {"ethereum": "3000", "staked-ether": price}
        return ("{" + ",".join(f'"{i}": {{"usd": {table[i]}}}' for i in ids) + "}").encode()

    hostile.add_route("GET /cg/simple/price", answer)
    hostile.add_route("GET /llama/prices/current/coingecko:staked-ether", b'{"coins": {}}')
    result, data = plan(write(tmp_path, hostile, steth_wallet(hostile)))
    incomplete(result, data, message)
    assert data["total_value"] is None


def test_defillama_key_alone_is_asked(tmp_path, hostile):
    mine = "0x" + "ab" * 20
    key = f"ethereum:{mine}"
    state = EvmState(tokens={mine: (6, {VITALIK.lower(): 2_500_000})})
    hostile.add_route("POST /eth", state.body())
    hostile.add_route("GET /cg/simple/price", coingecko(PRICES))
    hostile.add_route(
        f"GET /llama/prices/current/{key}",
        json.dumps({"coins": {key: {"price": 4, "timestamp": 1}}}).encode(),
    )
    wallet = evm_wallet(hostile, tokens=f"[{{MINE: '{mine}'}}]")
    extra = f"  assets:\n    MINE: {{defillama: '{key}'}}"
    result, data = plan(write(tmp_path, hostile, wallet, extra))
    assert result.exit_code == 0, result.output
    rows = {r["asset"]: r for r in data["onchain"]}
    assert rows["MINE"]["value"] == "10" and rows["MINE"]["price_source"] == "oracle"
    assert hostile.requests_to(f"GET /llama/prices/current/{key}")


# -- the shared source client, through the oracle (items 1, 5, 6) --------------------------
@pytest.mark.parametrize(
    ("behaviour", "message"),
    [
        ("redirect", "HTTP 307 redirect not followed"),
        ("drip", "timed out"),
        ("flood", "answer larger than 1 MiB"),
        ("nest", "nested too deeply"),
        ("empty", "answer is not an object"),
    ],
)
def test_hostile_oracle_endpoint_leaves_the_wallet_unpriced(
    tmp_path, hostile, monkeypatch, behaviour, message
):
    from rotator.adapters.sources import http

    monkeypatch.setattr(http, "MAX_RESPONSE_BYTES", 2**20)
    serve_btc(hostile)
    route = "GET /cg/simple/price"
    if behaviour == "redirect":
        hostile.redirect(route, f"{hostile.url}/elsewhere")
    elif behaviour == "drip":
        hostile.drip(route, interval=0.05, size=1000)
    elif behaviour == "flood":
        hostile.flood(route, 3 * 2**20)
    elif behaviour == "nest":
        hostile.nest(route, 100_000)
    else:
        hostile.add_route(route, b"[]")
    hostile.add_route("GET /llama/prices/current/coingecko:bitcoin", b'{"coins": {}}')
    path = write(tmp_path, hostile, btc_wallet(hostile), "  timeout_seconds: 0.4")
    result, data = plan(path)
    asked = hostile.requests_to(route)
    assert asked and time.monotonic() - asked[0].at < 4  # ended at the timeout, not the drip
    incomplete(result, data, message)
    assert not hostile.requests_to("GET /elsewhere")
