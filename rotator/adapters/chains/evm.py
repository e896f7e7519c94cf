"""EVM balances: native coin and ERC-20 tokens of several addresses, in one round trip.

Where Multicall3 is deployed (the same address on every shipped chain), everything goes into
one `eth_call` of `aggregate3` with `allowFailure`: `getBlockNumber()`, `getEthBalance(a)` per
address, `decimals()` per token and `balanceOf(a)` per token and address. Large sets are split
into several aggregate3 calls sent as one JSON-RPC batch. Without Multicall3 (`multicall:
false`, or a chain without it) the same reads go out as plain JSON-RPC batches (`eth_blockNumber`,
`eth_getBalance`, `eth_call`), sent concurrently. ABI encoding and decoding use eth-abi; selectors
come from eth-utils.

Answers are bounded: a block number or chain id must fit 10^12, `decimals()` must be 0..36 (an
ERC-20's is a uint8, in practice at most 24), and no balance may exceed MAX_UNITS whole coins
(2^256 wei is a broken or hostile answer, not a fortune).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from rotator.adapters.chains.rpc import ChainReadError, Endpoint
from rotator.adapters.chains.settings import ChainWalletSettings

NATIVE_DECIMALS = 18
MULTICALL_CHUNK = 300  # sub-calls per aggregate3 call
BATCH_CHUNK = 100  # JSON-RPC calls per batch request
MAX_DECIMALS = 36
MAX_UNITS = Decimal(10) ** 18  # more whole coins than any token's supply: a broken answer
MAX_QUANTITY = 10**12  # block numbers and chain ids


@dataclass(frozen=True, slots=True)
class EvmBalance:
    address: str
    asset: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class EvmRead:
    balances: tuple[EvmBalance, ...]
    block: int | None


@dataclass(frozen=True, slots=True)
class _Call:
    """One contract read: target, calldata, and what the answer means."""

    target: str
    data: bytes
    kind: str  # "block", "native", "decimals", "balance"
    address: str | None = None
    symbol: str | None = None


@cache
def _selector(signature: str) -> bytes:
    from eth_utils import function_signature_to_4byte_selector

    return bytes(function_signature_to_4byte_selector(signature))


def _encode(signature: str, types: list[str], values: list[Any]) -> bytes:
    from eth_abi import encode

    return _selector(signature) + (encode(types, values) if types else b"")


def _calls(settings: ChainWalletSettings, multicall: str | None) -> list[_Call]:
    from eth_utils import to_checksum_address

    addresses = [to_checksum_address(a) for a in settings.addresses]
    out: list[_Call] = []
    if multicall:
        out.append(_Call(multicall, _encode("getBlockNumber()", [], []), "block"))
        for a in addresses:
            enc = _encode("getEthBalance(address)", ["address"], [a])
            out.append(_Call(multicall, enc, "native", a))
    for symbol, contract in settings.tokens:
        target = to_checksum_address(contract)
        out.append(_Call(target, _encode("decimals()", [], []), "decimals", symbol=symbol))
        for a in addresses:
            enc = _encode("balanceOf(address)", ["address"], [a])
            out.append(_Call(target, enc, "balance", a, symbol))
    return out


async def read_evm(settings: ChainWalletSettings, endpoint: Endpoint) -> EvmRead:
    """Native and token balances of every address of the wallet, and the block read at."""
    multicall = settings.multicall
    calls = _calls(settings, multicall)
    if multicall:
        answers, block, natives = await _via_multicall(endpoint, multicall, calls, settings)
    else:
        answers, block, natives = await _via_batch(endpoint, calls, settings)
    return EvmRead(_balances(settings, calls, answers, natives), block)


async def _via_multicall(
    endpoint: Endpoint, multicall: str, calls: list[_Call], settings: ChainWalletSettings
) -> tuple[list[bytes], int | None, dict[str, int]]:
    from eth_abi import decode

    chunks = [calls[i : i + MULTICALL_CHUNK] for i in range(0, len(calls), MULTICALL_CHUNK)]
    requests = []
    for chunk in chunks:
        data = _encode(
            "aggregate3((address,bool,bytes)[])",
            ["(address,bool,bytes)[]"],
            [[(c.target, True, c.data) for c in chunk]],
        )
        requests.append(("eth_call", [{"to": multicall, "data": "0x" + data.hex()}, "latest"]))
    results = await endpoint.batch([("eth_chainId", []), *requests])
    _check_chain(endpoint, settings, results.pop(0))
    answers: list[bytes] = []
    for chunk, result in zip(chunks, results, strict=True):
        try:
            (rows,) = decode(["(bool,bytes)[]"], _hex_bytes(result))
        except Exception:  # eth-abi raises several decoding errors
            raise ChainReadError(
                f"{endpoint.label} eth_call aggregate3: answer is not an aggregate3 result"
            ) from None
        if len(rows) != len(chunk):
            raise ChainReadError(
                f"{endpoint.label} aggregate3: {len(rows)} results for {len(chunk)} calls"
            )
        for call, (ok, data) in zip(chunk, rows, strict=True):
            if not ok:
                raise ChainReadError(_failed(endpoint, call))
            answers.append(bytes(data))
    block = None
    natives: dict[str, int] = {}
    for call, data in zip(calls, answers, strict=True):
        if call.kind == "block":
            block = _uint(endpoint, call, data)
            if block > MAX_QUANTITY:
                raise ChainReadError(f"{endpoint.label} getBlockNumber(): out of range")
        elif call.kind == "native" and call.address:
            natives[call.address] = _uint(endpoint, call, data)
    return answers, block, natives


async def _via_batch(
    endpoint: Endpoint, calls: list[_Call], settings: ChainWalletSettings
) -> tuple[list[bytes], int | None, dict[str, int]]:
    from eth_utils import to_checksum_address

    addresses = [to_checksum_address(a) for a in settings.addresses]
    plain: list[tuple[str, list[Any]]] = [("eth_chainId", []), ("eth_blockNumber", [])]
    plain += [("eth_getBalance", [a, "latest"]) for a in addresses]
    plain += [
        ("eth_call", [{"to": c.target, "data": "0x" + c.data.hex()}, "latest"]) for c in calls
    ]
    chunks = [plain[i : i + BATCH_CHUNK] for i in range(0, len(plain), BATCH_CHUNK)]
    parts = await asyncio.gather(*(endpoint.batch(chunk) for chunk in chunks))
    results = [r for part in parts for r in part]
    _check_chain(endpoint, settings, results.pop(0))
    block = _hex_int(endpoint, "eth_blockNumber", results[0])
    natives: dict[str, int] = {
        a: _hex_int(endpoint, "eth_getBalance", r)
        for a, r in zip(addresses, results[1 : 1 + len(addresses)], strict=True)
    }
    answers = [_hex_bytes(r) for r in results[1 + len(addresses) :]]
    return answers, block, natives


def _balances(
    settings: ChainWalletSettings,
    calls: list[_Call],
    answers: list[bytes],
    natives: dict[str, int],
) -> tuple[EvmBalance, ...]:
    decimals: dict[str, int] = {}
    out: list[EvmBalance] = []
    for address, wei in natives.items():
        if wei:
            amount = _units(settings.native, wei, NATIVE_DECIMALS)
            out.append(EvmBalance(address, settings.native, amount))
    for call, data in zip(calls, answers, strict=True):
        if call.kind == "decimals" and call.symbol:
            digits = _uint(None, call, data)
            if digits > MAX_DECIMALS:
                raise ChainReadError(
                    f"{call.symbol} decimals() at {call.target} answered {digits:.3g}, not "
                    f"0..{MAX_DECIMALS}: not a usable ERC-20 answer"
                )
            decimals[call.symbol] = digits
    for call, data in zip(calls, answers, strict=True):
        if call.kind == "balance" and call.symbol and call.address:
            raw = _uint(None, call, data)
            if raw:
                amount = _units(call.symbol, raw, decimals[call.symbol])
                out.append(EvmBalance(call.address, call.symbol, amount))
    return tuple(out)


def _units(symbol: str, raw: int, digits: int) -> Decimal:
    """`raw` base units as whole coins; ChainReadError past MAX_UNITS."""
    amount = Decimal(raw).scaleb(-digits)
    if amount > MAX_UNITS:
        raise ChainReadError(
            f"{symbol}: a balance of {amount:.3e} coins is implausible (over {MAX_UNITS:.0e}): "
            "the endpoint's answer is broken"
        )
    return amount


def _check_chain(endpoint: Endpoint, settings: ChainWalletSettings, answer: Any) -> None:
    """The endpoint must serve the chain the wallet names (eth_chainId, EIP-695)."""
    served = _hex_int(endpoint, "eth_chainId", answer)
    if settings.chain_id is not None and served != settings.chain_id:
        raise ChainReadError(
            f"{endpoint.label} serves chain id {served}, but {settings.chain} is "
            f"{settings.chain_id}: check rpc_url (or chain_id)"
        )


def _uint(endpoint: Endpoint | None, call: _Call, data: bytes) -> int:
    from eth_abi import decode

    try:
        (value,) = decode(["uint256"], data)
    except Exception:  # empty or short return data: not an ERC-20 answer
        where = f"{endpoint.label} " if endpoint else ""
        what = f"{call.symbol} {call.kind}" if call.symbol else call.kind
        raise ChainReadError(
            f"{where}{what} at {call.target}: empty or malformed answer (is it an ERC-20?)"
        ) from None
    return int(value)


def _failed(endpoint: Endpoint, call: _Call) -> str:
    what = f"{call.symbol} {call.kind}()" if call.symbol else f"{call.kind}"
    return f"{endpoint.label} aggregate3: {what} at {call.target} reverted"


def _hex_bytes(value: Any) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise ChainReadError(f"expected a hex string, got {str(value)[:40]!r}")
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise ChainReadError(f"expected a hex string, got {value[:40]!r}") from None


def _hex_int(endpoint: Endpoint, method: str, value: Any) -> int:
    """A hex quantity ("0x1b4"); ChainReadError when not one or larger than MAX_QUANTITY."""
    if not isinstance(value, str) or not value.startswith("0x") or len(value) > 66:
        raise ChainReadError(f"{endpoint.label} {method}: not a hex quantity")
    try:
        number = int(value, 16)
    except ValueError:
        raise ChainReadError(f"{endpoint.label} {method}: not a hex quantity") from None
    if method in ("eth_blockNumber", "eth_chainId") and number > MAX_QUANTITY:
        raise ChainReadError(f"{endpoint.label} {method}: {number:.3g} is out of range")
    return number
