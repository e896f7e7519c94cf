"""Chain endpoints replayed on the demo server: Esplora REST and EVM / Solana JSON-RPC.

The answers follow each API's documented layout: Esplora `GET /address/{a}` (chain_stats /
mempool_stats) and `GET /blocks/tip/height` (a plain integer); JSON-RPC 2.0 single and batch
requests (an array in, an array of answers by id out). `EvmState` answers `eth_chainId`,
`eth_blockNumber`, `eth_getBalance` and `eth_call` of ERC-20 `balanceOf`/`decimals` and of
Multicall3 `aggregate3`/`getEthBalance`/`getBlockNumber`, encoding with eth-abi, so the real
adapter code runs unchanged against it. Used by `rotator plan --demo`, the tests and the bench.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from rotator.demo.replay import Body, RecordedRequest, ReplayServer

DATA = Path(str(resources.files("rotator.demo") / "data" / "chains"))
MULTICALL3 = "0xcA11bde05977b3631167028862bE2a173976CA11"

# The BIP-84 test vector account key (mnemonic "abandon ... about", m/84'/0'/0'), bip-0084.
DEMO_ZPUB = (
    "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUk"
    "gDKf31mGDtKsAYz2oz2AGutZYs"
)


class RpcFault(Exception):
    """Raise from a handler to answer with a JSON-RPC error object."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


Handler = Callable[[list[Any]], Any]


def jsonrpc(handlers: Mapping[str, Handler]) -> Body:
    """A JSON-RPC 2.0 endpoint: single or batch requests dispatched by method name."""

    def answer(request: Mapping[str, Any]) -> dict[str, Any]:
        rid = request.get("id")
        handler = handlers.get(str(request.get("method")))
        if handler is None:
            error = {"code": -32601, "message": "Method not found"}
            return {"jsonrpc": "2.0", "id": rid, "error": error}
        try:
            return {"jsonrpc": "2.0", "id": rid, "result": handler(list(request["params"]))}
        except RpcFault as fault:
            error = {"code": fault.code, "message": fault.message}
            return {"jsonrpc": "2.0", "id": rid, "error": error}

    def body(request: RecordedRequest) -> bytes:
        data = json.loads(request.body)
        if isinstance(data, list):
            return json.dumps([answer(r) for r in data]).encode()
        return json.dumps(answer(data)).encode()

    return body


def esplora_address(address: str, funded: int, spent: int = 0, tx_count: int = 1) -> bytes:
    """An Esplora `/address/{a}` answer (confirmed stats; empty mempool)."""
    stats = {
        "funded_txo_count": tx_count,
        "funded_txo_sum": funded,
        "spent_txo_count": 0 if not spent else 1,
        "spent_txo_sum": spent,
        "tx_count": tx_count,
    }
    empty = dict.fromkeys(stats, 0)
    return json.dumps({"address": address, "chain_stats": stats, "mempool_stats": empty}).encode()


def esplora_routes(wallet: Mapping[str, int], unused: list[str], height: int) -> dict[str, Body]:
    """Esplora routes: `wallet` addresses with balances (sats), `unused` never used."""
    routes: dict[str, Body] = {"GET /blocks/tip/height": str(height).encode()}
    for address, sats in wallet.items():
        routes[f"GET /address/{address}"] = esplora_address(address, sats)
    for address in unused:
        routes[f"GET /address/{address}"] = esplora_address(address, 0, 0, 0)
    return routes


