"""The markets a plan may trade on, their execution prices and costs, and order limits (pure).

Every active spot market of an exchange account whose two currencies may trade is a possible
leg, in both directions: a buy pays the ask, a sell gets the bid (the last trade when a side is
missing), from the freshest quote of that account (any account's when it has none of its own).
Fees are assumed paid in the quote currency. The execution cost of a leg is its fee plus half
the bid/ask spread, both against the mid price: what the portfolio loses by trading it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from rotator.core.models import MarketInfo, Price, Quote, RebalancePolicy, Side

ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class Leg:
    """One market and side an order may use, with its price, mid price and fee rate."""

    market: MarketInfo
    side: Side
    price: Decimal
    mid: Decimal
    fee_rate: Decimal

    @property
    def account(self) -> str:
        return self.market.account

    @property
    def gives(self) -> str:
        """The currency the leg spends."""
        return self.market.base if self.side is Side.SELL else self.market.quote

    @property
    def gets(self) -> str:
        """The currency the leg receives."""
        return self.market.quote if self.side is Side.SELL else self.market.base

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.market.account, self.market.symbol, self.side.value)


def floor_step(x: Decimal, step: Decimal | None) -> Decimal:
    """Round down to a multiple of `step` (no rounding when the market states no step)."""
    if step is None or step <= 0:
        return x
    return (x / step).to_integral_value(ROUND_FLOOR) * step


def ceil_step(x: Decimal, step: Decimal | None) -> Decimal:
    """Round up to a multiple of `step`."""
    if step is None or step <= 0:
        return x
    return (x / step).to_integral_value(ROUND_CEILING) * step


def leg_effects(leg: Leg, amount: Decimal) -> dict[str, Decimal]:
    """Balance changes of one executed leg, by currency (fee paid in the quote currency)."""
    m = leg.market
    cost = amount * leg.price
    if leg.side is Side.SELL:
        return {m.base: -amount, m.quote: cost * (ONE - leg.fee_rate)}
    return {m.base: amount, m.quote: -(cost * (ONE + leg.fee_rate))}


def leg_cost(leg: Leg, amount: Decimal) -> Decimal:
    """Fee plus half-spread of a leg of `amount`, in the market's quote currency."""
    spread = leg.price - leg.mid if leg.side is Side.BUY else leg.mid - leg.price
    return amount * (leg.price * leg.fee_rate + max(spread, Decimal(0)))


def usable_quotes(
    quotes: Iterable[Quote], max_age_seconds: int, now: datetime
) -> tuple[dict[tuple[str, str], Quote], dict[str, Quote]]:
    """The freshest quote per (account, symbol) and per symbol, stale ones left out."""
    own: dict[tuple[str, str], Quote] = {}
    anyq: dict[str, Quote] = {}
    for q in quotes:
        if (now - q.as_of).total_seconds() > max_age_seconds:
            continue  # a stale ticker is no estimate of what an order would get
        key = (q.source, q.symbol)
        if key not in own or q.as_of > own[key].as_of:
            own[key] = q
        if q.symbol not in anyq or q.as_of > anyq[q.symbol].as_of:
            anyq[q.symbol] = q
    return own, anyq


def candidate_legs(
    markets: Iterable[MarketInfo],
    quotes: Iterable[Quote],
    policy: RebalancePolicy,
    prices: Mapping[str, Price],
    tradable: frozenset[str],
    accounts: frozenset[str],
    *,
    now: datetime,
) -> tuple[Leg, ...]:
    """Every leg the optimizer may use, sorted by account, symbol and side.

    A market qualifies when it is an active spot market of an exchange account in `accounts`,
    both its currencies are in `tradable` and priced, and a fresh quote gives it a price.
    """
    own, anyq = usable_quotes(quotes, policy.max_price_age_seconds, now)
    seen: dict[tuple[str, str], MarketInfo] = {}
    for m in markets:
        if not m.active or ":" in m.symbol or m.account not in accounts or m.base == m.quote:
            continue
        if m.base not in tradable or m.quote not in tradable:
            continue
        if m.base not in prices or m.quote not in prices:
            continue
        seen.setdefault((m.account, m.symbol), m)
    out: list[Leg] = []
    for key in sorted(seen):
        m = seen[key]
        q = own.get(key) or anyq.get(m.symbol)
        if q is None:
            continue
        mid = q.mid
        if mid is None:
            continue
        fee = m.taker_fee if m.taker_fee is not None else policy.fee_rate
        for side, raw in ((Side.BUY, q.ask), (Side.SELL, q.bid)):
            price = raw if raw is not None and raw > 0 else q.last
            if price is None or price <= 0:
                continue
            out.append(Leg(m, side, price, mid, fee))
    return tuple(out)


def limit_problem(leg: Leg, amount: Decimal, value: Decimal, policy: RebalancePolicy) -> str | None:
    """Why a leg of `amount` (worth `value` in the base currency) may not be placed, or None
    when it respects the market's step and minimums and `min_order_value`."""
    mk = leg.market
    what = f"{leg.side.value} {amount.normalize():f} {mk.base} on {mk.account} {mk.symbol}"
    if amount <= 0:
        step = "none" if mk.amount_step is None else f"{mk.amount_step.normalize():f}"
        return f"{what}: rounds to zero at the market's amount step {step}"
    if mk.min_amount is not None and amount < mk.min_amount:
        return f"{what}: under the market's minimum amount {mk.min_amount} {mk.base}"
    cost = amount * leg.price
    if mk.min_cost is not None and cost < mk.min_cost:
        return f"{what}: cost {cost:.8g} {mk.quote} under the market's minimum {mk.min_cost}"
    if value < policy.min_order_value:
        return f"{what}: value {value:.2f} under rebalance.min_order_value {policy.min_order_value}"
    return None
