"""Markets, routes and order sizing for the planner (pure).

A route turns a portfolio asset into a settlement currency (a sell) or back (a buy) on one
exchange account: directly on ASSET/CASH, or in two legs through a bridge asset when the asset
only trades against it (SOL/BTC then BTC/USDT). Settlement currencies are the cash assets in the
policy's quote preference, so proceeds land in the cash bucket and a bridge is only passed
through; a non-cash currency in the quote preference (BTC) therefore acts as a bridge.

Sizing floors amounts to the market's step, never sells more than is free, never spends more
than is available with the fee included (fees are assumed to be paid in the quote currency),
and refuses legs under the market's minimum amount/cost or the configured minimum order value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_UP, Decimal, localcontext

from rotator.core.models import MarketInfo, Price, Quote, RebalancePolicy, Side

ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class Leg:
    """One order of a route: a market, a side and its estimated execution price and fee rate."""

    market: MarketInfo
    side: Side
    price: Decimal
    fee_rate: Decimal


@dataclass(frozen=True, slots=True)
class Route:
    """How `asset` is sold into (or bought with) `cash` on `account`; `via` names a bridge."""

    account: str
    asset: str
    cash: str
    legs: tuple[Leg, ...]
    via: str | None = None


@dataclass(frozen=True, slots=True)
class Fill:
    """A sized route: the legs with their amounts, units of the asset moved and cash moved."""

    route: Route
    amounts: tuple[Decimal, ...]
    units: Decimal
    cash: Decimal


@dataclass(frozen=True, slots=True)
class Drop:
    """A route that could not be sized into valid orders, and why (for the plan's notes)."""

    reason: str


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


def div_down(a: Decimal, b: Decimal) -> Decimal:
    """a / b rounded toward zero, so an affordable amount is never overstated by rounding."""
    with localcontext() as ctx:
        ctx.rounding = ROUND_DOWN
        return a / b


def div_up(a: Decimal, b: Decimal) -> Decimal:
    """a / b rounded away from zero, so a needed amount is never understated by rounding."""
    with localcontext() as ctx:
        ctx.rounding = ROUND_UP
        return a / b


def leg_effects(leg: Leg, amount: Decimal) -> dict[str, Decimal]:
    """Balance changes of one executed leg, by currency (fee paid in the quote currency)."""
    m = leg.market
    cost = amount * leg.price
    if leg.side is Side.SELL:
        return {m.base: -amount, m.quote: cost * (ONE - leg.fee_rate)}
    return {m.base: amount, m.quote: -(cost * (ONE + leg.fee_rate))}


class Book:
    """The markets and execution-price quotes the planner may route through."""

    def __init__(
        self,
        markets: Iterable[MarketInfo],
        quotes: Iterable[Quote],
        policy: RebalancePolicy,
        prices: Mapping[str, Price],
        *,
        now: datetime,
    ) -> None:
        self.policy = policy
        self.prices = prices
        self._markets: dict[tuple[str, str, str], MarketInfo] = {}
        for m in markets:
            if m.active and ":" not in m.symbol:
                self._markets.setdefault((m.account, m.base, m.quote), m)
        self._own: dict[tuple[str, str], Quote] = {}
        self._any: dict[str, Quote] = {}
        for q in quotes:
            if (now - q.as_of).total_seconds() > policy.max_price_age_seconds:
                continue  # a stale ticker is no estimate of what an order would get
            key = (q.source, q.symbol)
            if key not in self._own or q.as_of > self._own[key].as_of:
                self._own[key] = q
            if q.symbol not in self._any or q.as_of > self._any[q.symbol].as_of:
                self._any[q.symbol] = q
        untradable = policy.never_trade | policy.ignore_assets
        self.settlements = tuple(
            c for c in policy.quote_preference if c in policy.cash_assets and c not in untradable
        )
        extra = [c for c in policy.quote_preference if c not in policy.cash_assets]
        self.bridges = tuple(
            dict.fromkeys(
                b
                for b in (*policy.bridge_assets, *extra)
                if b not in untradable and b not in self.settlements
            )
        )

    def _leg(self, account: str, base: str, quote: str, side: Side) -> Leg | None:
        m = self._markets.get((account, base, quote))
        if m is None or base not in self.prices or quote not in self.prices:
            return None
        q = self._own.get((account, m.symbol)) or self._any.get(m.symbol)
        if q is None:
            return None
        price = q.bid if side is Side.SELL else q.ask
        if not price or price <= 0:
            price = q.last
        if not price or price <= 0:
            return None
        fee = m.taker_fee if m.taker_fee is not None else self.policy.fee_rate
        return Leg(m, side, price, fee)

    def _convert(self, account: str, src: str, dst: str) -> Leg | None:
        """A leg turning `src` into `dst`: sell on SRC/DST, else buy on DST/SRC."""
        return self._leg(account, src, dst, Side.SELL) or self._leg(account, dst, src, Side.BUY)

    def direct(self, account: str, asset: str, quote: str, side: Side) -> Route | None:
        """The one-leg route for `side` of `asset` on ASSET/QUOTE, if the account lists it."""
        leg = self._leg(account, asset, quote, side)
        return None if leg is None else Route(account, asset, quote, (leg,))

    def routes(self, account: str, asset: str, side: Side) -> list[Route]:
        """Routes on `account` for `side` of `asset`: direct by quote preference, then bridged.

        The asset's own leg is always on an ASSET/QUOTE market; the leg between a bridge and
        cash may use either orientation (BTC/USDT or USDT/BTC). Buys may also bridge through
        another settlement currency (USDC -> USD -> SOL when SOL trades only against USD).
        """
        out: list[Route] = []
        for cash in self.settlements:
            leg = self._leg(account, asset, cash, side)
            if leg is not None and cash != asset:
                out.append(Route(account, asset, cash, (leg,)))
        bridges = self.bridges if side is Side.SELL else (*self.bridges, *self.settlements)
        for bridge in bridges:
            if bridge == asset:
                continue
            outer = self._leg(account, asset, bridge, side)
            if outer is None:
                continue
            for cash in self.settlements:
                if cash in (bridge, asset):
                    continue
                if side is Side.SELL:
                    inner = self._convert(account, bridge, cash)
                    legs = None if inner is None else (outer, inner)
                else:
                    inner = self._convert(account, cash, bridge)
                    legs = None if inner is None else (inner, outer)
                if legs is not None:
                    out.append(Route(account, asset, cash, legs, via=bridge))
        return out

    def via_cash_rate(
        self, account: str, bridge: str, asset: str, buyers: Iterable[str]
    ) -> Decimal | None:
        """The lowest fee rate of the way round a bridge-market buy: `bridge` sold for cash on
        `account`, then `asset` bought with cash on one of `buyers` (summed over the legs).
        None when there is no such way."""
        out = [leg.fee_rate for c in self.settlements if (leg := self._convert(account, bridge, c))]
        buy = [
            sum((leg.fee_rate for leg in r.legs), Decimal(0))
            for a in buyers
            for r in self.routes(a, asset, Side.BUY)
        ]
        return min(out) + min(buy) if out and buy else None

    def notional(self, leg: Leg, amount: Decimal) -> Decimal:
        """Estimated value of a leg in the base currency (at its execution price)."""
        return amount * leg.price * self.prices[leg.market.quote].in_base

    def check(self, leg: Leg, amount: Decimal) -> str | None:
        """Why a leg of `amount` may not be placed, or None when it respects all minimums."""
        m = self.policy
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
        value = self.notional(leg, amount)
        if value < m.min_order_value:
            return f"{what}: value {value:.2f} under rebalance.min_order_value {m.min_order_value}"
        return None

    def convert_out(self, account: str, bridge: str, units: Decimal) -> Fill | Drop | None:
        """Turn `units` of a bridge asset into the first settlement cash it converts to.

        This is the deferred second leg of bridged sells (ADA -> BTC, then BTC -> USDT) once
        the bridge proceeds have paid for what they could. None when no market converts it.
        """
        drop: Drop | None = None
        for cash in self.settlements:
            if cash == bridge:
                continue
            leg = self._convert(account, bridge, cash)
            if leg is None:
                continue
            amount = _max_amount(leg, units)
            why = self.check(leg, amount)
            if why is not None:
                drop = drop or Drop(why)
                continue
            route = Route(account, bridge, cash, (leg,))
            return Fill(route, (amount,), _spend(leg, amount), _out(leg, amount))
        return drop

    def size_sell(self, route: Route, units: Decimal, free: Decimal) -> Fill | Drop:
        """Sell up to `units` of the asset (never more than `free`) along `route`."""
        first = route.legs[0]
        amounts = [floor_step(min(units, free), first.market.amount_step)]
        received = _out(first, amounts[0])
        for leg in route.legs[1:]:  # pass everything received through the bridge
            amounts.append(_max_amount(leg, received))
            received = _out(leg, amounts[-1])
        for leg, amount in zip(route.legs, amounts, strict=True):
            why = self.check(leg, amount)
            if why is not None:
                return Drop(why)
        return Fill(route, tuple(amounts), amounts[0], received)

    def size_buy(self, route: Route, units: Decimal, available: Decimal) -> Fill | Drop:
        """Buy up to `units` of the asset spending at most `available` cash, fees included."""
        last = route.legs[-1]
        if len(route.legs) == 1:
            got = floor_step(min(units, _max_amount(last, available)), last.market.amount_step)
            amounts = [got]
        else:
            inner = route.legs[0]  # cash -> bridge, then `last`: bridge -> asset
            inner_max = _max_amount(inner, available)
            bridge_max = _out(inner, inner_max)
            got = floor_step(min(units, _max_amount(last, bridge_max)), last.market.amount_step)
            # Convert just enough for leg 2; rounding up stays within inner_max (on the grid).
            amounts = [min(_amount_for(inner, _spend(last, got)), inner_max), got]
        spent = _spend(route.legs[0], amounts[0])
        for leg, amount in zip(route.legs, amounts, strict=True):
            why = self.check(leg, amount)
            if why is not None:
                return Drop(why)
        return Fill(route, tuple(amounts), got, spent)


# A leg converts one currency into another: a sell gives up the base for the quote, a buy
# gives up the quote for the base; fees are paid in the quote currency either way.


def _out(leg: Leg, amount: Decimal) -> Decimal:
    """What a leg of `amount` yields, fees deducted."""
    if leg.side is Side.SELL:
        return amount * leg.price * (ONE - leg.fee_rate)
    return amount


def _spend(leg: Leg, amount: Decimal) -> Decimal:
    """What a leg of `amount` costs, fees included."""
    if leg.side is Side.SELL:
        return amount
    return amount * leg.price * (ONE + leg.fee_rate)


def _max_amount(leg: Leg, have: Decimal) -> Decimal:
    """The largest amount (on the market's step) a leg can have when `have` may be spent."""
    if leg.side is Side.SELL:
        return floor_step(have, leg.market.amount_step)
    return floor_step(div_down(have, leg.price * (ONE + leg.fee_rate)), leg.market.amount_step)


def _amount_for(leg: Leg, need: Decimal) -> Decimal:
    """The smallest amount (on the market's step) whose yield covers `need`."""
    if leg.side is Side.SELL:
        return ceil_step(div_up(need, leg.price * (ONE - leg.fee_rate)), leg.market.amount_step)
    return ceil_step(need, leg.market.amount_step)
