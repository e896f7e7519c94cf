"""Sequence a plan's trades into orders: sells first, then the buys they fund (pure).

`Sequencer` keeps each exchange account's free spot balances as orders are planned, so a buy
only spends settlement cash that is free after the sells planned before it, fees included, and
a sell never exceeds the free balance. Sells come from the largest free balances first; buys
split across accounts (direct markets first, then quote preference, then the most cash).
Plans net: within one plan and one account an asset is never both sold and bought.
- A bridge asset that is over target (BTC) first pays directly for buys on ASSET/BTC markets
  (`net_through_bridges`), so it is not sold for cash and bought back as a route's first leg.
- A bridged sell (ADA -> BTC -> USDT) places its first leg only; the bridge proceeds pay for
  buys on that bridge's markets on the same account (BTC -> LRC) or count toward a bridge that
  is under target, and only what is left is converted to cash (`spend_bridge_proceeds`).
- Whatever still meets on one market in both directions is merged into one order of the net
  amount (`net_opposites`).
Anything dropped or left undone becomes a note on the plan. With `net=False` none of this
happens (bridged sells place both legs at once): the plan before netting, which the property
tests compare against.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from greedy_reference.routing import Book, Drop, Fill, Leg, Route, leg_effects

from rotator.core.models import ZERO, Order, Price, RebalancePolicy, Side, Snapshot

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Drift:
    """Why an asset trades: its weight, target and band, and the value to move (+ buys)."""

    asset: str
    weight: Decimal
    target: Decimal
    band: Decimal | None
    listed: bool
    delta: Decimal

    def reason(self) -> str:
        pp = (self.weight - self.target) * HUNDRED
        if self.band is not None:
            tail = f"band ±{self.band * HUNDRED:.1f} pp"
        elif self.listed:
            tail = "target 0: sell all"
        else:
            tail = "no target: rebalance.sell_unlisted"
        return f"{self.asset} {self.weight:.1%} vs target {self.target:.1%} ({pp:+.1f} pp, {tail})"


class Sequencer:
    """Mutable state of one planning pass: balances per account, orders, asset moves."""

    def __init__(
        self,
        snapshot: Snapshot,
        policy: RebalancePolicy,
        book: Book,
        prices: Mapping[str, Price],
        base: str,
        notes: list[str],
        *,
        net: bool = True,
    ) -> None:
        self.policy = policy
        self.net = net  # False: bridged sells place both legs at once (see `sell`)
        self.book = book
        self.prices = prices
        self.base = base
        self.notes = notes  # shared with the plan: appended to as orders are dropped
        self.accounts = [a.name for a in snapshot.accounts if not a.is_manual]
        manual = {a.name for a in snapshot.accounts if a.is_manual}
        self.free: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for h in snapshot.holdings:
            if h.sellable and h.account not in manual:
                self.free[(h.account, h.asset)] += h.free
        self.orders: list[tuple[int, Order]] = []
        self.legs: dict[int, Leg] = {}  # the leg each order was sized on (for `net_opposites`)
        # Bridge units received from first legs of bridged sells, not yet converted to cash,
        # by (account, bridge), with the reasons of the sells that produced them.
        self.proceeds: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        self.proceeds_for: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.moves: dict[str, Decimal] = defaultdict(Decimal)
        # Units of an asset already bought or sold by netting (see `net_through_bridges`).
        self.netted: dict[str, Decimal] = defaultdict(Decimal)

    def _value(self, asset: str, units: Decimal) -> Decimal:
        return units * self.prices[asset].in_base

    def _emit(
        self,
        fill: Fill,
        reason: str,
        legs: int | None = None,
        first: int = 1,
        label: str | None = None,
    ) -> None:
        """Add the orders of `fill` (only its first `legs` legs when given), numbered from
        `first` (2 for the deferred second leg of bridged sells)."""
        route = fill.route
        pairs = list(zip(route.legs, fill.amounts, strict=True))[:legs]
        for i, (leg, amount) in enumerate(pairs, start=first):
            notional = self.book.notional(leg, amount)
            why = reason
            if route.via is not None:
                why = f"leg {i} of {label or route.asset} via {route.via}: {reason}"
            order = Order(
                account=route.account,
                symbol=leg.market.symbol,
                side=leg.side,
                amount=amount,
                price=leg.price,
                notional=notional,
                fee=notional * leg.fee_rate,
                asset=route.asset,
                reason=why,
                leg=i if route.via is not None else 1,
            )
            self.legs[len(self.orders)] = leg
            self.orders.append((len(self.orders), order))
            for currency, change in leg_effects(leg, amount).items():
                self.free[(route.account, currency)] += change
                self.moves[currency] += change

    def _own(self, acct: str, asset: str) -> Decimal:
        """The free balance of `asset` on `acct` apart from bridge proceeds not yet spent
        (`spend_bridge_proceeds` spends or converts those)."""
        return self.free[(acct, asset)] - self.proceeds[(acct, asset)]

    def _holders(self, asset: str) -> list[str]:
        """Accounts with a free spot balance of `asset` of their own, largest first."""
        return sorted(
            (acct for acct in self.accounts if self._own(acct, asset) > 0),
            key=lambda acct: (-self._own(acct, asset), acct),
        )

    def _cheaper(self, route: Route, bridge: str) -> bool:
        """Whether buying on the bridge's market (`route`) costs no more fees than the way round
        it (the bridge sold for cash, the asset bought with cash); true when there is none."""
        other = self.book.via_cash_rate(route.account, bridge, route.asset, self.accounts)
        return other is None or route.legs[0].fee_rate <= other

    def net_through_bridges(
        self, sells: list[Drift], buys: list[Drift], reasons: Mapping[str, str]
    ) -> None:
        """Pay for buys on ASSET/BRIDGE markets with a bridge asset that is over target anyway.

        Without this, BTC over target is sold for USDT and then bought back as leg 1 of a
        USDT -> BTC -> SOL buy: two extra fees and spreads. Here SOL/BTC is bought with the
        BTC the plan sells anyway, never more of it than its own excess; `sell` and `buy`
        then only do what is left.
        """
        excess = {
            d.asset: -d.delta / self.prices[d.asset].in_base
            for d in sells
            if d.asset in self.book.bridges
        }
        for d in buys:
            need = d.delta / self.prices[d.asset].in_base
            for bridge, acct in (
                (b, a) for b in self.book.bridges if b in excess for a in self._holders(b)
            ):
                small = self.policy.min_order_value
                if (
                    self._value(d.asset, need) < small
                    or self._value(bridge, excess[bridge]) < small
                ):
                    continue
                route = self.book.direct(acct, d.asset, bridge, Side.BUY)
                if route is None or not self._cheaper(route, bridge):
                    continue
                budget = min(self.free[(acct, bridge)], excess[bridge])
                result = self.book.size_buy(route, need, budget)
                if isinstance(result, Drop):
                    continue  # not worth a note: the regular routes still buy it
                note = f"; paid with {bridge}, which is over its target too"
                self._emit(result, reasons[d.asset] + note)
                need -= result.units
                excess[bridge] -= result.cash
                self.netted[d.asset] += result.units
                self.netted[bridge] += result.cash

    def spend_bridge_proceeds(self, buys: list[Drift], reasons: Mapping[str, str]) -> None:
        """Use the bridge units of leg-1 sells, then convert only what is left into cash.

        On each account, the proceeds first count toward the bridge itself when it is under
        target (no order at all), then buy assets on ASSET/BRIDGE markets directly (largest
        shortfall first); the rest is sold for settlement cash as the deferred second leg.
        """
        wanted = {d.asset: d for d in buys}
        for (acct, bridge), units in sorted(self.proceeds.items()):
            if units <= 0:
                continue
            sources = ", ".join(dict.fromkeys(self.proceeds_for[(acct, bridge)]))
            short = wanted.get(bridge)
            if short is not None:
                need = short.delta / self.prices[bridge].in_base - self.netted[bridge]
                keep = max(min(units, need), ZERO)
                self.netted[bridge] += keep
                units -= keep
            for d in buys:
                if d.asset == bridge or units <= 0:
                    continue
                need = d.delta / self.prices[d.asset].in_base - self.netted[d.asset]
                if self._value(d.asset, need) < self.policy.min_order_value:
                    continue
                route = self.book.direct(acct, d.asset, bridge, Side.BUY)
                if route is None or not self._cheaper(route, bridge):
                    continue
                budget = min(units, self.free[(acct, bridge)])
                result = self.book.size_buy(route, need, budget)
                if isinstance(result, Drop):
                    continue  # the regular routes still buy it
                note = f"; paid with the {bridge} from selling {sources}"
                self._emit(result, reasons[d.asset] + note)
                units -= result.cash
                self.netted[d.asset] += result.units
            if units <= 0 or self._value(bridge, units) < self.policy.min_order_value:
                if units > 0:
                    self.notes.append(
                        f"{units.normalize():f} {bridge} from selling {sources} on {acct} kept "
                        f"in {bridge}: under rebalance.min_order_value to convert"
                    )
                continue
            converted = self.book.convert_out(acct, bridge, min(units, self.free[(acct, bridge)]))
            if not isinstance(converted, Fill):
                why = "no market into cash" if converted is None else converted.reason
                self.notes.append(f"{bridge} from selling {sources} on {acct} kept: {why}")
                continue
            owners = list(dict.fromkeys(self.proceeds_for[(acct, bridge)]))
            shown = Route(acct, owners[0], converted.route.cash, converted.route.legs, bridge)
            self._emit(
                Fill(shown, converted.amounts, converted.units, converted.cash),
                "; ".join(dict.fromkeys(reasons[a] for a in owners)),
                first=2,
                label=sources,
            )

    def merge_repeats(self) -> None:
        """One order per account, market, side, asset and leg: repeats are summed.

        Netting can buy one asset on one market twice (once with a bridge that is over
        target, once with the bridge proceeds of a sale); both are valid, so their sum is too.
        """
        first: dict[tuple[str, str, Side, str, int], int] = {}
        merged: dict[int, Order] = {}
        drop: set[int] = set()
        for seq, o in self.orders:
            key = (o.account, o.symbol, o.side, o.asset, o.leg)
            if key not in first:
                first[key] = seq
                merged[seq] = o
                continue
            head = first[key]
            kept = merged[head]
            reason = kept.reason if o.reason == kept.reason else f"{kept.reason}; {o.reason}"
            merged[head] = replace(
                kept,
                amount=kept.amount + o.amount,
                notional=kept.notional + o.notional,
                fee=kept.fee + o.fee,
                reason=reason,
            )
            drop.add(seq)
        if drop:
            self.orders = [(s, merged[s]) for s, _ in self.orders if s not in drop]

    def net_opposites(self) -> None:
        """Merge a sell and a buy on the same account and market into one net order.

        What is left after the netting above can still meet on one market (a bridge sold for
        cash on one route and bought back on another). The orders are replaced by one order
        of the difference on the larger side at that side's price; when the difference is
        under a minimum, neither is placed. Balance moves are corrected to match.
        """
        groups: dict[tuple[str, str], list[int]] = defaultdict(list)
        for seq, order in self.orders:
            groups[(order.account, order.symbol)].append(seq)
        by_seq = dict(self.orders)
        drop: set[int] = set()
        added: list[tuple[int, Order]] = []
        for (acct, symbol), seqs in sorted(groups.items()):
            sides = {by_seq[s].side for s in seqs}
            if len(sides) < 2:
                continue
            bought = sum((by_seq[s].amount for s in seqs if by_seq[s].side is Side.BUY), ZERO)
            sold = sum((by_seq[s].amount for s in seqs if by_seq[s].side is Side.SELL), ZERO)
            side = Side.BUY if bought > sold else Side.SELL
            keep = [s for s in seqs if by_seq[s].side is side]
            first = by_seq[keep[0]]
            leg = self.legs[keep[0]]
            for s in seqs:
                drop.add(s)
                for currency, change in leg_effects(self.legs[s], by_seq[s].amount).items():
                    self.moves[currency] -= change
            amount = abs(bought - sold)
            why = self.book.check(leg, amount) if amount > 0 else "nets to zero"
            merged = "; ".join(dict.fromkeys(by_seq[s].reason for s in seqs))
            if why is not None:
                self.notes.append(
                    f"a buy and a sell on {acct} {symbol} net out ({why}): neither is placed"
                )
                continue
            notional = self.book.notional(leg, amount)
            order = Order(
                account=acct,
                symbol=symbol,
                side=side,
                amount=amount,
                price=leg.price,
                notional=notional,
                fee=notional * leg.fee_rate,
                asset=first.asset,
                reason=f"net of a buy and a sell on {symbol}: {merged}",
                leg=first.leg,
            )
            for currency, change in leg_effects(leg, amount).items():
                self.moves[currency] += change
            added.append((min(keep), order))
        if drop:
            self.orders = [(s, o) for s, o in self.orders if s not in drop] + added

    def sell(self, d: Drift, reason: str) -> None:
        """Sell `d.asset` down to target from the largest free spot balances first."""
        want = -d.delta
        remaining = want / self.prices[d.asset].in_base - self.netted[d.asset]
        drops: list[str] = []
        sources = self._holders(d.asset)
        filled = self.netted[d.asset] > 0
        for acct in sources:
            if self._value(d.asset, remaining) < self.policy.min_order_value:
                break  # only dust left (or the whole trade is under the minimum)
            routes = self.book.routes(acct, d.asset, Side.SELL)
            if not routes:
                drops.append(
                    f"sell of {d.asset} on {acct}: no market into {self._cash()}, directly or "
                    f"via {'/'.join(self.book.bridges) or 'a bridge'}"
                )
            for route in routes:
                result = self.book.size_sell(route, remaining, self._own(acct, d.asset))
                if isinstance(result, Drop):
                    drops.append(result.reason)
                    continue
                if route.via is not None and self.net:
                    # Leg 1 only: the bridge proceeds may pay for buys before becoming cash.
                    self._emit(result, reason, legs=1)
                    got = leg_effects(route.legs[0], result.amounts[0])[route.via]
                    self.proceeds[(acct, route.via)] += got
                    self.proceeds_for[(acct, route.via)].append(route.asset)
                else:
                    self._emit(result, reason)
                remaining -= result.units
                filled = True
                break
        self._report(d, "sell", want, remaining, drops, filled)

    def buy(self, d: Drift, reason: str) -> None:
        """Buy `d.asset` up to target with settlement cash, splitting across accounts."""
        want = d.delta
        remaining = want / self.prices[d.asset].in_base - self.netted[d.asset]
        drops: list[str] = []
        rank = {c: i for i, c in enumerate(self.book.settlements)}
        candidates = sorted(
            (
                (len(r.legs), rank[r.cash], -self.free[(acct, r.cash)], acct, n, r)
                for acct in self.accounts
                for n, r in enumerate(self.book.routes(acct, d.asset, Side.BUY))
                if self.free[(acct, r.cash)] > 0
            ),
            key=lambda c: c[:5],
        )
        filled = self.netted[d.asset] > 0
        for *_, route in candidates:
            if self._value(d.asset, remaining) < self.policy.min_order_value:
                break
            available = self.free[(route.account, route.cash)]
            if available <= 0:
                continue
            result = self.book.size_buy(route, remaining, available)
            if isinstance(result, Drop):
                drops.append(result.reason)
                continue
            self._emit(result, reason)
            remaining -= result.units
            filled = True
        self._report(d, "buy", want, remaining, drops, filled)

    def _cash(self) -> str:
        return "/".join(self.book.settlements) or "no settlement currency"

    def _report(
        self,
        d: Drift,
        side: str,
        want: Decimal,
        remaining: Decimal,
        drops: list[str],
        filled: bool,
    ) -> None:
        """Add notes for what was dropped or could not be done."""
        left = self._value(d.asset, max(remaining, ZERO))
        for why in dict.fromkeys(drops):
            self.notes.append(f"dropped {why}")
        if left < self.policy.min_order_value:
            if left > 0 and not filled:
                self.notes.append(
                    f"dropped {side} of {d.asset} worth {want:.2f} {self.base}: under "
                    f"rebalance.min_order_value {self.policy.min_order_value}"
                )
            return
        done = want - left
        if side == "sell":
            why = (
                "the rest is not free in an exchange spot wallet (manual wallets, funding/earn "
                "wallets, open orders) or has no market to sell it on"
            )
        else:
            why = (
                f"no exchange account has enough free {self._cash()} with a market to "
                f"{d.asset}; the portfolio stays partly off target"
            )
        self.notes.append(
            f"{d.asset}: planned {side}s of {done:.2f} of {want:.2f} {self.base}: {why}"
        )
