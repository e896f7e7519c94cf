"""Solana balances: SOL and SPL tokens of both token programs, in one JSON-RPC batch.

One batch: `getMultipleAccounts` (SOL = lamports / 1e9 of each address) and, per address,
`getTokenAccountsByOwner` for the Token program and for Token-2022. Token accounts are asked
`jsonParsed` (mint, amount and decimals in the answer); an answer in base64 (nodes fall back to
it when they cannot parse an account) is decoded from the SPL account layout: mint = bytes
0..32, amount = u64 little-endian at 64, with the decimals read from the mint accounts (byte 44
of the Mint layout) in one more `getMultipleAccounts`. Several token accounts of one mint are
summed. Mints outside the known map are reported, not counted (no symbol, no price).

Answers are checked: `getMultipleAccounts` must answer one entry (an account or null) per
address asked, lamports and token amounts must be whole numbers within a u64, decimals 0..36.
"""

from __future__ import annotations

import base64
import struct
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rotator.adapters.chains.rpc import ChainReadError, Endpoint
from rotator.adapters.chains.settings import ChainWalletSettings

TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
TOKEN_2022_PROGRAM = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"
LAMPORTS_PER_SOL = 9
_MINT_DECIMALS_OFFSET = 44
_ACCOUNT_AMOUNT_OFFSET = 64
MAX_U64 = 2**64 - 1
MAX_DECIMALS = 36


@dataclass(frozen=True, slots=True)
class SolanaBalance:
    address: str
    asset: str
    amount: Decimal
    accounts: int = 1  # token accounts summed


@dataclass(frozen=True, slots=True)
class SolanaRead:
    balances: tuple[SolanaBalance, ...]
    slot: int | None
    unknown_mints: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _TokenAccount:
    owner: str
    mint: str
    raw: int
    decimals: int | None


