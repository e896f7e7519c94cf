"""The rebalance as a linear program, solved by HiGHS through highspy (pure computation).

Variables: the amount of every candidate leg (account, market, side) in each of two stages.
Stage 1 spends only what the account holds free before the plan; stage 2 spends what is free
after stage 1 (so a route has at most two legs: USDT -> BTC in stage 1, BTC -> TRX in stage 2).
Amounts are measured as fractions of the portfolio's value (at the valuation price of the
market's base currency), which keeps the numbers near 1 whatever the currencies.

Constraints:
- per exchange account and currency, the free balance stays >= 0 after each stage, fees
  included (a stage never spends what that same stage receives);
- a currency that may be passed through but has no target ends where it started;
- the value the buckets move (cash aside) is at most `max_turnover` of the portfolio.

Objective, all in fractions of the portfolio value:
    sum over buckets of the band excess  max(0, |w - t| - band)
  + the same with bands narrowed by MARGIN (so rounding to steps does not land on the edge)
  + a convex surcharge on each bucket's excess measured in its own bands (TIERS: the first
    band of excess costs nothing extra, the second SPREAD more, ...), so an excess that cannot
    be avoided is spread over the buckets in proportion to their bands instead of landing on
    one (cash, typically)
  + cost_weight x the execution cost (fees + half-spreads) of every leg.
Weights after the plan divide by the portfolio's value after the plan (which is linear in the
amounts), so the band conditions are exact, not linearised.

Optionally accounts may pool their free balances through transfer variables (a small cost
each): `Solution.transfers` then says what the optimum moves between accounts, which the
planner turns into a note (rotator never moves funds).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

import highspy
import numpy as np

# highspy's `Highs` registers Python callbacks in its constructor, and that makes HiGHS print its
# banner on standard output before any option can turn output off (ERGO-Code/HiGHS#1702): JSON
# on stdout would break. The binding class underneath, exported by highspy, solves the same way.
from highspy import _Highs as _Solver  # type: ignore[attr-defined]

from rotator.core.models import Side
from rotator.core.routing import Leg

MARGIN = 0.05  # bands narrowed by 5 % for the second excess term
SPREAD = 0.25  # surcharge per tier of excess, relative to the bucket's band
TIERS = (1.0, 1.0, 2.0)  # widths of the cheaper tiers in bands; the last tier is unbounded
STAGE2 = 1e-6  # stage-1 legs preferred when a stage makes no difference
TOUCH = 1e-5  # the least cost of any leg, so that free markets are not churned
ZERO_TARGET = 1.0 + SPREAD * len(TIERS) + 1.0 + SPREAD  # above any tier plus the margin
CAP = 2.0  # upper bound of a semi-continuous leg, in portfolio values
TRANSFER = 1e-4  # cost of moving value between accounts (only in the transfer variant)


@dataclass(frozen=True, slots=True)
class Bucket:
    """A row of the allocation: its currencies, target and band (band None: target 0)."""

    name: str
    currencies: tuple[str, ...]
    target: float | None
    band: float | None
    turnover: bool = True  # counts toward max_turnover (cash does not)


@dataclass(frozen=True, slots=True)
class Model:
    """The planner's inputs to the program, as floats.

    Attributes:
        legs: candidate legs, sorted.
        free: free spot balance by (exchange account, currency), in units.
        values: the value of every currency held (all wallets), in the base currency.
        price: base-currency price of every currency a leg trades.
        buckets: every bucket (targeted or not); currencies not in any bucket are ignored.
        pass_through: currencies legs may trade that must end at their starting amount.
        total: portfolio value before the plan, in the base currency.
    """

    legs: tuple[Leg, ...]
    free: Mapping[tuple[str, str], float]
    values: Mapping[str, float]
    price: Mapping[str, float]
    buckets: tuple[Bucket, ...]
    pass_through: frozenset[str]
    total: float
    cost_weight: float
    max_turnover: float | None = None
    excluded: frozenset[tuple[str, str, str]] = frozenset()
    minimums: Mapping[tuple[str, str, str], float] = field(default_factory=dict)
    transfers: bool = False
    time_limit: float = 10.0


@dataclass(frozen=True, slots=True)
class Solution:
    """What the solver found.

    Attributes:
        status: "optimal", "time_limit" (no plan was found in time) or "failed".
        amounts: (leg, stage 1 or 2, units of the market's base) for every leg used.
        excess: sum of the band excess of every bucket after the plan (fraction).
        transfers: (currency, from account, to account, units) the solution moves.
    """

    status: str
    message: str
    amounts: tuple[tuple[Leg, int, float], ...] = ()
    excess: float = 0.0
    transfers: tuple[tuple[str, str, str, float], ...] = field(default=())


class _Rows:
    """A sparse constraint matrix built row by row (A x <= b, or == b)."""

    def __init__(self) -> None:
        self.r: list[int] = []
        self.c: list[int] = []
        self.v: list[float] = []
        self.b: list[float] = []

    def add(self, coefs: Mapping[int, float], bound: float) -> None:
        row = len(self.b)
        for col in sorted(coefs):
            if coefs[col] != 0.0:
                self.r.append(row)
                self.c.append(col)
                self.v.append(coefs[col])
        self.b.append(bound)


def solve(model: Model) -> Solution:
    """Solve the program; never raises for a solver failure (the status says it)."""
    try:
        return _solve(model)
    except (ValueError, ArithmeticError, RuntimeError) as err:  # malformed input
        return Solution("failed", f"the solver refused the program ({err})")


def _solve(model: Model) -> Solution:
    total = model.total
    legs = list(model.legs)
    n = 0
    xcol: list[tuple[int, int]] = []  # (leg index, stage) per x column
    for i in range(len(legs)):
        for stage in (1, 2):
            xcol.append((i, stage))
            n += 1
    cost = [0.0] * n
    upper = [math.inf] * n
    # Per x column: change of each currency per unit, in value at the valuation prices
    # (`effect`, for balances), and in value with the quote side valued at the market's own
    # mid (`worth`, for the buckets): a leg then loses exactly its fee and half-spread, and a
    # quote that strays from the valuation price is neither exploited nor feared.
    effect: list[dict[str, float]] = []
    worth: list[dict[str, float]] = []
    spend: list[tuple[str, float]] = []
    for col, (i, stage) in enumerate(xcol):
        leg = legs[i]
        m = leg.market
        r = model.price[m.quote] / model.price[m.base]
        price, mid, fee = float(leg.price), float(leg.mid), float(leg.fee_rate)
        if leg.side is Side.BUY:
            effect.append({m.base: 1.0, m.quote: -price * (1 + fee) * r})
            worth.append({m.base: 1.0, m.quote: -price * (1 + fee) / mid})
            spend.append((m.quote, price * (1 + fee) * r))
            spread = max(price - mid, 0.0)
        else:
            effect.append({m.base: -1.0, m.quote: price * (1 - fee) * r})
            worth.append({m.base: -1.0, m.quote: price * (1 - fee) / mid})
            spend.append((m.base, 1.0))
            spread = max(mid - price, 0.0)
        cost[col] = (
            model.cost_weight * (price * fee + spread) / mid
            + TOUCH  # a market with no fee and no spread is still not traded for nothing
            + (STAGE2 if stage == 2 else 0)
        )
        if leg.key in model.excluded:
            upper[col] = 0.0
    lower = [0.0] * n
    semi = [0] * n
    for col, (i, _stage) in enumerate(xcol):
        least = model.minimums.get(legs[i].key)
        if least is not None and upper[col] > 0:
            # Semi-continuous: 0, or at least the leg's minimum (HiGHS branches on these).
            lower[col], upper[col], semi[col] = least, max(CAP, 2 * least), 2
    extra: list[str] = []  # names of the other columns, for reading the solution

    def column(name: str, c: float, ub: float = math.inf) -> int:
        extra.append(name)
        cost.append(c)
        upper.append(ub)
        return n + len(extra) - 1

    rows = _Rows()
    eq = _Rows()
    # Transfers: tin/tout per (currency, account) with a free balance somewhere.
    tin: dict[tuple[str, str], int] = {}
    tout: dict[tuple[str, str], int] = {}
    if model.transfers:
        by_currency: dict[str, list[str]] = defaultdict(list)
        accounts = sorted({leg.account for leg in legs})
        for (acct, cur), units in sorted(model.free.items()):
            if units > 0 and cur in model.price:
                by_currency[cur].append(acct)
        for cur, holders in sorted(by_currency.items()):
            for acct in accounts:
                tin[(cur, acct)] = column(f"in {cur} {acct}", TRANSFER)
            for acct in holders:
                ub = model.free[(acct, cur)] * model.price[cur] / total
                tout[(cur, acct)] = column(f"out {cur} {acct}", 0.0, ub)
            eq.add(
                {
                    **{tin[(cur, a)]: 1.0 for a in accounts},
                    **{tout[(cur, a)]: -1.0 for a in holders},
                },
                0.0,
            )
    # Free balances after each stage (value fractions).
    spenders: dict[tuple[str, str], list[int]] = defaultdict(list)
    getters: dict[tuple[str, str], list[int]] = defaultdict(list)
    for col, (i, _stage) in enumerate(xcol):
        leg = legs[i]
        spenders[(leg.account, leg.gives)].append(col)
        getters[(leg.account, leg.gets)].append(col)
    for key in sorted(spenders):
        acct, cur = key
        have = model.free.get(key, 0.0) * model.price[cur] / total
        moved = {}
        if (cur, acct) in tin:
            moved[tin[(cur, acct)]] = -1.0
        if (cur, acct) in tout:
            moved[tout[(cur, acct)]] = 1.0
        first = {col: spend[col][1] for col in spenders[key] if xcol[col][1] == 1}
        rows.add({**first, **moved}, have)
        second = dict(first)
        for col in spenders[key]:
            if xcol[col][1] == 2:
                second[col] = spend[col][1]
        for col in getters.get(key, []):
            if xcol[col][1] == 1:
                second[col] = -effect[col][cur]
        rows.add({**second, **moved}, have)
    # Bucket values after the plan, as constant + linear part.
    bucket_of = {c: b.name for b in model.buckets for c in b.currencies}
    v0 = {
        b.name: sum(model.values.get(c, 0.0) for c in b.currencies) / total for b in model.buckets
    }
    vlin: dict[str, dict[int, float]] = {b.name: defaultdict(float) for b in model.buckets}
    tlin: dict[int, float] = defaultdict(float)
    for col, eff in enumerate(worth):
        for cur, coef in eff.items():
            name = bucket_of.get(cur)
            if name is not None:
                vlin[name][col] += coef
                tlin[col] += coef
    tot0 = sum(v0.values())
    for cur in sorted(model.pass_through):
        lin: dict[int, float] = defaultdict(float)
        for col, eff in enumerate(effect):
            if cur in eff:
                lin[col] += eff[cur]
        if lin:
            eq.add(lin, 0.0)
    # The portfolio value after the plan and each targeted bucket's, as variables (so each
    # band row has three entries instead of one per leg).
    tot = column("total after", 0.0)
    eq.add({**{col: -c for col, c in tlin.items()}, tot: 1.0}, tot0)
    vcol: dict[str, int] = {}
    for b in model.buckets:
        if b.target is not None or (model.max_turnover is not None and b.turnover):
            vcol[b.name] = column(f"value {b.name}", 0.0)
            eq.add({**{col: -c for col, c in vlin[b.name].items()}, vcol[b.name]: 1.0}, v0[b.name])
    excess_cols: list[int] = []
    for b in model.buckets:
        if b.target is None:
            continue
        t = b.target
        band = b.band or 0.0
        # A bucket with target 0 (sell all) costs more than any tier of the others: holding
        # more of an asset nobody wants is never how a shortfall elsewhere is absorbed.
        e = column(f"excess {b.name}", 1.0 if band > 0 else ZERO_TARGET)
        excess_cols.append(e)
        tiers = [(band, e)]
        if band > 0:
            tiers.append((band * (1 - MARGIN), column(f"margin {b.name}", 1.0)))
            # e is split into tiers of increasing surcharge: the solver fills cheap ones first.
            parts = {e: 1.0}
            for k, width in enumerate(TIERS):
                parts[column(f"tier {k} {b.name}", SPREAD * k, width * band)] = -1.0
            parts[column(f"tier {len(TIERS)} {b.name}", SPREAD * len(TIERS))] = -1.0
            eq.add(parts, 0.0)
        v = vcol[b.name]
        for width, var in tiers:
            rows.add({v: 1.0, tot: -(t + width), var: -1.0}, 0.0)
            if t - width > 0:
                rows.add({v: -1.0, tot: t - width, var: -1.0}, 0.0)
    if model.max_turnover is not None:
        moves: dict[int, float] = {}
        for b in model.buckets:
            if not b.turnover or not vlin[b.name]:
                continue
            u = column(f"turnover {b.name}", 0.0)
            moves[u] = 1.0
            v = vcol[b.name]
            rows.add({v: 1.0, u: -1.0}, v0[b.name])
            rows.add({v: -1.0, u: -1.0}, -v0[b.name])
        rows.add(moves, model.max_turnover)
    semi += [0] * len(extra)
    lower += [0.0] * len(extra)
    status, x, message = _run_highs(cost, lower, upper, semi, rows, eq, model.time_limit)
    if x is None:
        return Solution(status, message)
    amounts = []
    for col, (i, stage) in enumerate(xcol):
        if x[col] > 1e-12:
            leg = legs[i]
            amounts.append((leg, stage, float(x[col]) * total / model.price[leg.market.base]))
    moved_out: list[tuple[str, str, str, float]] = []
    if model.transfers:
        moved_out = _pair_transfers(x, tin, tout, model)
    return Solution(
        status,
        status,
        tuple(amounts),
        float(sum(x[c] for c in excess_cols)),
        tuple(moved_out),
    )


def _run_highs(
    cost: list[float],
    lower: list[float],
    upper: list[float],
    semi: list[int],
    rows: _Rows,
    eq: _Rows,
    time_limit: float,
) -> tuple[str, np.ndarray | None, str]:
    """Solve min cost.x with rows.x <= rows.b, eq.x == eq.b, lower <= x <= upper (a column
    marked in `semi` is 0 or within its bounds); (status, x or None, message)."""
    n = len(cost)
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = len(rows.b) + len(eq.b)
    lp.col_cost_ = np.array(cost, dtype=float)
    lp.col_lower_ = np.array(lower, dtype=float)
    lp.col_upper_ = np.array(upper, dtype=float)
    lp.row_lower_ = np.array([-math.inf] * len(rows.b) + eq.b, dtype=float)
    lp.row_upper_ = np.array(rows.b + eq.b, dtype=float)
    # Both builders add rows in order with sorted columns: row-wise (CSR) storage as it is.
    counts = np.bincount(
        np.array(rows.r + [r + len(rows.b) for r in eq.r], dtype=np.int64), minlength=lp.num_row_
    )
    matrix = lp.a_matrix_
    matrix.format_ = highspy.MatrixFormat.kRowwise
    matrix.num_col_ = n
    matrix.num_row_ = lp.num_row_
    matrix.start_ = np.concatenate(([0], np.cumsum(counts))).astype(np.int32)
    matrix.index_ = np.array(rows.c + eq.c, dtype=np.int32)
    matrix.value_ = np.array(rows.v + eq.v, dtype=float)
    if any(semi):
        kinds = {0: highspy.HighsVarType.kContinuous, 2: highspy.HighsVarType.kSemiContinuous}
        lp.integrality_ = [kinds[k] for k in semi]
    solver = _Solver()
    solver.setOptionValue("output_flag", False)
    # One thread: the programs are small, and a MIP run on more threads starts HiGHS's global
    # thread pool, which a forked process (a sweep worker) inherits without its threads: its
    # next MIP run would spin until the time limit.
    solver.setOptionValue("threads", 1)
    solver.setOptionValue("time_limit", float(time_limit))
    if solver.passModel(lp) == highspy.HighsStatus.kError:
        return "failed", None, "the solver refused the program"
    solver.run()
    status = solver.getModelStatus()
    found = solver.getInfo().primal_solution_status == highspy.kSolutionStatusFeasible
    if status == highspy.HighsModelStatus.kOptimal:
        return "optimal", np.array(solver.getSolution().col_value), "optimal"
    if status == highspy.HighsModelStatus.kTimeLimit:
        if not found:
            return "time_limit", None, f"no plan found within {time_limit:g} s"
        # The best plan found so far: feasible, maybe not optimal.
        return "time_limit", np.array(solver.getSolution().col_value), "time_limit"
    return "failed", None, f"HiGHS: {solver.modelStatusToString(status)}"


def _pair_transfers(
    x: np.ndarray,
    tin: Mapping[tuple[str, str], int],
    tout: Mapping[tuple[str, str], int],
    model: Model,
) -> list[tuple[str, str, str, float]]:
    """Match what accounts send with what others receive, per currency (largest first)."""
    out = []
    for cur in sorted({c for c, _ in tin}):
        unit = model.total / model.price[cur]
        net: dict[str, float] = defaultdict(float)
        for (c, a), col in tin.items():
            if c == cur:
                net[a] += float(x[col]) * unit
        for (c, a), col in tout.items():
            if c == cur:
                net[a] -= float(x[col]) * unit
        senders = sorted(((-v, a) for a, v in net.items() if v < 0), key=lambda p: (-p[0], p[1]))
        left = {a: v for v, a in senders}
        for dst in sorted((a for a in net if net[a] > 0), key=lambda a: (-net[a], a)):
            need = net[dst]
            for _v, src in senders:
                take = min(need, left[src])
                if take <= 0:
                    continue
                out.append((cur, src, dst, take))
                left[src] -= take
                need -= take
    return out
