"""Turn the optimizer's continuous amounts into orders an exchange accepts (pure).

1. Amounts of one (account, market, side) are merged into one order. An order with parts in
   both stages is placed in stage 1 when the free balance before the plan pays for all of it,
   else in stage 2, unless a stage-2 order needs what it receives (then its two parts stay two
   orders, leg 1 and leg 2).
2. Each amount is floored to the market's amount step (to 10 significant digits when the
   market states none).
3. Repair, stage by stage: where the orders of one account would spend more of a currency
   than is free (rounding of what stage 1 receives can do that), every order spending it is
   scaled down by the same factor and floored again.
4. Orders under the market's minimum amount or cost, or under `min_order_value`, are dropped
   (noted), and steps 3-4 repeat, since a dropped stage-1 order pays for nothing in stage 2.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, localcontext

from rotator.core.models import ZERO, Price, RebalancePolicy
from rotator.core.routing import Leg, floor_step, leg_effects, limit_problem

NOISE = Decimal("0.01")  # base-currency value under which a dropped order is not noted


@dataclass(frozen=True, slots=True)
class Sized:
    """An order to place: a leg, the stage it belongs to and its amount of the market's base."""

    leg: Leg
    stage: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Sizing:
    """The orders, the legs dropped under a minimum (with why) and whether the repair cut any."""

    orders: tuple[Sized, ...]
    dropped: tuple[tuple[tuple[str, str, str], str], ...]
    repaired: bool


def value_of(leg: Leg, amount: Decimal, prices: Mapping[str, Price]) -> Decimal:
    """The base-currency value of a leg of `amount` at its execution price."""
    return amount * leg.price * prices[leg.market.quote].in_base


def merge(
    amounts: Sequence[tuple[Leg, int, float]], free: Mapping[tuple[str, str], Decimal]
) -> list[tuple[Leg, int, float]]:
    """One amount per (leg, stage) after merging the stages of one leg where that is safe."""
    parts: dict[tuple[str, str, str], dict[int, float]] = defaultdict(dict)
    legs: dict[tuple[str, str, str], Leg] = {}
    for leg, stage, units in amounts:
        legs[leg.key] = leg
        parts[leg.key][stage] = parts[leg.key].get(stage, 0.0) + units
    out: list[tuple[Leg, int, float]] = []
    for key in sorted(parts):
        leg, p = legs[key], parts[key]
        if len(p) == 1:
            (stage, units), *_ = p.items()
            out.append((leg, stage, units))
            continue
        if _fits_stage1(leg, p[2], amounts, free):
            out.append((leg, 1, p[1] + p[2]))
        elif _needed_in_stage2(leg, p[1], amounts, free):
            out += [(leg, 1, p[1]), (leg, 2, p[2])]
        else:
            out.append((leg, 2, p[1] + p[2]))
    return out


def _fits_stage1(
    leg: Leg,
    units: float,
    amounts: Sequence[tuple[Leg, int, float]],
    free: Mapping[tuple[str, str], Decimal],
) -> bool:
    """Whether the free balance before the plan also pays for the stage-2 part of `leg`."""
    cur, acct = leg.gives, leg.account
    have = float(free.get((acct, cur), ZERO))
    for other, stage, amount in [*amounts, (leg, 1, units)]:
        if other.account == acct and stage == 1 and other.gives == cur:
            have += float(leg_effects(other, Decimal(repr(amount)))[cur])
    return have >= 0


def _needed_in_stage2(
    leg: Leg,
    units: float,
    amounts: Sequence[tuple[Leg, int, float]],
    free: Mapping[tuple[str, str], Decimal],
) -> bool:
    """Whether stage 2 of the same account spends more of what `leg` receives than would be
    free without its stage-1 part."""
    cur, acct = leg.gets, leg.account
    have = float(free.get((acct, cur), ZERO))
    for other, stage, amount in amounts:
        if other.account != acct:
            continue
        eff = {k: float(v) for k, v in leg_effects(other, Decimal(repr(amount))).items()}
        change = eff.get(cur, 0.0)
        if (stage == 1 and other.key != leg.key) or (stage == 2 and change < 0):
            have += change
    own = float(leg_effects(leg, Decimal(repr(units)))[cur])
    return have < -1e-9 * max(abs(own), 1.0)


def _exact(units: float) -> Decimal:
    """A solver amount as a Decimal of 12 significant digits: 1.99999999999997 (a float just
    under a bound) becomes 2, not 1.9999 once floored to the step."""
    amount = Decimal(repr(units))
    if amount <= 0:
        return ZERO
    return amount.quantize(Decimal(1).scaleb(amount.adjusted() - 11))


def _floor(amount: Decimal, step: Decimal | None) -> Decimal:
    """Floor to the market's step, or to 10 significant digits when it states none."""
    if amount <= 0:
        return ZERO
    if step is not None and step > 0:
        return floor_step(amount, step)
    return floor_step(amount, Decimal(1).scaleb(amount.adjusted() - 9))


def size(
    amounts: Sequence[tuple[Leg, int, float]],
    free: Mapping[tuple[str, str], Decimal],
    prices: Mapping[str, Price],
    policy: RebalancePolicy,
) -> Sizing:
    """Round, repair and check the optimizer's amounts (see the module docstring)."""
    merged = merge(amounts, free)
    wanted = [
        (leg, stage, _floor(_exact(units), leg.market.amount_step)) for leg, stage, units in merged
    ]
    # What the solver wanted, in value: a crumb of its arithmetic is dropped without a note.
    raw = {(leg.key, stage): value_of(leg, _exact(units), prices) for leg, stage, units in merged}
    dropped: dict[tuple[tuple[str, str, str], int], str] = {}
    repaired = False
    orders: list[Sized] = []
    for _ in range(len(wanted) + 1):
        live = [(leg, st, a) for leg, st, a in wanted if (leg.key, st) not in dropped]
        orders, cut = _repair(live, free)
        repaired = repaired or cut
        fresh = False
        for o in orders:
            value = value_of(o.leg, o.amount, prices)
            why = limit_problem(o.leg, o.amount, value, policy)
            if why is not None:
                key = (o.leg.key, o.stage)
                dropped[key] = why if max(value, raw.get(key, ZERO)) >= NOISE else ""
                fresh = True
        if not fresh:
            break
    else:
        orders = []
    notes = tuple((key, why) for (key, _stage), why in sorted(dropped.items()) if why)
    return Sizing(tuple(orders), notes, repaired)


def _repair(
    wanted: Sequence[tuple[Leg, int, Decimal]], free: Mapping[tuple[str, str], Decimal]
) -> tuple[list[Sized], bool]:
    """Scale down, stage by stage, the orders that would overspend a free balance."""
    avail: dict[tuple[str, str], Decimal] = defaultdict(Decimal, free)
    out: list[Sized] = []
    cut = False
    for stage in (1, 2):
        group = [(leg, a) for leg, st, a in wanted if st == stage]
        spend: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for leg, a in group:
            spend[(leg.account, leg.gives)] += -leg_effects(leg, a)[leg.gives]
        sized = []
        for leg, a in group:
            key = (leg.account, leg.gives)
            if spend[key] > avail[key]:
                cut = True
                with localcontext() as ctx:
                    ctx.rounding = ROUND_DOWN
                    factor = max(avail[key], ZERO) / spend[key]
                    a = _floor(a * factor, leg.market.amount_step)
            sized.append(Sized(leg, stage, a))
        for o in sized:
            for cur, change in leg_effects(o.leg, o.amount).items():
                avail[(o.leg.account, cur)] += change
        out += sized
    return out, cut
