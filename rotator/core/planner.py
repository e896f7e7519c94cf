"""Turn a snapshot and target weights into a dry-run rebalance plan (pure).

Steps, in order:

0. Refuse market data no plan may rest on (`market_checks.check_snapshot`): negative
   balances, crossed or non-positive quotes, markets with unusable steps.
1. Value every holding of every account and wallet in the base currency (`valuation`;
   quotes that disagree by more than `policy.max_price_disagreement` across accounts or through
   bridges give the disputed currency no price). A failed account or an unpriceable/stale
   held asset leaves the total value unknown, so every weight and every order would depend on
   missing data: the plan is then returned incomplete, with no orders and an ERROR problem
   listing what is missing.
2. Compare each bucket's weight with its target and band (min(drift_abs, drift_rel * t); any
   holding of a target-0 asset is outside its band); cash (the sum of `policy.cash_assets`)
   is one bucket.
3. Choose the orders (`trades.plan_trades`): one optimization over every account at once
   (`optimize`, a linear program solved by HiGHS) for the least band excess, then the least
   execution cost (fees + half-spreads) weighed by `policy.cost_weight`, within the free
   spot balances of each account, `max_turnover` and routes of at most two legs over every
   active spot market; amounts sized to lot steps and minimums with a repair step
   (`sizing`); one order per (account, market, side), each with its reason (`explain`).
4. Notes for what the optimum could not do: a transfer between accounts it would need, a
   bucket left outside its band, the solver's time limit.
5. Recompute the allocation after the orders, fees deducted.
6. Hold the netted orders against their accounts (`market_checks.check_orders`): if any spends
   more than its account holds free (plus what the orders receive) or is worth more than the
   whole account, no order is suggested and the plan carries an ERROR.

Example reason on an order: "ETH 31.2% vs target 20.0% (+11.2 pp, band ±3.0 pp)".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import replace
from decimal import Decimal

from rotator.core.explain import Drift, Explained, explain
from rotator.core.market_checks import check_orders, check_snapshot
from rotator.core.models import (
    CASH_BUCKET,
    ZERO,
    Allocation,
    Holding,
    Order,
    Plan,
    Price,
    RebalancePolicy,
    Side,
    Snapshot,
    TargetWeights,
)
from rotator.core.ordering import merge_orders, sequence_orders
from rotator.core.routing import leg_effects
from rotator.core.sizing import Sized, value_of
from rotator.core.trades import plan_trades
from rotator.core.valuation import price_assets, price_subject, value_holdings
from rotator.errors import Problem, Severity

TargetOf = Callable[[str], Decimal | None]


def plan_orders(snapshot: Snapshot, targets: TargetWeights, policy: RebalancePolicy) -> Plan:
    """Plan the dry-run orders that bring out-of-band assets back to their targets.

    Args:
        snapshot: all accounts (exchange and manual wallets) with holdings, markets and quotes.
        targets: weights by asset; CASH_BUCKET stands for all of `policy.cash_assets`.
        policy: drift bands, minimums, quote preferences, fees and exclusions.

    Returns:
        The plan; `Plan.complete` is False (and `orders` empty) when data was missing.
    """
    snapshot = check_snapshot(snapshot)  # negative balances, crossed books, zero steps
    base = snapshot.base_currency
    cash = policy.cash_assets

    def bucket(asset: str) -> str:
        return CASH_BUCKET if asset in cash else asset

    tw: dict[str, Decimal] = defaultdict(Decimal)
    notes: list[str] = []
    for asset, weight in targets.weights.items():
        if asset in policy.ignore_assets:
            notes.append(f"{asset} has a target but rebalance.ignore_assets lists it: ignored")
            continue
        tw[CASH_BUCKET if asset == CASH_BUCKET else bucket(asset)] += Decimal(weight)
    tw.setdefault(CASH_BUCKET, ZERO)
    # A canonical order: Decimal rounds at 28 digits, so sums must not depend on the order in
    # which the accounts happen to be listed.
    holdings = tuple(
        sorted(
            (h for h in snapshot.holdings if h.asset not in policy.ignore_assets and h.total > 0),
            key=lambda h: (h.asset, h.account, h.wallet),
        )
    )
    held = sorted({h.asset for h in holdings})
    wanted = [*held, *(a for a in tw if a != CASH_BUCKET), *policy.quote_preference]
    # Every currency of an exchange market may carry a route (ADA between BTC and USDT).
    markets = sorted({c for m in snapshot.markets if m.active for c in (m.base, m.quote)})
    wanted = list(dict.fromkeys([*wanted, *policy.bridge_assets, *markets]))
    prices, price_problems = price_assets(
        snapshot.quotes,
        wanted,
        base,
        now=snapshot.as_of,
        max_age_seconds=policy.max_price_age_seconds,
        max_disagreement=policy.max_price_disagreement,
        oracle=snapshot.oracle,
    )
    # The prices the plan is valued with, carried on it (the run store records them).
    used = tuple(prices[a] for a in held if a in prices)
    problems = list(snapshot.all_problems)
    read = value_holdings(sorted(snapshot.holdings, key=_holding_key), prices)
    for p in price_problems:
        asset = next(a for a in wanted if price_subject(a, base) == p.subject)
        if asset in held:
            problems.append(p)
        elif asset in tw:  # a target not held yet: only its own buy is impossible
            problems.append(Problem(Severity.WARNING, p.subject, p.message))

    values: dict[str, Decimal] = defaultdict(Decimal)
    for vh in value_holdings(holdings, prices):
        if vh.value is not None:
            values[bucket(vh.holding.asset)] += vh.value
    total = sum(values.values(), ZERO)

    def target_of(b: str) -> Decimal | None:
        if b in tw:
            return tw[b]
        if b == CASH_BUCKET or b in policy.never_trade or not policy.sell_unlisted:
            return None
        return ZERO

    buckets = [*sorted({*values, *tw} - {CASH_BUCKET}), CASH_BUCKET]
    missing = _missing(snapshot, held, prices, price_problems, base)
    if missing:
        before = _allocations(buckets, values, total, target_of)
        problems.append(
            Problem(
                Severity.ERROR,
                "plan",
                "incomplete, no orders planned: the total value is unknown, so every weight "
                "depends on what is missing: " + "; ".join(missing),
            )
        )
        notes.append(f"weights shown are shares of the known part only ({total:.2f} {base})")
        plan = Plan(
            snapshot.as_of, base, None, targets, before, before, (), tuple(problems), tuple(notes),
            holdings=read, prices=used,
        )  # fmt: skip
        return _sourced(plan, holdings, prices)

    before = _allocations(buckets, values, total, target_of)
    if total <= 0:
        notes.append("the portfolio has no value: nothing to rebalance")
        plan = Plan(
            snapshot.as_of, base, total, targets, before, before, (), tuple(problems), tuple(notes),
            holdings=read, prices=used,
        )  # fmt: skip
        return _sourced(plan, holdings, prices)

    drifts = _drifts(buckets, values, total, target_of, tw, prices, policy, notes)
    result = plan_trades(snapshot, policy, prices, holdings, buckets, bucket, target_of, total)
    notes += result.notes
    problems += result.problems
    sized = result.orders
    moves: dict[str, Decimal] = defaultdict(Decimal)
    for o in sized:
        for currency, units_moved in leg_effects(o.leg, o.amount).items():
            moves[currency] += units_moved
    units: dict[str, Decimal] = defaultdict(Decimal)
    for h in holdings:
        units[h.asset] += h.total
    for asset, moved in sorted(moves.items()):
        units[asset] += moved
    after_values: dict[str, Decimal] = defaultdict(Decimal)
    for asset, amount in sorted(units.items()):
        if asset in prices:
            after_values[bucket(asset)] += amount * prices[asset].in_base
    after_total = sum(after_values.values(), ZERO)
    extra = sorted(a for a in after_values if a not in buckets and after_values[a] > 0)
    after = _allocations(buckets[:-1] + extra + buckets[-1:], after_values, after_total, target_of)
    shift = {b: after_values.get(b, ZERO) - values.get(b, ZERO) for b in {*after_values, *values}}
    tail = ""
    if result.capped:
        tail = "; limited by rebalance.max_turnover"
    why = explain(sized, bucket, shift, drifts, tail)
    listed = sorted((_order(o, e, prices) for o, e in zip(sized, why, strict=True)), key=_order_key)
    free = [((h.account, h.asset), h.free) for h in snapshot.holdings if h.sellable]
    orders = tuple(sequence_orders(merge_orders(listed), free))
    notes += _left_off(after, drifts, buckets, bucket, prices, policy)
    _kept, refused = check_orders(
        orders, snapshot.holdings, prices, snapshot.markets, policy.max_price_disagreement
    )
    if refused:  # the data behind the orders is wrong somewhere: none is suggested
        problems += refused
        orders, after = (), before
    plan = Plan(
        snapshot.as_of, base, total, targets, before, after, orders, tuple(problems), tuple(notes),
        holdings=read, prices=used,
    )  # fmt: skip
    return _sourced(plan, holdings, prices)


def _holding_key(h: Holding) -> tuple[str, str, str]:
    return (h.account, h.wallet.value, h.asset)


def _sourced(plan: Plan, holdings: tuple[Holding, ...], prices: Mapping[str, Price]) -> Plan:
    """`plan` with the on-chain holdings (valued, with source) and the oracle prices used."""
    onchain = tuple(vh for vh in value_holdings(holdings, prices) if vh.holding.source)
    held = {h.asset for h in holdings}
    oracle = tuple(p for a, p in sorted(prices.items()) if p.from_oracle and a in held)
    return replace(plan, onchain=onchain, oracle_prices=oracle)


def _order_key(o: Order) -> tuple[int, int, str, str, str]:
    return (o.leg, 0 if o.side is Side.SELL else 1, o.asset, o.account, o.symbol)


def _order(o: Sized, e: Explained, prices: Mapping[str, Price]) -> Order:
    notional = value_of(o.leg, o.amount, prices)
    return Order(
        account=o.leg.account,
        symbol=o.leg.market.symbol,
        side=o.leg.side,
        amount=o.amount,
        price=o.leg.price,
        notional=notional,
        fee=notional * o.leg.fee_rate,
        asset=e.asset,
        reason=e.reason,
        leg=e.leg,
    )


def _missing(
    snapshot: Snapshot,
    held: list[str],
    prices: Mapping[str, Price],
    price_problems: tuple[Problem, ...],
    base: str,
) -> list[str]:
    """What the total value lacks: failed accounts, snapshot errors, unpriced held assets."""
    out = []
    for acct in snapshot.accounts:
        if not acct.ok:
            why = next(p.message for p in acct.problems if p.severity is Severity.ERROR)
            out.append(f"account {acct.name} ({why})")
    out += [str(p) for p in snapshot.problems if p.severity is Severity.ERROR]
    by_subject = {p.subject: p.message for p in price_problems}
    for asset in held:
        if asset in prices:
            continue
        msg = by_subject.get(price_subject(asset, base), "unpriceable")
        hint = (
            "add it to rebalance.ignore_assets to plan without it"
            if msg.startswith("unpriceable")
            else "fresh quotes are needed"
        )
        out.append(f"price of {asset} ({msg}; {hint})")
    return out


def _allocations(
    buckets: list[str],
    values: Mapping[str, Decimal],
    total: Decimal,
    target_of: TargetOf,
) -> tuple[Allocation, ...]:
    rows = []
    for b in buckets:
        value = values.get(b, ZERO)
        weight = value / total if total > 0 else ZERO
        rows.append(Allocation(b, value, weight, target_of(b)))
    return tuple(rows)


def _band(target: Decimal, policy: RebalancePolicy) -> Decimal | None:
    return min(policy.drift_abs, policy.drift_rel * target) if target > 0 else None


def _drifts(
    buckets: list[str],
    values: Mapping[str, Decimal],
    total: Decimal,
    target_of: TargetOf,
    tw: Mapping[str, Decimal],
    prices: Mapping[str, Price],
    policy: RebalancePolicy,
    notes: list[str],
) -> dict[str, Drift]:
    """Every bucket with a target and its drift; a note for each off-band one that cannot
    trade."""
    out = {}
    for b in buckets:
        t = target_of(b)
        if t is None:
            continue
        w = values.get(b, ZERO) / total
        band = _band(t, policy)
        d = Drift(b, w, t, band, b in tw)
        out[b] = d
        off = abs(w - t) > band if band is not None else values.get(b, ZERO) > 0
        if not off or b == CASH_BUCKET:
            continue
        if b in policy.never_trade:
            notes.append(f"{d.reason()}, but rebalance.never_trade lists it: not traded")
        elif b not in prices:
            notes.append(f"{d.reason()}, but it has no price: not bought")
        elif prices[b].from_oracle:
            # Oracle prices value holdings; an order needs an exchange market's price.
            notes.append(f"{d.reason()}, but only a price oracle values it: not traded")
    return out


def _left_off(
    after: tuple[Allocation, ...],
    drifts: Mapping[str, Drift],
    buckets: list[str],
    bucket: Callable[[str], str],
    prices: Mapping[str, Price],
    policy: RebalancePolicy,
) -> list[str]:
    """A note for every tradable bucket the plan leaves outside its band."""
    out = []
    for a in after:
        d = drifts.get(a.asset)
        if d is None or a.asset in policy.never_trade:
            continue
        if a.asset != CASH_BUCKET and (a.asset not in prices or prices[a.asset].from_oracle):
            continue
        off = abs(a.weight - d.target) - d.band if d.band is not None else a.weight
        if off <= Decimal("0.00005"):
            continue
        out.append(
            f"{a.asset} ends at {a.weight:.1%} vs target {d.target:.1%}, {off * 100:.2f} pp "
            "outside its band: the targets cannot all be met with what the exchange accounts "
            "hold free and can trade (wallets that are never sold, open orders, minimums); "
            "what is left is spread over the buckets in proportion to their bands"
        )
    return out
