"""Bitcoin balances: plain addresses and xpubs (gap-limit scan), from Esplora or blockchain.info.

Esplora (Blockstream, mempool.space, self-hosted electrs) has one address per request
(`GET /address/{a}`: `chain_stats.funded_txo_sum - spent_txo_sum` is the confirmed balance),
so the addresses of a batch are read concurrently within the endpoint's rate limit.
blockchain.info's `GET /multiaddr?active=a|b|...` reads a whole batch in one request.

An xpub is scanned per chain (receive, change) in batches of `gap_limit` addresses: the scan
stops after the first batch that leaves `gap_limit` unused addresses after the last used one
(BIP44's gap limit). Receive and change chains, and the tip height, are read concurrently, so a
chain with N used addresses takes ceil(N / gap_limit) + 1 round trips. A chain is scanned to at
most `max_addresses` addresses: an endpoint that reports every address as used cannot make the
scan run forever.

Answers are checked, not trusted: amounts must be whole numbers of satoshis within Bitcoin's
supply, an address cannot have spent more than it was funded, a tip height is a plain number
of at most 10 digits. Anything else fails the wallet with a message naming the endpoint.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import quote

from rotator.adapters.chains.rpc import ChainReadError, Endpoint
from rotator.adapters.chains.settings import ChainWalletSettings, HdAddresses

SATS_PER_BTC = Decimal(100_000_000)
MAX_SATS = 21_000_000 * 100_000_000  # Bitcoin's supply cap: no address can hold more


@dataclass(frozen=True, slots=True)
class AddressState:
    """What the API says about one address."""

    address: str
    balance_sats: int
    used: bool


@dataclass(frozen=True, slots=True)
class BitcoinBalance:
    """One configured source (address or xpub) and its confirmed balance."""

    source: str  # the address or xpub as configured
    btc: Decimal
    used_addresses: int


@dataclass(frozen=True, slots=True)
class BitcoinRead:
    balances: tuple[BitcoinBalance, ...]
    height: int | None


async def read_bitcoin(settings: ChainWalletSettings, endpoint: Endpoint) -> BitcoinRead:
    """Confirmed balances of the wallet's addresses and xpub, and the chain tip height."""
    api = _Api(settings.api, endpoint)
    hd = settings.hd if settings.xpub else None
    scans = []
    if hd is not None:
        branches = [0, 1][: hd.branches if settings.change else 1]
        scans = [_scan(api, hd, b, settings.gap_limit, settings.max_addresses) for b in branches]

    async def listed_states() -> list[AddressState]:
        return await api.states(list(settings.addresses)) if settings.addresses else []

    tip, listed, scanned = await asyncio.gather(
        api.height(), listed_states(), asyncio.gather(*scans)
    )
    height = tip if tip is not None else api.last_height
    balances = [
        BitcoinBalance(state.address, _btc(state.balance_sats), int(state.used)) for state in listed
    ]
    if hd is not None and settings.xpub:
        states = [s for branch in scanned for s in branch]
        total = sum(s.balance_sats for s in states)
        used = sum(1 for s in states if s.used)
        balances.append(BitcoinBalance(settings.xpub, _btc(total), used))
    return BitcoinRead(tuple(balances), height)


async def _scan(api: _Api, hd: HdAddresses, branch: int, gap: int, cap: int) -> list[AddressState]:
    """Every address of one chain up to `gap` unused past the last used one (at most `cap`)."""
    found: list[AddressState] = []
    start, last_used = 0, -1
    while True:
        if start >= cap:
            name = "receive" if branch == 0 else "change"
            raise ChainReadError(
                f"{api.endpoint.label}: xpub scan reached max_addresses ({cap}) on the {name} "
                f"chain without {gap} unused addresses in a row; raise max_addresses if the "
                "wallet really has that many used addresses"
            )
        batch = await api.states(hd.addresses(branch, start, gap))
        for offset, state in enumerate(batch):
            if state.used:
                last_used = start + offset
        found.extend(batch)
        start += gap
        if start - 1 - last_used >= gap:
            return found


