"""A simulated venue: every asset with a daily close trades against USD at that close.

`venue_snapshot` builds the Snapshot a real run would see, with one synthetic exchange account
holding the simulated balances and, per priced asset, an ASSET/USD market quoted at the close
± slippage (bid below, ask above) with the fee rate as its taker fee. The planner then applies
its drift bands, minimum order value, turnover cap and never-trade list unchanged.
`execute` applies the planned orders at their estimated prices: the venue fills exactly what
the planner estimated (the slippage is already in the quote).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from rotator.core.models import (
    AccountSnapshot,
    Holding,
    MarketInfo,
    Order,
    Quote,
    RebalancePolicy,
    Side,
    Snapshot,
)

ACCOUNT = "backtest"
CASH = "USD"
BPS = Decimal(10_000)


@dataclass(frozen=True, slots=True)
class Fills:
    """Balances after a plan's orders, and what trading cost."""

    holdings: Mapping[str, Decimal]
    fees: Decimal
    traded: Decimal
    trades: int


def venue_policy(policy: RebalancePolicy, fee_rate: Decimal) -> RebalancePolicy:
    """The portfolio's policy on the simulated venue: USD settles, no bridges, its fee rate.

    Drift bands, the minimum order value, the turnover cap and the never-trade list are kept.
    """
    return replace(
        policy,
        quote_preference=(CASH,),
        bridge_assets=(),
        cash_assets=policy.cash_assets | {CASH},
        fee_rate=fee_rate,
        max_price_age_seconds=86_400,
        ignore_assets=frozenset(),
    )


def venue_snapshot(
    as_of: datetime,
    holdings: Mapping[str, Decimal],
    closes: Mapping[str, Decimal],
    *,
    slippage_bps: Decimal,
    fee_rate: Decimal,
) -> Snapshot:
    """One synthetic account holding `holdings`, with ASSET/USD markets at `closes`.

    Args:
        closes: the day's close in USD of every asset that can trade that day.
        slippage_bps: sells fill at close × (1 − bps/10,000), buys at close × (1 + bps/10,000).
    """
    slip = slippage_bps / BPS
    markets = tuple(
        MarketInfo(ACCOUNT, f"{asset}/{CASH}", asset, CASH, taker_fee=fee_rate)
        for asset in sorted(closes)
        if asset != CASH
    )
    quotes = tuple(
        Quote(
            m.symbol,
            closes[m.base] * (1 - slip),
            closes[m.base] * (1 + slip),
            closes[m.base],
            as_of,
            ACCOUNT,
        )
        for m in markets
    )
    held = tuple(
        Holding(ACCOUNT, asset, amount, amount)
        for asset, amount in sorted(holdings.items())
        if amount > 0
    )
    account = AccountSnapshot(ACCOUNT, "backtest", held, markets, quotes, as_of)
    return Snapshot(as_of=as_of, base_currency=CASH, accounts=(account,))


def execute(holdings: Mapping[str, Decimal], orders: tuple[Order, ...], fee_rate: Decimal) -> Fills:
    """Fill `orders` (ASSET/USD, sells first as the planner lists them) at their prices."""
    out = dict(holdings)
    fees = traded = Decimal(0)
    for o in orders:
        base, quote = o.symbol.split("/")
        cost = o.amount * o.price
        fee = cost * fee_rate
        if o.side is Side.SELL:
            out[base] = out.get(base, Decimal(0)) - o.amount
            out[quote] = out.get(quote, Decimal(0)) + cost - fee
        else:
            out[base] = out.get(base, Decimal(0)) + o.amount
            out[quote] = out.get(quote, Decimal(0)) - cost - fee
        fees += fee
        traded += cost
    return Fills(out, fees, traded, len(orders))
