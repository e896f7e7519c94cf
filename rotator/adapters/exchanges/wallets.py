"""Reading the wallets of one account: spot, funding and earn, without double counting.

Which wallet ccxt can reach differs per exchange:
- spot: `fetch_balance()` everywhere.
- funding: `fetch_balance({'type': 'funding'})` where ccxt maps it to the exchange's funding
  (or "main"/"fund") account: binance, okx, bybit, kucoin, bingx. Elsewhere the type is either
  ignored (the spot wallet would be counted twice) or means something else (gate: margin
  lending), so rotator does not ask.
- earn: Binance simple-earn flexible and locked positions through ccxt's implicit endpoints.
  Binance also shows flexible earn inside spot as `LD<asset>`: those entries are dropped from
  spot when the earn wallet is read, and reported as earn holdings when it is not.
  Kraken returns staked and earn balances with the spot balance, as separate codes with a
  suffix (docs.kraken.com "Get Extended Balance"): `.S` staked, `.M` opt-in rewards, `.B`
  yield-bearing, `.P` parachain -> EARN holdings of the base asset; `.F` (Kraken Rewards,
  earning automatically but traded as the base asset) -> SPOT holdings of the base asset.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any

from rotator.adapters.exchanges.normalize import balance_holdings, to_decimal
from rotator.core.models import Holding, WalletKind

FUNDING_PARAMS: dict[str, dict[str, str]] = {
    "binance": {"type": "funding"},
    "okx": {"type": "funding"},
    "bybit": {"type": "funding"},
    "kucoin": {"type": "funding"},
    "bingx": {"type": "funding"},
}
EARN_EXCHANGES = frozenset({"binance", "kraken"})
EARN_IN_SPOT_BALANCE = frozenset({"kraken"})  # earn balances arrive with the spot balance
_KRAKEN_EARN_SUFFIXES = frozenset({"S", "M", "B", "P"})
_KRAKEN_ALIASES = {"ETH2": "ETH"}  # legacy staked-ETH code
_EARN_PAGE_SIZE = 100
_EARN_MAX_PAGES = 50  # 5,000 positions; a bound so a misbehaving endpoint cannot loop forever

Call = Callable[..., Awaitable[Any]]


def supports(exchange_id: str, wallet: WalletKind) -> bool:
    """Whether rotator can read `wallet` on `exchange_id` through ccxt."""
    if wallet is WalletKind.SPOT:
        return True
    if wallet is WalletKind.FUNDING:
        return exchange_id in FUNDING_PARAMS
    if wallet is WalletKind.EARN:
        return exchange_id in EARN_EXCHANGES
    return False


def split_binance_ld(
    holdings: list[Holding], markets: Mapping[str, Any], earn_fetched: bool
) -> list[Holding]:
    """Handle Binance's `LD<asset>` spot entries (flexible earn mirrored into spot).

    An entry counts as LD only when `LD<asset>` trades in no market while `<asset>` does,
    so real assets whose code starts with LD (LDO) are left alone.
    """
    traded = {m["base"] for m in markets.values()} | {m["quote"] for m in markets.values()}
    result = []
    for h in holdings:
        underlying = h.asset[2:]
        if h.asset.startswith("LD") and h.asset not in traded and underlying in traded:
            if not earn_fetched:
                result.append(Holding(h.account, underlying, h.total, h.total, WalletKind.EARN))
            continue
        result.append(h)
    return result


def split_kraken_suffixes(holdings: list[Holding]) -> list[Holding]:
    """Kraken's suffixed codes (BTC.F, DOT.S...) as holdings of the base asset."""
    result = []
    for h in holdings:
        base, dot, suffix = h.asset.rpartition(".")
        base = _KRAKEN_ALIASES.get(base, base)
        if dot and suffix == "F":
            result.append(Holding(h.account, base, h.total, h.free, h.wallet))
        elif dot and suffix in _KRAKEN_EARN_SUFFIXES:
            result.append(Holding(h.account, base, h.total, h.total, WalletKind.EARN))
        else:
            result.append(h)
    return result


async def binance_earn(account: str, call: Call, exchange: Any) -> list[Holding]:
    """Binance simple-earn flexible + locked positions as EARN holdings (all pages)."""
    endpoints = (
        ("simple-earn flexible positions", "sapi_get_simple_earn_flexible_position", "totalAmount"),
        ("simple-earn locked positions", "sapi_get_simple_earn_locked_position", "amount"),
    )
    pages = await asyncio.gather(
        *(_earn_positions(account, call, exchange, *endpoint) for endpoint in endpoints)
    )
    return [h for held in pages for h in held]


async def _earn_positions(
    account: str, call: Call, exchange: Any, label: str, method: str, amount_key: str
) -> list[Holding]:
    holdings: list[Holding] = []
    page, seen = 1, 0
    while page <= _EARN_MAX_PAGES:
        request = {"current": page, "size": _EARN_PAGE_SIZE}
        response = await call(label, getattr(exchange, method), request)
        rows = (response or {}).get("rows") or []
        for row in rows:
            amount = to_decimal(row.get(amount_key))
            if amount and amount > 0:
                asset = exchange.safe_currency_code(row.get("asset"))
                holdings.append(Holding(account, asset, amount, amount, WalletKind.EARN))
        seen += len(rows)
        total = int(to_decimal((response or {}).get("total")) or Decimal(0))
        if not rows or seen >= total:
            break
        page += 1
    return holdings


async def read_wallet(
    account: str, exchange_id: str, wallet: WalletKind, call: Call, exchange: Any
) -> list[Holding]:
    """Holdings of one wallet; `call` performs a ccxt call with retries and error translation."""
    if wallet is WalletKind.SPOT:
        balance = await call("fetch_balance", exchange.fetch_balance)
        return balance_holdings(account, balance, WalletKind.SPOT)
    if wallet is WalletKind.FUNDING:
        params = dict(FUNDING_PARAMS[exchange_id])
        balance = await call("fetch_balance (funding)", exchange.fetch_balance, params)
        return balance_holdings(account, balance, WalletKind.FUNDING)
    if wallet is WalletKind.EARN and exchange_id in EARN_IN_SPOT_BALANCE:
        balance = await call("fetch_balance", exchange.fetch_balance)
        held = split_kraken_suffixes(balance_holdings(account, balance, WalletKind.SPOT))
        return [h for h in held if h.wallet is WalletKind.EARN]
    if wallet is WalletKind.EARN and exchange_id in EARN_EXCHANGES:
        return await binance_earn(account, call, exchange)
    raise ValueError(f"wallet {wallet} is not readable on {exchange_id}")
