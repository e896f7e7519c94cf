"""EVM: recorded JSON-RPC answers through the batch path; Multicall3 aggregate3 batching; errors."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from conftest import fixture, read, result_of

from rotator.demo.chains import EvmState, jsonrpc

VITALIK = "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045"
DAI = "0x6B175474E89094C44Da98b954EedeAC495271d0F"
BALANCE_OF = "0x70a08231"
DECIMALS = "0x313ce567"


def recorded_handlers() -> dict:
    """JSON-RPC handlers answering with the recorded mainnet results (ids set per request)."""

    def eth_call(params):
        data = params[0]["data"]
        assert params[0]["to"].lower() == DAI.lower()
        if data.startswith(BALANCE_OF):
            return result_of("rpc.eth_call.balanceOf.DAI.vitalik.block0xb077db.infura.json")
        assert data.startswith(DECIMALS)
        return result_of("rpc.eth_call.decimals.EOS_0x86fa0498.ethereum-etl.json")

    return {
        "eth_chainId": lambda p: "0x1",
        "eth_blockNumber": lambda p: result_of(
            "rpc.eth_blockNumber.mainnet.infura.2025-12-19.json"
        ),
        "eth_getBalance": lambda p: result_of(
            "rpc.eth_getBalance.vitalik.block0xb077db.infura.json"
        ),
        "eth_call": eth_call,
    }


def test_recorded_answers_through_one_jsonrpc_batch(server):
    server.add_route("POST /eth", jsonrpc(recorded_handlers()))
    snap = read(
        server, "/eth", chain="ethereum", addresses=[VITALIK], tokens=["DAI"], multicall=False
    )
    assert snap.ok, snap.problems
    amounts = {h.asset: h.total for h in snap.holdings}
    assert amounts["ETH"] == Decimal(0x72D7290AD9A06D59).scaleb(-18)
    assert amounts["DAI"] == Decimal(0x559CBB8D65547BFD).scaleb(-18)
    assert {h.source.block for h in snap.holdings} == {0x16EEFB4}
    [request] = server.requests  # chainId, blockNumber, getBalance, decimals, balanceOf: 1 batch
    assert len(json.loads(request.body)) == 5


def test_fifty_tokens_in_one_multicall_request(server):
    tokens = {
        f"0x{i + 1:040x}": (6 + i % 3 * 6, {VITALIK.lower(): 10**6 * (i + 1)}) for i in range(50)
    }
    state = EvmState(chain_id=1, block=123, native={VITALIK.lower(): 2 * 10**18}, tokens=tokens)
    server.add_route("POST /eth", state.body())
    from eth_utils import to_checksum_address

    config = {f"T{i}": to_checksum_address(a) for i, a in enumerate(tokens)}
    snap = read(server, "/eth", chain="ethereum", addresses=[VITALIK], tokens=config)
    assert snap.ok, snap.problems
    amounts = {h.asset: h.total for h in snap.holdings}
    assert amounts["ETH"] == 2
    assert amounts["T0"] == Decimal(10**6).scaleb(-6)  # 6 decimals
    assert amounts["T1"] == Decimal(2 * 10**6).scaleb(-12)  # 12 decimals, read from the contract
    assert len(amounts) == 51 and {h.source.block for h in snap.holdings} == {123}
    [request] = server.requests
    body = json.loads(request.body)
    assert [c["method"] for c in body] == ["eth_chainId", "eth_call"]  # one aggregate3 call


def test_without_multicall_the_batch_is_split_and_sent_concurrently(server):
    tokens = {f"0x{i + 1:040x}": (18, {VITALIK.lower(): 1}) for i in range(120)}
    server.add_route("POST /eth", EvmState(tokens=tokens).body())
    from eth_utils import to_checksum_address

    config = {f"T{i}": to_checksum_address(a) for i, a in enumerate(tokens)}
    snap = read(
        server, "/eth", chain="ethereum", addresses=[VITALIK], tokens=config, multicall=False
    )
    assert snap.ok and len(snap.holdings) == 120
    assert len(server.requests) == 3  # 243 calls in batches of 100


def test_recorded_error_objects_fail_the_wallet(server):
    for name, needle in (
        ("rpc.error.missing_trie_node.eth_getBalance.publicnode.json", "missing trie node"),
        ("rpc.error.execution_reverted.eth_call.infura.json", "execution reverted"),
        ("rpc.error.nonstandard_string.eth_call.blockscout_optimism.json", "Missed `to`"),
    ):
        server.add_route("POST /eth", fixture(name))
        snap = read(server, "/eth", chain="ethereum", addresses=[VITALIK], tokens=["DAI"])
        assert not snap.ok and snap.holdings == ()
        assert needle in snap.problems[0].message, snap.problems


def test_reverted_subcall_in_aggregate3_fails_the_wallet(server):
    # A token contract that does not exist returns empty data: not an ERC-20 answer.
    server.add_route("POST /eth", EvmState().body())
    snap = read(server, "/eth", chain="ethereum", addresses=[VITALIK], tokens=["DAI"])
    assert not snap.ok and "DAI decimals" in snap.problems[0].message


def test_endpoint_of_another_chain_is_refused(server):
    server.add_route("POST /eth", EvmState(chain_id=10).body())
    snap = read(server, "/eth", chain="ethereum", addresses=[VITALIK])
    assert not snap.ok and "chain id 10" in snap.problems[0].message


def test_chain_id_override_for_another_evm_chain(server):
    server.add_route("POST /eth", EvmState(chain_id=31337, native={VITALIK.lower(): 10**18}).body())
    snap = read(server, "/eth", chain="ethereum", addresses=[VITALIK], chain_id=31337, native="ETH")
    assert snap.ok and snap.holdings[0].total == 1 and snap.holdings[0].asset == "ETH"


def test_known_chain_id_takes_its_own_native_coin(server):
    server.add_route("POST /eth", EvmState(chain_id=100, native={VITALIK.lower(): 10**18}).body())
    snap = read(server, "/eth", chain="ethereum", addresses=[VITALIK], chain_id=100)
    assert snap.ok and [(h.asset, h.total) for h in snap.holdings] == [("XDAI", 1)]


def test_unknown_chain_id_without_native_is_a_config_error():
    from pydantic import ValidationError

    from rotator.config.chains import ChainWallet

    with pytest.raises(ValidationError, match="set native:"):
        ChainWallet(name="w", chain="ethereum", addresses=[VITALIK], chain_id=31337)


def test_tokens_mix_shipped_symbols_and_contracts(server):
    mine = "0x" + "ab" * 20
    state = EvmState(tokens={mine: (4, {VITALIK.lower(): 12345}), DAI.lower(): (18, {})})
    server.add_route("POST /eth", state.body())
    snap = read(
        server, "/eth", chain="ethereum", addresses=[VITALIK], tokens=["DAI", {"MINE": mine}]
    )
    assert snap.ok and {h.asset: h.total for h in snap.holdings} == {"MINE": Decimal("1.2345")}
