"""Bitcoin balances: plain addresses and xpubs (gap-limit scan), from Esplora or blockchain.info.

Esplora (Blockstream, mempool.space, self-hosted electrs) has one address per request
(`GET /address/{a}`: `chain_stats.funded_txo_sum - spent_txo_sum` is the confirmed balance),
so the addresses of a batch are read concurrently within the endpoint's rate limit.
blockchain.info's `GET /multiaddr?active=a|b|...` reads a whole batch in one request.

An xpub is scanned per chain (receive, change) in batches of `gap_limit` addresses: the scan
stops after the first batch that leaves `gap_limit` unused addresses after the last used one
(BIP44's gap limit). Receive and change chains, and the tip height, are read concurrently, so a
chain with N used addresses takes ceil(N / gap_limit) + 1 round trips.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import quote

from rotator.adapters.chains.rpc import ChainReadError, Endpoint
from rotator.adapters.chains.settings import ChainWalletSettings, HdAddresses

SATS_PER_BTC = Decimal(100_000_000)


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
        scans = [_scan(api, hd, b, settings.gap_limit) for b in branches]
    tip, listed, scanned = await asyncio.gather(
        api.height(), api.states(list(settings.addresses)), asyncio.gather(*scans)
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


async def _scan(api: _Api, hd: HdAddresses, branch: int, gap: int) -> list[AddressState]:
    """Every address of one chain up to `gap` unused past the last used one."""
    found: list[AddressState] = []
    start, last_used = 0, -1
    while True:
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
        if not text.isdigit():
            raise ChainReadError(f"{self.endpoint.label} GET /blocks/tip/height: not a number")
        return int(text)

    async def states(self, addresses: list[str]) -> list[AddressState]:
        if not addresses:
            return []
        if self.kind == "blockchain_info":
            return await self._multiaddr(addresses)
        return list(await asyncio.gather(*(self._esplora(a) for a in addresses)))

    async def _esplora(self, address: str) -> AddressState:
        data = await self.endpoint.get_json(f"address/{quote(address)}")
        try:
            chain, pool = data["chain_stats"], data.get("mempool_stats") or {}
            balance = int(chain["funded_txo_sum"]) - int(chain["spent_txo_sum"])
            used = int(chain["tx_count"]) > 0 or int(pool.get("tx_count", 0)) > 0
        except (KeyError, TypeError, ValueError):
            raise ChainReadError(
                f"{self.endpoint.label} GET /address: unexpected answer (no chain_stats)"
            ) from None
        return AddressState(address, balance, used)

    async def _multiaddr(self, addresses: list[str]) -> list[AddressState]:
        path = f"multiaddr?active={quote('|'.join(addresses), safe='')}&n=0"
        data = await self.endpoint.get_json(path)
        try:
            rows = {r["address"]: r for r in data["addresses"]}
            self.last_height = int(data["info"]["latest_block"]["height"])
            return [
                AddressState(a, int(rows[a]["final_balance"]), int(rows[a]["n_tx"]) > 0)
                for a in addresses
            ]
        except (KeyError, TypeError, ValueError):
            raise ChainReadError(
                f"{self.endpoint.label} GET /multiaddr: unexpected answer (missing addresses)"
            ) from None
