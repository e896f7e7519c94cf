"""The suggested orders as a list a person can place top to bottom (pure).

1. Orders on one (account, market, side) are merged into one: their amounts, values and fees
   add up, and the merged order keeps the reason of its larger part.
2. The list is sequenced in rounds against each account's free spot balances: round 1 holds
   the orders its balances pay for before the plan, round 2 those paid once round 1 is done,
   and so on, an order never before the leg the optimizer gave it; an order's `leg` is its
   round. Within a round the given order is kept. So every
   order, placed in the listed order, is paid with what the account holds at that point, fees
   included (the optimizer's two stages make at most two rounds; a merged order can need a
   third).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal

from rotator.core.models import ZERO, Order, Side

# Relative slack for Decimal rounding of values the optimizer balanced exactly.
SLACK = Decimal("1e-9")


def merge_orders(orders: Sequence[Order]) -> list[Order]:
    """One order per (account, market, side), in the order each first appears."""
    groups: dict[tuple[str, str, Side], list[Order]] = defaultdict(list)
    for o in orders:
        groups[(o.account, o.symbol, o.side)].append(o)
    merged: list[Order] = []
    for parts in groups.values():
        if len(parts) == 1:
            merged.append(parts[0])
            continue
        main = max(parts, key=lambda o: (o.notional, -parts.index(o)))
        merged.append(
            replace(
                main,
                amount=sum((o.amount for o in parts), ZERO),
                notional=sum((o.notional for o in parts), ZERO),
                fee=sum((o.fee for o in parts), ZERO),
                leg=max(o.leg for o in parts),
            )
        )
    return merged


def _effects(o: Order) -> dict[str, Decimal]:
    """What the order changes on its account, per currency, fees included (in the quote)."""
    base, quote = o.symbol.split("/", 1)
    rate = o.fee / o.notional if o.notional > 0 else ZERO
    value = o.amount * o.price
    if o.side is Side.BUY:
        return {base: o.amount, quote: -value * (1 + rate)}
    return {base: -o.amount, quote: value * (1 - rate)}


def _pays(o: Order, balance: Mapping[tuple[str, str], Decimal]) -> bool:
    for currency, change in _effects(o).items():
        if change < 0:
            have = balance.get((o.account, currency), ZERO)
            if -change > have + SLACK * max(-change, Decimal(1)):
                return False
    return True


def sequence_orders(
    orders: Sequence[Order], free: Iterable[tuple[tuple[str, str], Decimal]]
) -> list[Order]:
    """The orders in rounds each account's free balances pay for (module docstring, step 2).

    Args:
        orders: the orders, in the order wanted within a round.
        free: ((account, currency), free spot amount) for what the plan may spend.
    """
    balance: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for key, amount in free:
        balance[key] += amount
    waiting = list(orders)
    out: list[Order] = []
    round_no = 0
    while waiting:
        round_no += 1
        avail = dict(balance)  # what this round may spend: receipts count from the next round
        ready: list[Order] = []
        for o in waiting:
            if o.leg <= round_no and _pays(o, avail):
                ready.append(o)
                for currency, change in _effects(o).items():
                    if change < 0:
                        avail[(o.account, currency)] = (
                            avail.get((o.account, currency), ZERO) + change
                        )
        if not ready:  # nothing can be paid: keep the rest as they are (held by check_orders)
            out += [replace(o, leg=round_no) for o in waiting]
            break
        for o in ready:
            for currency, change in _effects(o).items():
                balance[(o.account, currency)] += change
            out.append(replace(o, leg=round_no))
        waiting = [o for o in waiting if all(o is not r for r in ready)]
    return out
