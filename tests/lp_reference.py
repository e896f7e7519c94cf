"""An independent linear-programming reference for rebalance plans (tests and bench only).

Written apart from rotator.core.optimize on purpose, in plain units (amounts of each market's
base, values in the base currency) with dense matrices and none of the planner's devices (no
stages, tiers, margins, minimums or steps):

- one amount per (account, market, side) that has a fresh quote, for every exchange account;
- per account and currency, what is free before the plan plus everything the orders move stays
  >= 0 (no limit on route length: a relaxation of the planner's two legs), or, with
  `two_legs`, the same two stages as the planner's (stage 1 spends only what is held);
- never-trade, ignored and oracle-priced assets never trade; an asset without a target that is
  not sold (sell_unlisted off) ends where it started; `max_turnover` caps the buckets' moves;
- band excess of a bucket: max(0, |V_B - t T| - band T) in value, T the value after the plan.

`best(...)` minimises the total band excess first and then, with the excess held, the cost
(fees + half-spreads against the mid). `cheapest(...)` minimises the cost of reaching, bucket by
bucket, no more band excess than a given plan ends with: "the cheapest plan with its outcome".
Scores (`excess_of`, `cost_of`) are taken on the planner's valuation prices.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from rotator.core.models import CASH_BUCKET, Plan, RebalancePolicy, Side, Snapshot, TargetWeights
from rotator.core.valuation import price_assets


@dataclass(frozen=True)
class Reference:
    excess: float  # sum of band excess after the plan, fraction of the portfolio
    cost: float  # fees + half-spreads, base currency
    status: int


@dataclass(frozen=True)
class _Leg:
    account: str
    base: str
    quote: str
    side: Side
    price: float
    mid: float
    fee: float


class _Problem:
    def __init__(self, snapshot: Snapshot, targets: TargetWeights, policy: RebalancePolicy) -> None:
        cash = policy.cash_assets
        self.bucket = lambda a: CASH_BUCKET if a in cash else a
        held = sorted({h.asset for h in snapshot.holdings if h.asset not in policy.ignore_assets})
        wanted = sorted(
            {*held, *targets.weights, *(c for m in snapshot.markets for c in (m.base, m.quote))}
            - {CASH_BUCKET}
        )
        prices, _ = price_assets(
            snapshot.quotes,
            wanted,
            snapshot.base_currency,
            now=snapshot.as_of,
            max_age_seconds=policy.max_price_age_seconds,
            max_disagreement=policy.max_price_disagreement,
            oracle=snapshot.oracle,
        )
        self.price = {a: float(p.in_base) for a, p in prices.items()}
        oracle = {a for a, p in prices.items() if p.from_oracle}
        blocked = policy.never_trade | policy.ignore_assets | oracle
        tw: dict[str, float] = defaultdict(float)
        for a, w in targets.weights.items():
            if a not in policy.ignore_assets:
                tw[CASH_BUCKET if a == CASH_BUCKET else self.bucket(a)] += float(w)
        tw.setdefault(CASH_BUCKET, 0.0)
        self.units: dict[str, float] = defaultdict(float)
        for h in snapshot.holdings:
            if h.asset not in policy.ignore_assets:
                self.units[h.asset] += float(h.total)
        self.total = sum(u * self.price.get(a, 0.0) for a, u in self.units.items())
        manual = {a.name for a in snapshot.accounts if a.is_manual}
        self.free: dict[tuple[str, str], float] = defaultdict(float)
        for h in snapshot.holdings:
            if h.sellable and h.account not in manual:
                self.free[(h.account, h.asset)] += float(h.free)
        fresh = [
            q
            for q in snapshot.quotes
            if (snapshot.as_of - q.as_of).total_seconds() <= policy.max_price_age_seconds
        ]
        self.legs: list[_Leg] = []
        for m in snapshot.markets:
            if m.account in manual or not m.active or ":" in m.symbol:
                continue
            if {m.base, m.quote} & blocked or m.base not in prices or m.quote not in prices:
                continue
            own = [q for q in fresh if q.symbol == m.symbol and q.source == m.account]
            q = max(
                own or [q for q in fresh if q.symbol == m.symbol],
                key=lambda q: q.as_of,
                default=None,
            )
            if q is None or q.mid is None:
                continue
            fee = float(m.taker_fee if m.taker_fee is not None else policy.fee_rate)
            for side, p in ((Side.BUY, q.ask), (Side.SELL, q.bid)):
                px = float(p if p else q.last or 0)
                if px > 0:
                    self.legs.append(_Leg(m.account, m.base, m.quote, side, px, float(q.mid), fee))
        currencies = {*self.units, *(c for g in self.legs for c in (g.base, g.quote))}
        self.members: dict[str, list[str]] = defaultdict(list)
        for c in sorted(currencies):
            if c in self.price:
                self.members[self.bucket(c)].append(c)
        for b in tw:  # a target nothing held or traded belongs to still counts (value 0)
            self.members.setdefault(b, [])
        self.targets: dict[str, tuple[float, float]] = {}
        for b in self.members:
            if b in tw:
                t = tw[b]
            elif b == CASH_BUCKET or b in policy.never_trade or not policy.sell_unlisted:
                continue
            else:
                t = 0.0
            band = min(float(policy.drift_abs), float(policy.drift_rel) * t) if t > 0 else 0.0
            self.targets[b] = (t, band)
        self.fixed = {
            c for c in currencies if self.bucket(c) not in self.targets and c != CASH_BUCKET
        }
        self.turnover = None if policy.max_turnover is None else float(policy.max_turnover)

    def effect(self, leg: _Leg) -> dict[str, float]:
        if leg.side is Side.BUY:
            return {leg.base: 1.0, leg.quote: -leg.price * (1 + leg.fee)}
        return {leg.base: -1.0, leg.quote: leg.price * (1 - leg.fee)}

    def unit_cost(self, leg: _Leg) -> float:
        spread = abs(leg.price - leg.mid)
        return (leg.price * leg.fee + spread) * self.price[leg.quote]

    def solve(self, caps: Mapping[str, float] | None, two_legs: bool) -> Reference:
        legs = self.legs * 2 if two_legs else self.legs  # stage 1 columns, then stage 2
        stage2 = len(self.legs) if two_legs else len(legs)  # first stage-2 column
        n_leg = len(legs)
        buckets = sorted(self.targets)
        n = n_leg + len(buckets) + len(self.members)  # legs, excess, |move| per bucket
        ub_rows: list[np.ndarray] = []
        ub_b: list[float] = []
        eq_rows: list[np.ndarray] = []
        eq_b: list[float] = []
        eff = [self.effect(g) for g in legs]
        keys = sorted({(g.account, c) for g in legs for c in (g.base, g.quote)})
        for acct, cur in keys:
            have = self.free.get((acct, cur), 0.0)
            if two_legs:  # stage 1 spends what is held; stage 2 also what stage 1 received
                first = np.zeros(n)
                for i, g in enumerate(legs[:stage2]):
                    if g.account == acct:
                        first[i] = max(-eff[i].get(cur, 0.0), 0.0)
                ub_rows.append(first)
                ub_b.append(have)
            row = np.zeros(n)  # -(all effects) <= free; stage 2 counts only its spending
            for i, g in enumerate(legs):
                if g.account == acct:
                    e = eff[i].get(cur, 0.0)
                    row[i] = -e if i < stage2 else max(-e, 0.0)
            ub_rows.append(row)
            ub_b.append(have)
        for cur in sorted(self.fixed):
            row = np.zeros(n)
            for i in range(n_leg):
                row[i] = eff[i].get(cur, 0.0)
            if row.any():
                eq_rows.append(row)
                eq_b.append(0.0)
        value_after = np.zeros(n)  # d(total)/d(amounts)
        vb: dict[str, np.ndarray] = {}
        v0: dict[str, float] = {}
        for b, cs in self.members.items():
            row = np.zeros(n)
            for i in range(n_leg):
                row[i] = sum(eff[i].get(c, 0.0) * self.price[c] for c in cs)
            vb[b] = row
            v0[b] = sum(self.units.get(c, 0.0) * self.price[c] for c in cs)
            value_after += row
        t0 = sum(v0.values())
        for k, b in enumerate(buckets):
            t, band = self.targets[b]
            col = n_leg + k
            for sign, width in ((1, t + band), (-1, t - band)):
                if sign < 0 and width <= 0:
                    continue
                # sign*(V_B - width*T) - e*T0 <= 0, e as a fraction of the value before
                row = sign * (vb[b] - width * value_after)
                row[col] = -t0
                ub_rows.append(row)
                ub_b.append(-sign * (v0[b] - width * t0))
        if self.turnover is not None:
            moves = np.zeros(n)
            for k, b in enumerate(sorted(self.members)):
                if b == CASH_BUCKET:
                    continue
                col = n_leg + len(buckets) + k
                for sign in (1, -1):
                    row = sign * vb[b].copy()
                    row[col] = -1.0
                    ub_rows.append(row)
                    ub_b.append(0.0)
                moves[col] = 1.0
            ub_rows.append(moves)
            ub_b.append(self.turnover * t0)
        cost = np.zeros(n)
        for i, g in enumerate(legs):
            cost[i] = self.unit_cost(g)
        excess = np.zeros(n)
        excess[n_leg : n_leg + len(buckets)] = 1.0
        bounds = [(0.0, None)] * n
        if caps is not None:
            for k, b in enumerate(buckets):
                bounds[n_leg + k] = (0.0, max(caps.get(b, 0.0), 0.0) + 1e-9)
        from scipy.optimize import linprog  # here: scipy takes a second to import, per worker

        a_ub, b_ub = np.array(ub_rows), np.array(ub_b)
        a_eq = np.array(eq_rows) if eq_rows else None
        b_eq = np.array(eq_b) if eq_rows else None
        if caps is None:  # phase 1: the least excess reachable
            # Fees lower the total and with it what under-target buckets lack, measured on the
            # value before: a unit of value lost lowers the excess by at most 2 units (the bucket
            # it leaves, and all the shortfalls together), so it is charged 3: no plan gains by
            # burning money.
            first = linprog(excess + 3 * cost / t0, a_ub, b_ub, a_eq, b_eq, bounds, method="highs")
            if first.status != 0:
                return Reference(float("nan"), float("nan"), first.status)
            a_ub = np.vstack([a_ub, excess])
            b_ub = np.append(b_ub, float(excess @ first.x) + 1e-9)
        res = linprog(cost, a_ub, b_ub, a_eq, b_eq, bounds, method="highs")
        if res.status != 0:
            return Reference(float("nan"), float("nan"), res.status)
        return Reference(float(excess @ res.x), float(res.fun), 0)


def best(
    snapshot: Snapshot, targets: TargetWeights, policy: RebalancePolicy, *, two_legs: bool = False
) -> Reference:
    """The least band excess any plan reaches (routes of at most two legs when `two_legs`),
    and the cheapest plan reaching it."""
    return _Problem(snapshot, targets, policy).solve(None, two_legs)


def cheapest(
    snapshot: Snapshot,
    targets: TargetWeights,
    policy: RebalancePolicy,
    plan: Plan,
    *,
    two_legs: bool = False,
) -> Reference:
    """The cheapest plan with no more band excess than `plan` in any bucket."""
    problem = _Problem(snapshot, targets, policy)
    caps = excess_by_bucket(plan, policy)
    return problem.solve({b: caps.get(b, 0.0) for b in problem.targets}, two_legs)


def excess_by_bucket(plan: Plan, policy: RebalancePolicy) -> dict[str, float]:
    """Each targeted bucket's band excess after `plan` (fraction), at the planner's weights."""
    out = {}
    for a in plan.after:
        if a.target is None:
            continue
        t = a.target
        band = min(policy.drift_abs, policy.drift_rel * t) if t > 0 else Decimal(0)
        out[a.asset] = float(max(abs(a.weight - t) - band, Decimal(0)))
    return out


def excess_of(plan: Plan, policy: RebalancePolicy) -> float:
    return sum(excess_by_bucket(plan, policy).values())


def cost_of(plan: Plan, snapshot: Snapshot) -> float:
    """Fees plus half-spreads of the plan's orders, in the base currency (at their own quote's
    mid; the notional gives the quote currency's value)."""
    quotes: dict[tuple[str, str], object] = {}
    for q in snapshot.quotes:
        key = (q.source, q.symbol)
        if key not in quotes or q.as_of > quotes[key].as_of:  # type: ignore[attr-defined]
            quotes[key] = q
    total = 0.0
    for o in plan.orders:
        q = quotes.get((o.account, o.symbol)) or next(
            (x for (s, sym), x in quotes.items() if sym == o.symbol), None
        )
        mid = float(q.mid) if q is not None and q.mid else float(o.price)  # type: ignore[attr-defined]
        quote_value = float(o.notional) / (float(o.amount) * float(o.price))
        total += float(o.fee) + abs(float(o.price) - mid) * float(o.amount) * quote_value
    return total