async def read_solana(settings: ChainWalletSettings, endpoint: Endpoint) -> SolanaRead:
    """SOL and known SPL token balances of every address of the wallet, and the slot."""
    addresses = list(settings.addresses)
    calls: list[tuple[str, list[Any]]] = [
        ("getMultipleAccounts", [addresses, {"encoding": "base64", "commitment": "finalized"}])
    ]
    for address in addresses:
        for program in (TOKEN_PROGRAM, TOKEN_2022_PROGRAM):
            calls.append(
                (
                    "getTokenAccountsByOwner",
                    [
                        address,
                        {"programId": program},
                        {"encoding": "jsonParsed", "commitment": "finalized"},
                    ],
                )
            )
    results = await endpoint.batch(calls)
    slots = [_slot(r) for r in results]
    lamports = _accounts(endpoint, addresses, results[0])
    balances: list[SolanaBalance] = []
    for address, account in zip(addresses, lamports, strict=True):
        held = 0 if account is None else _lamports(endpoint, account)
        if held:
            balances.append(SolanaBalance(address, "SOL", Decimal(held).scaleb(-LAMPORTS_PER_SOL)))
    token_accounts: list[_TokenAccount] = []
    for index, result in enumerate(results[1:]):
        owner = addresses[index // 2]
        for row in _value(endpoint, "getTokenAccountsByOwner", result):
            token_accounts.append(_token_account(endpoint, owner, row))
    symbols = {mint: symbol for symbol, mint in settings.tokens}
    token_accounts = [t for t in token_accounts if t.raw]  # empty accounts hold nothing
    need = sorted({t.mint for t in token_accounts if t.decimals is None and t.mint in symbols})
    decimals = await _mint_decimals(endpoint, need) if need else {}
    sums: dict[tuple[str, str], int] = defaultdict(int)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    digits: dict[str, int] = {}
    unknown: set[str] = set()
    for t in token_accounts:
        if t.mint not in symbols:
            unknown.add(t.mint)
            continue
        sums[(t.owner, t.mint)] += t.raw
        counts[(t.owner, t.mint)] += 1
        digits[t.mint] = t.decimals if t.decimals is not None else decimals[t.mint]
    for (owner, mint), raw in sorted(sums.items()):
        if raw:
            amount = Decimal(raw).scaleb(-digits[mint])
            balances.append(SolanaBalance(owner, symbols[mint], amount, counts[(owner, mint)]))
    known_slots = [s for s in slots if s is not None]
    return SolanaRead(
        tuple(balances), min(known_slots) if known_slots else None, tuple(sorted(unknown))
    )


def _slot(result: Any) -> int | None:
    try:
        return int(result["context"]["slot"])
    except (KeyError, TypeError, ValueError):
        return None


def _accounts(endpoint: Endpoint, asked: list[str], result: Any) -> list[Any]:
    """getMultipleAccounts' value: one entry per address asked (null: no such account)."""
    value = _value(endpoint, "getMultipleAccounts", result)
    if len(value) != len(asked):
        raise ChainReadError(
            f"{endpoint.label} getMultipleAccounts: {len(value)} accounts for {len(asked)} "
            "addresses asked"
        )
    if not all(a is None or isinstance(a, dict) for a in value):
        raise ChainReadError(f"{endpoint.label} getMultipleAccounts: an account is not an object")
    return value


def _lamports(endpoint: Endpoint, account: dict[str, Any]) -> int:
    value = account.get("lamports")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_U64:
        raise ChainReadError(
            f"{endpoint.label} getMultipleAccounts: lamports is not a whole number in a u64"
        )
    return value


def _value(endpoint: Endpoint, method: str, result: Any) -> list[Any]:
    value = result.get("value") if isinstance(result, dict) else None
    if not isinstance(value, list):
        raise ChainReadError(f"{endpoint.label} {method}: answer has no value list")
    return value


def _token_account(endpoint: Endpoint, owner: str, row: Any) -> _TokenAccount:
    """A token account from a jsonParsed or base64 answer."""
    try:
        data = row["account"]["data"]
        if isinstance(data, dict):
            info = data["parsed"]["info"]
            amount = info["tokenAmount"]
            raw, digits = amount["amount"], amount["decimals"]
            # amounts are decimal strings of a u64, decimals a small integer
            if not (isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 20):
                raise ValueError("amount")
            if isinstance(digits, bool) or not isinstance(digits, int):
                raise ValueError("decimals")
            if not 0 <= digits <= MAX_DECIMALS or int(raw) > MAX_U64:
                raise ValueError("range")
            if not isinstance(info["mint"], str):
                raise ValueError("mint")
            return _TokenAccount(owner, info["mint"], int(raw), digits)
        raw = base64.b64decode(data[0])
        from solders.pubkey import Pubkey

        mint = str(Pubkey.from_bytes(raw[:32]))
        (amount_raw,) = struct.unpack_from("<Q", raw, _ACCOUNT_AMOUNT_OFFSET)
        return _TokenAccount(owner, mint, int(amount_raw), None)
    except (KeyError, TypeError, ValueError, IndexError, struct.error):
        raise ChainReadError(
            f"{endpoint.label} getTokenAccountsByOwner: a token account is not in the SPL layout"
        ) from None


async def _mint_decimals(endpoint: Endpoint, mints: list[str]) -> dict[str, int]:
    result = await endpoint.call("getMultipleAccounts", [mints, {"encoding": "base64"}])
    out: dict[str, int] = {}
    for mint, account in zip(mints, _accounts(endpoint, mints, result), strict=True):
        try:
            raw = base64.b64decode(account["data"][0])
            out[mint] = raw[_MINT_DECIMALS_OFFSET]
            if out[mint] > MAX_DECIMALS:
                raise ValueError("decimals")
        except (KeyError, TypeError, ValueError, IndexError):
            raise ChainReadError(
                f"{endpoint.label} getMultipleAccounts: mint {mint[:6]}… is not a mint account"
            ) from None
    missing = [m for m in mints if m not in out]
    if missing:
        raise ChainReadError(f"{endpoint.label} getMultipleAccounts: no mint account {missing[0]}")
    return out
