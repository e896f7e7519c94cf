"""The planner's optimization stage: which orders, on which accounts and markets (pure).

From the valued snapshot it builds the program of `rotator.core.optimize` (every active spot
market of every exchange account a possible leg; free spot balances as the budget; every
bucket with its target and band), solves it and sizes the result into valid orders
(`rotator.core.sizing`). A leg the sizing drops under a minimum is solved again as
semi-continuous (none, or at least its minimum: a small MILP), and left out if it still falls
under one; at most `ROUNDS` solves. When the best plan still leaves band excess, it solves once
more with transfers between accounts allowed; if that would do better, a note says what to move.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from rotator.core.models import (
    CASH_BUCKET,
    ZERO,
    Holding,
    Price,
    RebalancePolicy,
    Snapshot,
)
from rotator.core.optimize import Bucket, Model, Solution, solve
from rotator.core.routing import Leg, candidate_legs, ceil_step, leg_effects
from rotator.core.sizing import Sized, size
from rotator.errors import Problem, Severity

ROUNDS = 4  # solves at most (see the module docstring)
SAFETY = Decimal("1e-10")  # minimums raised this much, so float arithmetic stays above them
BETTER = 0.001  # a transfer is worth a note when it lowers the band excess by 0.1 pp


@dataclass(frozen=True, slots=True)
class Outcome:
    """The sized orders, the notes and problems of the stage, and whether turnover capped it."""

    orders: tuple[Sized, ...]
    notes: tuple[str, ...]
    problems: tuple[Problem, ...]
    capped: bool
    excess: float  # band excess of the optimizer's (unrounded) plan, fraction


def plan_trades(
    snapshot: Snapshot,
    policy: RebalancePolicy,
    prices: Mapping[str, Price],
    holdings: Sequence[Holding],
    buckets: Sequence[str],
    bucket: Callable[[str], str],
    target_of: Callable[[str], Decimal | None],
    total: Decimal,
) -> Outcome:
    """Solve, size and re-solve; see the module docstring."""
    base = snapshot.base_currency
    exchanges = frozenset(a.name for a in snapshot.accounts if not a.is_manual)
    free: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for h in snapshot.holdings:
        if h.sellable and h.account in exchanges and h.asset not in policy.ignore_assets:
            free[(h.account, h.asset)] += h.free
    untradable = policy.never_trade | policy.ignore_assets
    currencies = {h.asset for h in holdings}
    currencies |= {c for m in snapshot.markets for c in (m.base, m.quote)}
    tradable = frozenset(
        c for c in currencies if c in prices and not prices[c].from_oracle and c not in untradable
    )
    values: dict[str, float] = defaultdict(float)
    for h in holdings:
        if h.asset in prices:
            values[h.asset] += float(h.total * prices[h.asset].in_base)
    members: dict[str, set[str]] = defaultdict(set)
    for c in {*currencies, *values}:
        members[bucket(c)].add(c)
    names = list(dict.fromkeys([*buckets, *sorted(members)]))
    model_buckets = []
    pass_through = set()
    for name in names:
        t = target_of(name)
        if t is None:
            pass_through |= {c for c in members[name] if c in tradable}
        band = min(policy.drift_abs, policy.drift_rel * t) if t is not None and t > 0 else None
        model_buckets.append(
            Bucket(
                name,
                tuple(sorted(members[name])),
                None if t is None else float(t),
                None if band is None else float(band),
                turnover=name != CASH_BUCKET,
            )
        )
    if not _off_band(values, model_buckets):  # every bucket inside its band: nothing to solve
        return Outcome((), (), (), False, 0.0)
    legs = candidate_legs(
        snapshot.markets, snapshot.quotes, policy, prices, tradable, exchanges, now=snapshot.as_of
    )
    model = Model(
        legs=legs,
        free={k: float(v) for k, v in sorted(free.items())},
        values=dict(values),
        price={c: float(prices[c].in_base) for c in sorted(tradable)},
        buckets=tuple(model_buckets),
        pass_through=frozenset(pass_through),
        total=float(total),
        cost_weight=float(policy.cost_weight),
        max_turnover=None if policy.max_turnover is None else float(policy.max_turnover),
        time_limit=policy.time_limit_seconds,
    )
    notes: list[str] = []
    excluded: set[tuple[str, str, str]] = set()
    least = {leg.key: _least(leg, prices, policy, total) for leg in legs}
    minimums: dict[tuple[str, str, str], float] = {}
    dropped: dict[tuple[str, str, str], str] = {}
    solution = Solution("failed", "not solved")
    orders: tuple[Sized, ...] = ()
    for _ in range(ROUNDS):
        solution = solve(_with(model, excluded, minimums))
        if solution.status == "failed" or (not solution.amounts and solution.status != "optimal"):
            break
        sizing = size(solution.amounts, free, prices, policy)
        orders = sizing.orders
        fresh = {key: why for key, why in sizing.dropped if key not in excluded}
        dropped.update(fresh)
        if not fresh:
            break
        for key in fresh:  # first: at least the minimum or nothing; then: nothing
            other = (key[0], key[1], "sell" if key[2] == "buy" else "buy")
            if key in minimums or other in minimums:
                excluded.add(key)
            else:
                # Never both sides of one market: a buy and a sell over the minimum that net
                # to the small amount wanted would be paying fees twice to dodge a minimum.
                minimums[key] = least[key]
                excluded.add(other)
    placed = {o.leg.key for o in orders}
    if solution.status == "time_limit":
        if solution.amounts:
            notes.append(
                f"the optimizer hit its time limit of {policy.time_limit_seconds:g} s: these "
                "orders are the best plan it found by then, feasible but maybe not the best"
            )
        else:
            notes.append(
                f"the optimizer found no plan within its time limit of "
                f"{policy.time_limit_seconds:g} s: no orders suggested this time (placing none "
                "is the only plan known to be feasible); run it again or with fewer "
                "accounts/markets"
            )
            orders = ()
    elif solution.status != "optimal":
        return Outcome(
            (),
            tuple(notes),
            (
                Problem(
                    Severity.ERROR,
                    "plan",
                    f"the optimizer failed ({solution.message}): no orders suggested",
                ),
            ),
            False,
            0.0,
        )
    dropped = {k: why for k, why in dropped.items() if k not in placed}
    notes += [f"dropped {why}" for _key, why in sorted(dropped.items())]
    capped = False
    if policy.max_turnover is not None and solution.status == "optimal":
        moved = _turnover(orders, bucket, prices)
        if moved >= policy.max_turnover * total * Decimal("0.99"):
            capped = True
            notes.append(
                f"rebalance.max_turnover {policy.max_turnover:.1%} limits this plan to "
                f"{moved:.2f} {base} of trades: assets move toward their bands without reaching "
                "them"
            )
    if solution.status == "optimal" and solution.excess > BETTER and len(exchanges) > 1:
        pooled = solve(_with(model, excluded, minimums, transfers=True))
        notes += _transfer_notes(pooled, solution, base, prices, policy.min_order_value)
    return Outcome(orders, tuple(notes), (), capped, solution.excess)


def _off_band(values: Mapping[str, float], buckets: Sequence[Bucket]) -> bool:
    """Whether any bucket starts outside its band (a plan then has something to do)."""
    total = sum(values.values())
    if total <= 0:
        return False
    for b in buckets:
        if b.target is None:
            continue
        w = sum(values.get(c, 0.0) for c in b.currencies) / total
        if (b.band is None and w > 0) or (b.band is not None and abs(w - b.target) > b.band):
            return True
    return False


def _least(leg: Leg, prices: Mapping[str, Price], policy: RebalancePolicy, total: Decimal) -> float:
    """The smallest amount of `leg` its market and `min_order_value` accept, on the market's
    step, as a fraction of the portfolio (valued at the base currency's price)."""
    m = leg.market
    quote_value = leg.price * prices[m.quote].in_base
    units = max(
        m.amount_step or ZERO,
        m.min_amount or ZERO,
        (m.min_cost or ZERO) / leg.price,
        policy.min_order_value / quote_value if quote_value > 0 else ZERO,
    )
    units = ceil_step(units, m.amount_step) * (1 + SAFETY)
    return float(units * prices[m.base].in_base / total)


def _with(
    model: Model,
    excluded: set[tuple[str, str, str]],
    minimums: Mapping[tuple[str, str, str], float],
    transfers: bool = False,
) -> Model:
    return replace(
        model,
        excluded=frozenset(excluded),
        minimums=dict(minimums),
        transfers=transfers,
    )


def _turnover(
    orders: Sequence[Sized], bucket: Callable[[str], str], prices: Mapping[str, Price]
) -> Decimal:
    moved: dict[str, Decimal] = defaultdict(Decimal)
    for o in orders:
        for cur, change in leg_effects(o.leg, o.amount).items():
            moved[bucket(cur)] += change * prices[cur].in_base
    return sum((abs(v) for b, v in moved.items() if b != CASH_BUCKET), ZERO)


def _transfer_notes(
    pooled: Solution,
    solution: Solution,
    base: str,
    prices: Mapping[str, Price],
    min_value: Decimal,
) -> list[str]:
    if pooled.status != "optimal" or pooled.excess > solution.excess - BETTER:
        return []
    out = []
    for cur, src, dst, units in pooled.transfers:
        value = Decimal(repr(units)) * prices[cur].in_base
        if value < max(min_value, Decimal(1)):
            continue
        out.append(
            f"the best plan needs a transfer between accounts, which rotator never makes: "
            f"{Decimal(repr(units)):.8g} {cur} (about {value:,.2f} {base}) from {src} to {dst} "
            f"would bring the band excess from {solution.excess:.2%} to {pooled.excess:.2%} "
            "of the portfolio"
        )
    return out
