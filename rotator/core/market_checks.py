"""Refuse market data no plan may rest on, and check the orders against the balances (pure).

Exchanges do send nonsense: a negative balance, a crossed book (bid above ask), a ticker of
NaN, a market whose amount step is 0. The planner runs `check_snapshot` before valuing
anything and `check_orders` on what it plans:

- a negative balance is an ERROR (the account's data cannot be trusted: the plan is
  incomplete) and the holding is left out;
- a quote with a crossed book, a non-positive or non-finite price is dropped (WARNING); an asset
  priced only through it then has no price, which valuation reports;
- a market whose amount or price step is 0, negative or not a number is unusable (WARNING):
  no order is planned on it, since amounts could not be rounded to what the exchange accepts;
- every order is held against its account: per account and currency, what the orders spend
  may not exceed the free balance plus what earlier orders receive, and no order may be
  worth more than everything the account holds. An order that breaks this is withheld with
  an ERROR (the data that produced it is wrong somewhere).

Disagreeing prices of one pair across accounts or through bridges are refused where prices
are formed, in `rotator.core.valuation` (`max_disagreement`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace
from decimal import Decimal

from rotator.core.models import (
    ZERO,
    AccountSnapshot,
    Holding,
    MarketInfo,
    Order,
    Price,
    Quote,
    Side,
    Snapshot,
)
from rotator.errors import Problem, Severity

# Rounding slack when balances are compared with orders (amounts are already on the steps).
SLACK = Decimal("1e-9")


def check_snapshot(snapshot: Snapshot) -> Snapshot:
    """The snapshot without the data no plan may use; each removal is a problem on its account."""
    return replace(snapshot, accounts=tuple(_check_account(a) for a in snapshot.accounts))


def _check_account(account: AccountSnapshot) -> AccountSnapshot:
    problems: list[Problem] = []
    subject = f"account {account.name}"
    holdings = []
    for h in account.holdings:
        if not h.total.is_finite() or h.total < 0 or not h.free.is_finite() or h.free < 0:
            problems.append(
                Problem(
                    Severity.ERROR,
                    subject,
                    f"the exchange reported a {h.wallet.value} balance of {_num(h.total)} "
                    f"{h.asset}: a balance cannot be negative, so this account's balances "
                    "cannot be trusted; check the account on the exchange",
                )
            )
        else:
            holdings.append(h)
    markets = []
    for m in account.markets:
        why = _unusable_market(m)
        if why is None:
            markets.append(m)
        elif m.active:
            problems.append(
                Problem(
                    Severity.WARNING,
                    subject,
                    f"market {m.symbol} is unusable: {why}; no order is planned on it",
                )
            )
    quotes = []
    for q in account.quotes:
        why = _bad_quote(q)
        if why is None:
            quotes.append(q)
        else:
            problems.append(Problem(Severity.WARNING, subject, f"ticker {q.symbol} refused: {why}"))
    if not problems:
        return account
    return replace(
        account,
        holdings=tuple(holdings),
        markets=tuple(markets),
        quotes=tuple(quotes),
        problems=account.problems + tuple(problems),
    )


def _unusable_market(m: MarketInfo) -> str | None:
    for name, step in (("amount step", m.amount_step), ("price step", m.price_step)):
        if step is not None and (not step.is_finite() or step <= 0):
            return f"its {name} is {_num(step)} (amounts cannot be rounded to it)"
    return None


def _bad_quote(q: Quote) -> str | None:
    for name, value in (("bid", q.bid), ("ask", q.ask), ("last", q.last)):
        if value is not None and (not value.is_finite() or value <= 0):
            return f"its {name} is {_num(value)}, not a price"
    if q.bid is not None and q.ask is not None and q.bid > q.ask:
        return (
            f"crossed book: bid {_num(q.bid)} above ask {_num(q.ask)}; an order priced on it "
            "would be priced wrong"
        )
    return None


def check_orders(
    orders: Iterable[Order],
    holdings: Iterable[Holding],
    prices: Mapping[str, Price],
    markets: Iterable[MarketInfo],
    disagreement: Decimal = SLACK,
) -> tuple[tuple[Order, ...], tuple[Problem, ...]]:
    """Withhold orders that spend more than their account has, or are worth more than it.

    Per account and currency the orders may spend (sell the base; pay the quote for a buy)
    at most the free spot balance plus what the orders receive, and no single order may be
    worth more (in the base currency) than the account's holdings together, by more than
    `disagreement` (the fraction by which the prices of its markets may differ from the
    valuation: converting a whole account's sale proceeds may show it that much richer).

    Returns:
        The orders kept, and one ERROR problem per order withheld.
    """
    orders = tuple(orders)
    pairs = {(m.account, m.symbol): (m.base, m.quote) for m in markets}
    free: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    worth: dict[str, Decimal] = defaultdict(Decimal)
    for h in holdings:
        if h.sellable:
            free[(h.account, h.asset)] += h.free
        if h.asset in prices:
            worth[h.account] += h.total * prices[h.asset].in_base
    flows: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for o in orders:
        base, quote = pairs.get((o.account, o.symbol), _split(o.symbol))
        cost = o.amount * o.price
        if o.side is Side.SELL:
            flows[(o.account, base)] -= o.amount
            flows[(o.account, quote)] += cost
        else:
            flows[(o.account, base)] += o.amount
            flows[(o.account, quote)] -= cost
    overdrawn = {
        key for key, flow in flows.items() if free[key] + flow < -SLACK * max(free[key], Decimal(1))
    }
    kept: list[Order] = []
    problems: list[Problem] = []
    for o in orders:
        base, quote = pairs.get((o.account, o.symbol), _split(o.symbol))
        spends = base if o.side is Side.SELL else quote
        what = f"{o.side.value} {_num(o.amount)} {o.symbol} on {o.account}"
        if (o.account, spends) in overdrawn:
            problems.append(
                Problem(
                    Severity.ERROR,
                    f"order {o.symbol}",
                    f"{what} withheld: the orders on {o.account} would spend more {spends} "
                    f"than it holds free ({_num(free[(o.account, spends)])})",
                )
            )
        elif o.notional > worth[o.account] * (1 + max(disagreement, SLACK)):
            problems.append(
                Problem(
                    Severity.ERROR,
                    f"order {o.symbol}",
                    f"{what} withheld: worth {o.notional:.2f}, more than everything "
                    f"{o.account} holds ({worth[o.account]:.2f}); a price it rests on is wrong",
                )
            )
        else:
            kept.append(o)
    return tuple(kept), tuple(problems)


def _split(symbol: str) -> tuple[str, str]:
    base, _, rest = symbol.partition("/")
    return base, rest.split(":")[0]


def _num(value: Decimal) -> str:
    """A number for a message: plain when short, scientific when huge or not finite."""
    if not value.is_finite():
        return str(value)
    if abs(value.adjusted()) > 15:
        return f"{value:.6E}"
    text = f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}"
    return text if value != ZERO else "0"