@dataclass
class EvmState:
    """An EVM chain's state as JSON-RPC answers it (for replay: no execution, lookups only).

    Attributes:
        native: holder -> wei.
        tokens: contract (lower case) -> (decimals, holder (lower case) -> raw balance).
    """

    chain_id: int = 1
    block: int = 0
    native: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, tuple[int, dict[str, int]]] = field(default_factory=dict)
    multicall: str | None = MULTICALL3

    def handlers(self) -> dict[str, Handler]:
        return {
            "eth_chainId": lambda p: hex(self.chain_id),
            "eth_blockNumber": lambda p: hex(self.block),
            "eth_getBalance": lambda p: hex(self.native.get(p[0].lower(), 0)),
            "eth_call": lambda p: "0x" + self._call(p[0]["to"], _unhex(p[0]["data"])).hex(),
        }

    def body(self) -> Body:
        return jsonrpc(self.handlers())

    def _call(self, to: str, data: bytes) -> bytes:
        from eth_abi import decode, encode
        from eth_utils import function_signature_to_4byte_selector as selector

        sel, args = data[:4], data[4:]
        if self.multicall and to.lower() == self.multicall.lower():
            if sel == selector("aggregate3((address,bool,bytes)[])"):
                (calls,) = decode(["(address,bool,bytes)[]"], args)
                out = []
                for target, allow, calldata in calls:
                    try:
                        out.append((True, self._call(target, bytes(calldata))))
                    except RpcFault:
                        if not allow:
                            raise
                        out.append((False, b""))
                return encode(["(bool,bytes)[]"], [out])
            if sel == selector("getEthBalance(address)"):
                (holder,) = decode(["address"], args)
                return encode(["uint256"], [self.native.get(holder.lower(), 0)])
            if sel == selector("getBlockNumber()"):
                return encode(["uint256"], [self.block])
        token = self.tokens.get(to.lower())
        if token is None:
            return b""  # a call to an address without code returns empty data
        decimals, holders = token
        if sel == selector("decimals()"):
            return encode(["uint8"], [decimals])
        if sel == selector("balanceOf(address)"):
            (holder,) = decode(["address"], args)
            return encode(["uint256"], [holders.get(holder.lower(), 0)])
        raise RpcFault(3, "execution reverted")


def _unhex(text: str) -> bytes:
    return bytes.fromhex(text[2:] if text.startswith("0x") else text)


# -- the demo's wallets ----------------------------------------------------------------------

STETH = "0xae7ab96520DE3A18E5e111B5EaAb095312D7fE84"


def demo_evm_state() -> EvmState:
    """Ethereum as the demo reads it: ETH and stETH of one address (composed values)."""
    spec = json.loads((DATA / "evm_demo.json").read_text())
    holder = spec["address"].lower()
    return EvmState(
        chain_id=1,
        block=int(spec["block"], 16),
        native={holder: int(spec["eth_wei"], 16)},
        tokens={STETH.lower(): (18, {holder: int(spec["steth_raw"], 16)})},
    )


def demo_bitcoin_routes() -> dict[str, Body]:
    """Esplora answers for the BIP-84 test vector wallet: two receive and one change address."""
    from rotator.config.keys import parse_hd

    spec = json.loads((DATA / "bitcoin_demo.json").read_text())
    hd = parse_hd(DEMO_ZPUB)
    used = {hd.address(branch, index): sats for branch, index, sats in spec["used"]}
    unused = [a for b in (0, 1) for a in hd.addresses(b, 0, 45) if a not in used]
    return esplora_routes(used, unused, spec["height"])


def oracle_routes() -> dict[str, Body]:
    """CoinGecko simple/price answers for the demo's wallet-only assets (composed)."""
    prices = json.loads((DATA / "oracle_demo.json").read_text())

    def simple_price(request: RecordedRequest) -> bytes:
        ids = request.query.get("ids", [""])[0].split(",")
        vs = request.query.get("vs_currencies", ["usd"])[0]
        return json.dumps({i: {vs: prices[i]} for i in ids if i in prices}).encode()

    return {"GET /simple/price": simple_price}


def mount_chains(server: ReplayServer, prefix: str = "/chains") -> dict[str, str]:
    """Serve the demo wallets' chains and oracle; return name -> base URL on the server."""
    server.mount(f"{prefix}/bitcoin", demo_bitcoin_routes())
    server.add_route(f"POST {prefix}/ethereum", demo_evm_state().body())
    server.mount(f"{prefix}/oracle", oracle_routes())
    base = f"{server.url}{prefix}"
    return {
        "bitcoin": f"{base}/bitcoin",
        "ethereum": f"{base}/ethereum",
        "oracle": f"{base}/oracle",
    }