def _btc(sats: int) -> Decimal:
    return Decimal(sats) / SATS_PER_BTC


class _Api:
    """The two address APIs behind one interface."""

    def __init__(self, kind: str, endpoint: Endpoint) -> None:
        self.kind = kind
        self.endpoint = endpoint
        self.last_height: int | None = None

    async def height(self) -> int | None:
        if self.kind == "blockchain_info":
            return None  # multiaddr answers carry it; see states()
        text = (await self.endpoint.get_text("blocks/tip/height")).strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 10):
            raise ChainReadError(f"{self.endpoint.label} GET /blocks/tip/height: not a height")
        return int(text)

    async def states(self, addresses: list[str]) -> list[AddressState]:
        if not addresses:
            return []
        if self.kind == "blockchain_info":
            return await self._multiaddr(addresses)
        return list(await asyncio.gather(*(self._esplora(a) for a in addresses)))

    async def _esplora(self, address: str) -> AddressState:
        data = await self.endpoint.get_json(f"address/{quote(address)}")
        return parse_esplora(f"{self.endpoint.label} GET /address", address, data)

    async def _multiaddr(self, addresses: list[str]) -> list[AddressState]:
        path = f"multiaddr?active={quote('|'.join(addresses), safe='')}&n=0"
        data = await self.endpoint.get_json(path)
        states, height = parse_multiaddr(f"{self.endpoint.label} GET /multiaddr", addresses, data)
        if height is not None:
            self.last_height = height
        return states


def parse_esplora(what: str, address: str, data: object) -> AddressState:
    """An Esplora `GET /address/{a}` answer; ChainReadError when it is not a sane one."""
    chain = data.get("chain_stats") if isinstance(data, dict) else None
    pool = (data.get("mempool_stats") if isinstance(data, dict) else None) or {}
    if not isinstance(chain, dict) or not isinstance(pool, dict):
        raise ChainReadError(f"{what}: unexpected answer (no chain_stats)")
    funded = _count(what, "funded_txo_sum", chain.get("funded_txo_sum"), MAX_SATS * 1000)
    spent = _count(what, "spent_txo_sum", chain.get("spent_txo_sum"), MAX_SATS * 1000)
    if spent > funded:
        raise ChainReadError(f"{what}: the address spent more than it was funded (inconsistent)")
    balance = _count(what, "balance", funded - spent, MAX_SATS)
    used = _count(what, "tx_count", chain.get("tx_count"), 10**12) > 0
    used = used or _count(what, "tx_count", pool.get("tx_count", 0), 10**12) > 0
    return AddressState(address, balance, used)


def parse_multiaddr(
    what: str, addresses: list[str], data: object
) -> tuple[list[AddressState], int | None]:
    """A blockchain.info multiaddr answer: the asked addresses' states and the tip height
    (None when the answer has no `info.latest_block`); ChainReadError when it is not sane."""
    rows = data.get("addresses") if isinstance(data, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ChainReadError(f"{what}: unexpected answer (no address list)")
    by_address = {r.get("address"): r for r in rows if isinstance(r.get("address"), str)}
    missing = [a for a in addresses if a not in by_address]
    if missing:
        raise ChainReadError(f"{what}: {len(missing)} asked addresses missing in the answer")
    info = data.get("info") if isinstance(data, dict) else None
    block = info.get("latest_block") if isinstance(info, dict) else None
    height = block.get("height") if isinstance(block, dict) else None
    states = [
        AddressState(
            a,
            _count(what, "final_balance", by_address[a].get("final_balance"), MAX_SATS),
            _count(what, "n_tx", by_address[a].get("n_tx"), 10**12) > 0,
        )
        for a in addresses
    ]
    known = None if height is None else _count(what, "latest_block.height", height, 10**10)
    return states, known


def _count(what: str, field: str, value: object, limit: int) -> int:
    """A whole number 0..limit from an answer (JSON integers only: no floats, strings, bools)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ChainReadError(f"{what}: {field} is not a whole number")
    if not 0 <= value <= limit:
        raise ChainReadError(f"{what}: {field} is out of range (0 to {limit:,})")
    return value
