"""Why each order is there, read from the flows of the plan (pure).

An order receives one currency and gives another. On its account:
- a stage-1 order whose proceeds other orders spend is leg 1 of a route through that
  currency ("leg 1 of TRX via BTC"); a stage-2 order paid with what stage 1 receives is a
  leg 2 (stage-1 orders only spend what the account holds before the plan, so they may be
  placed in any order, and every leg 2 after them);
- the route (or the single order) is there for the buckets at its ends that move toward
  their targets: the one it fills and the one it pays with, each with its drift
  ("KNC 0.0% vs target 5.2% (-5.2 pp, band ±1.3 pp)");
- what pays for a buy is named when it is not cash: "paid with BTC, which is over its target
  too", or "paid with the BTC from selling ADA, LINK" for a leg 2.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from rotator.core.models import CASH_BUCKET, ZERO
from rotator.core.sizing import Sized

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Drift:
    """A bucket's weight before the plan, its target and band (None: target 0)."""

    asset: str
    weight: Decimal
    target: Decimal
    band: Decimal | None
    listed: bool

    def reason(self) -> str:
        pp = (self.weight - self.target) * HUNDRED
        if self.band is not None:
            tail = f"band ±{self.band * HUNDRED:.1f} pp"
        elif self.listed:
            tail = "target 0: sell all"
        else:
            tail = "no target: rebalance.sell_unlisted"
        return f"{self.asset} {self.weight:.1%} vs target {self.target:.1%} ({pp:+.1f} pp, {tail})"


@dataclass(frozen=True, slots=True)
class Explained:
    """An order's subject asset, its leg number and its reason."""

    asset: str
    leg: int
    reason: str


def explain(
    orders: Sequence[Sized],
    bucket: Callable[[str], str],
    moved: Mapping[str, Decimal],
    drifts: Mapping[str, Drift],
    tail: str = "",
) -> list[Explained]:
    """The subject, leg and reason of every order, in the order given.

    Args:
        bucket: the bucket a currency belongs to.
        moved: the value each bucket gains (+) or loses (-) through the whole plan.
        drifts: the buckets with a target, by name.
        tail: appended to every reason (a turnover cap, say).
    """
    got1: dict[tuple[str, str], list[Sized]] = defaultdict(list)
    spent: dict[tuple[str, str], list[Sized]] = defaultdict(list)
    for o in orders:
        if o.stage == 1:
            got1[(o.leg.account, o.leg.gets)].append(o)
        spent[(o.leg.account, o.leg.gives)].append(o)

    def toward(cur: str, sign: int) -> bool:
        """Whether `cur`'s bucket (not cash) moves in direction `sign`, toward its target."""
        b = bucket(cur)
        if b not in drifts or b == CASH_BUCKET:
            return False
        d = drifts[b]
        return moved.get(b, ZERO) * sign > 0 and (d.target - d.weight) * sign > 0

    def linked(o: Sized, x: Sized, cur: str) -> bool:
        """Whether `x` is the other leg of `o`'s route through `cur`: a stage-2 order always is;
        in stage 1 (where both are paid from what the account held) only a non-cash currency
        passed on makes a route, cash is where trades settle."""
        return x is not o and (o.stage == 2 or x.stage == 2 or bucket(cur) != CASH_BUCKET)

    out = []
    for o in orders:
        acct = o.leg.account
        funders = [x for x in got1.get((acct, o.leg.gives), []) if linked(o, x, o.leg.gives)]
        users = [x for x in spent.get((acct, o.leg.gets), []) if linked(o, x, o.leg.gets)]
        via: str | None = None
        leg = 2 if funders else 1
        if funders:  # paid with what stage 1 receives: leg 2 of a route
            via = o.leg.gives
            starts = _names(x.leg.gives for x in funders)
            ends = [o.leg.gets]
        elif o.stage == 1 and users:  # what it receives pays for other orders: leg 1
            via = o.leg.gets
            starts = [o.leg.gives]
            ends = _names(x.leg.gets for x in users)
        else:
            starts, ends = [o.leg.gives], [o.leg.gets]
        fills = list(dict.fromkeys(bucket(c) for c in ends if toward(c, 1)))
        pays = list(dict.fromkeys(bucket(c) for c in starts if toward(c, -1)))
        main = fills or pays
        if main:
            text = "; ".join(drifts[b].reason() for b in main)
        else:  # only cash moves toward its target: a bucket inside its band takes or gives it
            main = [bucket(o.leg.market.base)]
            text = _cash_reason(o, bucket, moved, drifts)
        if via is not None and leg == 2:
            cash = all(bucket(c) == CASH_BUCKET for c in starts)
            how = "bought with" if cash else "from selling"
            text += f"; paid with the {via} {how} {', '.join(starts)}"
        elif fills and pays and via is None:
            text += f"; paid with {', '.join(pays)}, which is over its target too"
        elif fills and pays:
            text += "; paid with " + ", ".join(f"{p} ({_short(drifts[p])})" for p in pays)
        if via is not None:
            label = ", ".join(fills or pays or starts)
            text = f"leg {leg} of {label} via {via}: {text}"
        out.append(Explained(main[0], leg, text + tail))
    return out


def _cash_reason(
    o: Sized,
    bucket: Callable[[str], str],
    moved: Mapping[str, Decimal],
    drifts: Mapping[str, Drift],
) -> str:
    cash = drifts.get(CASH_BUCKET)
    other = o.leg.gets if bucket(o.leg.gives) == CASH_BUCKET else o.leg.gives
    if cash is None or moved.get(CASH_BUCKET, ZERO) == 0:
        return f"{o.leg.side.value} on {o.leg.market.symbol}"
    verb = "goes into" if bucket(o.leg.gives) == CASH_BUCKET else "comes from"
    return f"{cash.reason()}; the cash {verb} {bucket(other)}"


def _short(d: Drift) -> str:
    return f"{d.weight:.1%} vs target {d.target:.1%}"


def _names(currencies: Iterable[str]) -> list[str]:
    return sorted(set(currencies))
