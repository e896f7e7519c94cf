"""Property tests of the planner over generated portfolios, markets, quotes and policies.

Each generated case has 1-3 exchange accounts (random markets against USDT and BTC, spot plus
funding/earn balances, part of the spot locked), a manual cold wallet, per-account price
jitter and spreads, random market steps/minimums/fees, random targets and a random policy.

Plans are held to the previous greedy planner (a frozen copy in tests/greedy_reference) and to an
independent linear program (tests/lp_reference.py) on the same inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from greedy_reference.planner import plan_orders as greedy_plan
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lp_reference import best, cheapest, cost_of, excess_of

from rotator.core.models import (
    CASH_BUCKET,
    AccountSnapshot,
    Holding,
    MarketInfo,
    Plan,
    Quote,
    RebalancePolicy,
    Side,
    Snapshot,
    TargetWeights,
    WalletKind,
)
from rotator.core.planner import plan_orders
from rotator.errors import Problem, Severity

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
REF = {"BTC": D(50000), "ETH": D(2500), "SOL": D(100), "ADA": D("0.5"), "USDC": D(1), "USDT": D(1)}
TRADED = ("BTC", "ETH", "SOL", "ADA")
CASH = ("USDT", "USDC")
PROPS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,  # the same examples on every run: a failure is reproducible, never luck
    suppress_health_check=[HealthCheck.too_slow],
)


@dataclass(frozen=True)
class Case:
    snapshot: Snapshot
    targets: TargetWeights
    policy: RebalancePolicy

    def plan(self) -> Plan:
        return plan_orders(self.snapshot, self.targets, self.policy)


def _quote(symbol: str, mid: D, spread: D, source: str) -> Quote:
    return Quote(
        symbol, mid * (1 - spread), mid * (1 + spread), mid, NOW - timedelta(seconds=3), source
    )


@st.composite
def markets_for(draw: st.DrawFn, account: str) -> tuple[list[MarketInfo], list[Quote]]:
    jitter = D(draw(st.integers(-20, 20))) / 1000
    spread = draw(st.sampled_from([D(0), D("0.0005"), D("0.005")]))
    symbols = ["BTC/USDT"] if draw(st.booleans()) else []
    for asset in ("ETH", "SOL", "ADA"):
        if draw(st.booleans()):
            symbols.append(f"{asset}/USDT")
        if draw(st.booleans()):
            symbols.append(f"{asset}/BTC")
    if draw(st.booleans()):
        symbols.append("USDC/USDT")
    markets, quotes = [], []
    for symbol in symbols:
        base, quote = symbol.split("/")
        step = draw(st.sampled_from([None, D("0.0001"), D("0.01"), D(1)]))
        if base == "BTC" and step == 1:
            step = D("0.001")
        markets.append(
            MarketInfo(
                account,
                symbol,
                base,
                quote,
                amount_step=step,
                min_amount=draw(st.sampled_from([None, step, D("0.5")])),
                min_cost=draw(st.sampled_from([None, D(5), D(10) if quote == "USDT" else None])),
                taker_fee=draw(st.sampled_from([None, D("0.002")])),
            )
        )
        quotes.append(_quote(symbol, REF[base] / REF[quote] * (1 + jitter), spread, account))
    return markets, quotes


def _amount(value: int, asset: str) -> D:
    return (D(value) / REF[asset]).quantize(D("0.00000001"))


@st.composite
def cases(draw: st.DrawFn) -> Case:
    accounts = []
    for i in range(draw(st.integers(1, 3))):
        name = f"ex{i}"
        markets, quotes = draw(markets_for(name))
        holdings = []
        for asset in (*TRADED, *CASH):
            value = draw(st.sampled_from([0, 0, 30, 100, 3000, 20000]))
            if value:
                total = _amount(value, asset)
                free = total if draw(st.booleans()) else (total * D("0.7")).quantize(D("1e-8"))
                holdings.append(Holding(name, asset, total, free))
            if draw(st.integers(0, 5)) == 0:
                kind = draw(st.sampled_from([WalletKind.FUNDING, WalletKind.EARN]))
                amount = _amount(draw(st.sampled_from([500, 5000])), asset)
                holdings.append(Holding(name, asset, amount, amount, kind))
        accounts.append(
            AccountSnapshot(name, "binance", tuple(holdings), tuple(markets), tuple(quotes), NOW)
        )
    # A pricing-only account: every asset has a fresh route to USD, no balance to trade.
    ref_quotes = [_quote(f"{a}/USDT", REF[a], D("0.0005"), "ref") for a in (*TRADED, "USDC")]
    ref_quotes.append(_quote("USDT/USD", D("0.999"), D("0.0005"), "ref"))
    accounts.append(AccountSnapshot("ref", "kraken", (), (), tuple(ref_quotes), NOW))
    # Declared wallets are never sold, even if a record claimed a free spot balance there.
    kind = draw(st.sampled_from([WalletKind.MANUAL, WalletKind.SPOT]))
    cold = tuple(
        Holding("cold", a, _amount(v, a), _amount(v, a), kind)
        for a in TRADED
        if (v := draw(st.sampled_from([0, 0, 5000, 30000])))
    )
    accounts.append(AccountSnapshot("cold", "manual", cold, fetched_at=NOW))

    chosen = draw(st.lists(st.sampled_from(TRADED), unique=True, max_size=4))
    raw = [draw(st.integers(1, 10)) for _ in chosen] + [draw(st.integers(0 if chosen else 1, 5))]
    weights = [(D(r) / sum(raw)).quantize(D("0.0001")) for r in raw]
    weights[-1] = D(1) - sum(weights[:-1])
    targets = TargetWeights(dict(zip([*chosen, CASH_BUCKET], weights, strict=True)), "generated")
    policy = RebalancePolicy(
        drift_abs=draw(st.sampled_from([D("0.01"), D("0.02"), D("0.05")])),
        drift_rel=draw(st.sampled_from([D("0.1"), D("0.25")])),
        min_order_value=draw(st.sampled_from([D(0), D(10), D(50)])),
        quote_preference=draw(st.sampled_from([("USDT", "USDC", "BTC"), ("USDC", "USDT")])),
        fee_rate=draw(st.sampled_from([D(0), D("0.001"), D("0.005")])),
        max_turnover=draw(st.sampled_from([None, None, D("0.05"), D("0.3")])),
        never_trade=draw(st.sampled_from([frozenset(), frozenset({"ADA"})])),
        sell_unlisted=draw(st.booleans()),
    )
    return Case(Snapshot(NOW, "USD", tuple(accounts)), targets, policy)


def _market(case: Case, account: str, symbol: str) -> MarketInfo:
    return next(m for m in case.snapshot.markets if m.account == account and m.symbol == symbol)


@PROPS
@given(cases())
def test_no_order_exceeds_free_balances(case: Case) -> None:
    p = case.plan()
    assert p.complete, p.problems
    balance: dict[tuple[str, str], D] = {}
    for h in case.snapshot.holdings:
        if h.sellable:
            balance[(h.account, h.asset)] = balance.get((h.account, h.asset), D(0)) + h.free
    for o in p.orders:
        m = _market(case, o.account, o.symbol)
        fee = m.taker_fee if m.taker_fee is not None else case.policy.fee_rate
        base, quote = (o.account, m.base), (o.account, m.quote)
        if o.side is Side.SELL:
            assert o.amount <= balance.get(base, D(0)), o
            balance[base] = balance.get(base, D(0)) - o.amount
            balance[quote] = balance.get(quote, D(0)) + o.amount * o.price * (1 - fee)
        else:
            cost = o.amount * o.price * (1 + fee)
            assert cost <= balance.get(quote, D(0)) * (1 + D("1e-20")), o
            balance[quote] = balance.get(quote, D(0)) - cost
            balance[base] = balance.get(base, D(0)) + o.amount


def _tolerance(case: Case, *plans: Plan) -> float:
    """What rounding may cost in band excess: one amount step of every order, the orders'
    fees and spreads (they change the total, so every weight) and what a market minimum may
    force, over the total."""
    assert plans[0].total_value is not None
    total = plans[0].total_value
    slack = D(0)
    for p in plans:
        slack += _steps(case, p) + abs(sum(a.value for a in p.after) - total)
    return float(2 * slack / total) + 1e-9


@PROPS
@given(cases())
def test_band_excess_never_grows(case: Case) -> None:
    p = case.plan()
    before = replace(p, after=p.before)
    assert p.complete or p.orders == ()
    assert excess_of(p, case.policy) <= excess_of(before, case.policy) + _tolerance(case, p)


@PROPS
@given(cases())
def test_nothing_under_the_minimums(case: Case) -> None:
    for o in case.plan().orders:
        m = _market(case, o.account, o.symbol)
        assert o.amount > 0
        if m.amount_step is not None:
            assert o.amount % m.amount_step == 0, o
        if m.min_amount is not None:
            assert o.amount >= m.min_amount, o
        if m.min_cost is not None:
            assert o.amount * o.price >= m.min_cost, o
        assert o.notional >= case.policy.min_order_value, o


@PROPS
@given(cases())
def test_manual_wallets_are_never_traded(case: Case) -> None:
    manual = {a.name for a in case.snapshot.accounts if a.is_manual}
    assert not any(o.account in manual for o in case.plan().orders)


@PROPS
@given(cases())
def test_nothing_trades_when_every_bucket_is_inside_its_band(case: Case) -> None:
    p = case.plan()
    if excess_of(replace(p, after=p.before), case.policy) == 0:
        assert p.orders == ()


@PROPS
@given(cases(), st.sampled_from(["account", "price"]))
def test_missing_data_withholds_every_order(case: Case, what: str) -> None:
    if what == "account":
        failed = AccountSnapshot(
            "zz", "okx", problems=(Problem(Severity.ERROR, "account zz", "HTTP 429"),)
        )
        extra = (failed,)
    else:
        extra = (AccountSnapshot("cold2", "manual", (Holding("cold2", "XYZ", D(1), D(0)),)),)
    snapshot = replace(case.snapshot, accounts=case.snapshot.accounts + extra)
    p = plan_orders(snapshot, case.targets, case.policy)
    assert not p.complete and p.orders == () and p.total_value is None
    assert "zz" in str(p.problems) if what == "account" else "XYZ" in str(p.problems)
    assert {a.asset for a in p.before} >= set(case.targets.weights)


@PROPS
@given(cases())
def test_plan_does_not_depend_on_account_order(case: Case) -> None:
    shuffled = replace(case.snapshot, accounts=case.snapshot.accounts[::-1])
    a, b = case.plan(), plan_orders(shuffled, case.targets, case.policy)
    assert (a.orders, a.notes, a.before, a.after) == (b.orders, b.notes, b.before, b.after)


@PROPS
@given(cases())
def test_no_market_is_both_bought_and_sold(case: Case) -> None:
    p = case.plan()
    seen = {(o.account, o.symbol, o.side) for o in p.orders}
    assert len(seen) == len(p.orders), p.orders  # one order per account, market and side
    for account, symbol, side in seen:
        assert (account, symbol, Side.BUY if side is Side.SELL else Side.SELL) not in seen


def _steps(case: Case, *plans: Plan) -> D:
    """The value of one amount step of every order of `plans`, and of each order that sits
    at a minimum (a minimum can force an order larger than the plan wanted)."""
    steps = D(0)
    for p in plans:
        for o in p.orders:
            m = _market(case, o.account, o.symbol)
            if m.amount_step is not None:
                steps += o.notional / o.amount * m.amount_step
            floor = max(
                case.policy.min_order_value,
                (m.min_cost or D(0)) * o.notional / (o.amount * o.price),
                (m.min_amount or D(0)) * o.notional / o.amount,
            )
            if o.notional <= floor * D("1.01"):
                steps += o.notional
    return steps


@PROPS
@given(cases())
def test_band_excess_never_worse_than_the_greedy_planner(case: Case) -> None:
    new, old = case.plan(), greedy_plan(case.snapshot, case.targets, case.policy)
    assert new.complete == old.complete
    if old.orders == () and not old.complete:
        return
    tol = _tolerance(case, new, old)
    assert excess_of(new, case.policy) <= excess_of(old, case.policy) + tol, (
        _show(new),
        _show(old),
    )


@PROPS
@given(cases())
def test_band_excess_close_to_an_independent_lp(case: Case) -> None:
    """The reference (with the same two-leg limit) has no minimums or steps, so it can only do
    better; a plan that no minimum held back trails it by at most what rounding costs."""
    p = case.plan()
    if not p.complete or not p.total_value:  # no orders, no total: nothing to compare
        return
    if any(n.startswith("dropped") for n in p.notes):  # a minimum held an order back
        return
    ref = best(case.snapshot, case.targets, case.policy, two_legs=True)
    assert ref.status == 0
    near = 5e-3  # 0.5 pp: the bound on the benchmark's p90 gap
    # It measures on the value before the plan and charges its cost; quotes jitter (below).
    assert ref.excess <= excess_of(p, case.policy) + near
    # Each account's quotes stray up to 2 % from the valuation prices (the generator's jitter):
    # the reference, which ignores costs while it minimises the excess, may gain a little
    # from that where the plan, which weighs them, does not trade.
    assert excess_of(p, case.policy) <= ref.excess + _tolerance(case, p) + near, _show(p)


@PROPS
@given(cases())
def test_cost_never_higher_for_the_same_outcome(case: Case) -> None:
    """No plan reaches the same band excess in every bucket for less (fees + half-spreads),
    within the cost of rounding (one step of each order, an order raised to a minimum)."""
    p = case.plan()
    if not p.complete or not p.total_value:
        return
    ref = cheapest(case.snapshot, case.targets, case.policy, p, two_legs=True)
    if ref.status != 0:  # the plan's rounded outcome can sit past what the LP reaches
        return
    rate = max((float(o.fee / o.notional) for o in p.orders), default=0.0) + 0.006
    allowance = rate * float(_steps(case, p)) + 1e-6 * float(p.total_value or 1)
    # Each account's quotes stray up to 2 % from the valuation prices the reference scores
    # with (the generator's jitter); the plan values its legs at their own market's mid, so an
    # outcome may look free to the reference that costs the plan its fees.
    allowance += 0.02 * float(sum((o.notional for o in p.orders), D(0)))
    assert cost_of(p, case.snapshot) <= ref.cost * 1.01 + allowance, _show(p)


def _show(p: Plan) -> list[str]:
    return [f"{o.account} {o.side} {o.amount} {o.symbol} fee {o.fee:.6f}" for o in p.orders]
