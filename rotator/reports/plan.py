"""Plan -> table (rich), JSON and CSV. Pure formatting: no fetching, no deciding.

JSON and CSV carry the same order fields (ORDER_FIELDS); JSON adds totals, allocations,
problems and notes around them, and `holdings`: every holding read (HOLDING_FIELDS), with its
price and value when a fresh price was found (null otherwise), complete plan or not.
Numbers of any size render (a 1e30 balance is written out, never an error). Values are
rounded to cents in a fiat or stablecoin base currency and to 8 decimals in any other (a BTC
base: 0.00512 BTC stays 0.00512, not 0.01).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal, localcontext
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from rotator.core.jsonable import iso_utc, plain_decimal
from rotator.core.models import Allocation, Order, Plan, ValuedHolding
from rotator.core.records import BasketReport, RuleReport, RulesReport, basket_weights
from rotator.errors import Severity
from rotator.reports.escape import csv_row
from rotator.reports.json_document import render_document
from rotator.reports.sources import onchain_rows, oracle_rows

ORDER_FIELDS = (
    "account",
    "symbol",
    "side",
    "amount",
    "price",
    "notional",
    "fee",
    "asset",
    "leg",
    "reason",
)
HOLDING_FIELDS = ("account", "wallet", "asset", "amount", "price", "value")
# Base currencies whose values are shown to two decimals; any other (BTC, ETH) gets eight.
CENTS_CURRENCIES = frozenset(
    {"USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "KRW", "CNY", "INR", "BRL", "TRY"}
    | {"USDT", "USDC", "DAI", "FDUSD", "BUSD", "TUSD", "PYUSD", "USDE"}
)
DRY_RUN = "DRY RUN: suggested orders only. rotator never places, cancels or edits an order."


def value_places(base: str) -> int:
    """Decimals a value in `base` is shown with: 2 for fiat and stablecoins, 8 otherwise."""
    return 2 if base.upper() in CENTS_CURRENCIES else 8


def order_row(order: Order, places: int = 2) -> dict[str, str | int]:
    """One order as a flat mapping of ORDER_FIELDS (numbers as exact decimal strings)."""
    return {
        "account": order.account,
        "symbol": order.symbol,
        "side": order.side.value,
        "amount": _plain(order.amount),
        "price": _plain(order.price),
        "notional": _plain(_round(order.notional, places)),
        "fee": _plain(_round(order.fee, places)),
        "asset": order.asset,
        "leg": order.leg,
        "reason": order.reason,
    }


def holding_row(held: ValuedHolding, places: int = 2) -> dict[str, str | None]:
    """One holding read as HOLDING_FIELDS; price and value None when it has no fresh price."""
    h = held.holding
    value = held.value
    return {
        "account": h.account,
        "wallet": h.wallet.value,
        "asset": h.asset,
        "amount": _plain(h.total),
        "price": None if held.price is None else _plain(held.price.in_base),
        "value": None if value is None else _plain(_round(value, places)),
    }


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """The whole plan as JSON-ready data."""
    places = value_places(plan.base_currency)
    return {
        "dry_run": True,
        "as_of": iso_utc(plan.as_of),
        "base_currency": plan.base_currency,
        "complete": plan.complete,
        "total_value": None if plan.total_value is None else _plain(plan.total_value),
        "regime": plan.regime,
        "targets_source": plan.targets.source,
        "explanation": list(plan.explanation),
        "before": [_allocation(a, places) for a in plan.before],
        "after": [_allocation(a, places) for a in plan.after],
        "orders": [order_row(o, places) for o in plan.orders],
        "holdings": [holding_row(h, places) for h in plan.holdings],
        "problems": [
            {"severity": p.severity.value, "subject": p.subject, "message": p.message}
            for p in plan.problems
        ],
        "notes": list(plan.notes),
        "onchain": [
            {
                "wallet": r.wallet,
                "chain": r.chain,
                "asset": r.asset,
                "amount": _plain(r.amount),
                "value": None if r.value is None else _plain(_round(r.value, places)),
                "address": r.address,
                "addresses": r.addresses,
                "block": r.block,
                "read_at": iso_utc(r.read_at),
                "price_source": "oracle" if r.oracle else "exchange",
            }
            for r in onchain_rows(plan)
        ],
        "oracle_prices": [
            {"asset": r.asset, "price": _plain(r.price), "source": r.source, "oracle": True}
            for r in oracle_rows(plan)
        ],
        "details": _jsonable(details_to_dict(plan)),
    }


def rule_to_dict(rule: RuleReport, day: date) -> dict[str, Any]:
    """One rule as `plan --format json` and `signals --format json` show it."""
    data_as_of = None if rule.data_as_of is None else rule.data_as_of.isoformat()
    return {
        "rule": rule.name,
        "name": rule.name,
        "kind": rule.kind,
        "value": rule.state,
        "reason": rule.reason,
        "inputs": dict(rule.inputs),
        "basket": None
        if rule.basket is None
        else {a: plain_decimal(w) for a, w in rule.basket.items()},
        "data_as_of": data_as_of,
        "as_of": data_as_of,
        "age_days": rule.age_days(day),
    }


def rules_to_dict(report: RulesReport) -> dict[str, Any]:
    """The rule set, its evaluation day and every rule's answer (JSON-ready)."""
    return {
        "ruleset": report.ruleset,
        "rules_as_of": report.as_of.isoformat(),
        "history_note": report.history_note,
        "rules": [rule_to_dict(r, report.as_of) for r in report.rules],
    }


def baskets_to_dict(baskets: tuple[BasketReport, ...]) -> dict[str, Any]:
    """`basket` (asset -> portfolio weight) and `baskets` (per basket rule, its members)."""
    if not baskets:
        return {}
    entries = [
        {
            "rule": b.rule,
            "regime_weight": plain_decimal(b.regime_weight),
            "members": [
                {
                    "symbol": m.symbol,
                    **m.figures,
                    "basket_weight": plain_decimal(m.basket_weight),
                    "portfolio_weight": plain_decimal(m.portfolio_weight),
                }
                for m in b.members
            ],
            "reason": b.reason,
        }
        for b in baskets
    ]
    weights = basket_weights(baskets)
    return {"basket": {code: plain_decimal(w) for code, w in weights.items()}, "baskets": entries}


def details_to_dict(plan: Plan) -> dict[str, Any]:
    """What the rules and baskets contributed to the plan, under the JSON key `details`."""
    rules = {} if plan.rules is None else rules_to_dict(plan.rules)
    return {**rules, **baskets_to_dict(plan.baskets)}


def render_json(plan: Plan) -> str:
    return render_document(plan_to_dict(plan)) + "\n"


def render_csv(plan: Plan) -> str:
    """Orders as CSV with a header row of ORDER_FIELDS."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=ORDER_FIELDS, lineterminator="\n")
    writer.writeheader()
    for order in plan.orders:
        writer.writerow(csv_row(order_row(order, value_places(plan.base_currency))))
    return buffer.getvalue()


def render_table(plan: Plan, console: Console, *, explain: bool = False) -> None:
    """Print the plan for a person: status, allocation before/after, orders, problems."""
    base = plan.base_currency
    console.print(Text(DRY_RUN, style="bold yellow"))
    if plan.rules is not None and plan.rules.history_note:
        console.print(Text(plan.rules.history_note, style="bold yellow"), soft_wrap=True)
    if not plan.complete:
        missing = "\n".join(f"- {p}" for p in plan.problems if p.severity is Severity.ERROR)
        console.print(
            Panel(
                f"{missing}\n\nOrders that depend on missing data are withheld.",
                title="PLAN INCOMPLETE",
                border_style="bold red",
            )
        )
    total = "unknown" if plan.total_value is None else f"{_money(plan.total_value, base)} {base}"
    headline = f"Portfolio value: {total}    as of {plan.as_of:%Y-%m-%d %H:%M} UTC"
    if plan.regime:
        headline += f"    regime: {plan.regime}"
    console.print(Text(headline, style="bold"))
    if explain:
        _print_explanation(plan, console)
    if plan.holdings:
        console.print(holdings_table(plan.holdings, base))
    console.print(_allocation_table(plan))
    if plan.onchain:
        console.print(_onchain_table(plan))
    if plan.oracle_prices:
        lines = [
            f"- {r.asset}: {_significant(r.price)} {base} from {r.source} (oracle: values the "
            "holding, never prices an order)"
            for r in oracle_rows(plan)
        ]
        console.print(Panel("\n".join(lines), title="Oracle prices", border_style="magenta"))
    console.print(_orders_table(plan))
    if plan.orders:
        console.print(Panel(_reasons(plan), title="Reasons", border_style="dim"))
    warnings = [p for p in plan.problems if p.severity is not Severity.ERROR]
    if warnings or plan.notes:
        lines = [f"- {p}" for p in warnings] + [f"- {n}" for n in plan.notes]
        console.print(Panel("\n".join(lines), title="Notes", border_style="yellow"))


def _print_explanation(plan: Plan, console: Console) -> None:
    parts: list[Any] = [Text(line) for line in plan.explanation]
    if plan.rules is not None and plan.rules.rules:
        table = Table(title="Rules", show_lines=False)
        for column in ("rule", "value", "reason", "as of"):
            table.add_column(column)
        for rule in plan.rules.rules:
            table.add_row(
                rule.name,
                rule.state,
                rule.reason,
                "-" if rule.data_as_of is None else rule.data_as_of.isoformat(),
            )
        parts.append(table)
    basket = plan.basket
    if basket:
        table = Table(title="Basket")
        table.add_column("asset")
        table.add_column("weight", justify="right")
        for asset, weight in basket.items():
            table.add_row(asset, f"{weight:.2%}")
        parts.append(table)
    console.print(Panel(Group(*parts), title="Why these targets", border_style="cyan"))


def holdings_table(holdings: tuple[ValuedHolding, ...], base: str) -> Table:
    """Every holding read: account, wallet, asset, amount, and price/value when priced."""
    table = Table(title=f"Holdings read ({base})")
    for column, justify in (
        ("account", "left"),
        ("wallet", "left"),
        ("asset", "left"),
        ("amount", "right"),
        ("price", "right"),
        ("value", "right"),
    ):
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for held in holdings:
        h = held.holding
        value = held.value
        table.add_row(
            h.account,
            h.wallet.value,
            h.asset,
            _plain(h.total),
            "no fresh price" if held.price is None else _significant(held.price.in_base),
            "-" if value is None else _money(value, base),
        )
    return table


def _allocation_table(plan: Plan) -> Table:
    table = Table(title=f"Allocation ({plan.base_currency})")
    for column, justify in (
        ("asset", "left"),
        ("value", "right"),
        ("weight", "right"),
        ("target", "right"),
        ("drift", "right"),
        ("after", "right"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    after = {a.asset: a for a in plan.after}
    # With the total unknown, an unpriced asset's 0.00 and its drift would be made up.
    unpriced = {h.holding.asset for h in plan.holdings if h.price is None}
    unknown = plan.total_value is None
    for row in plan.before:
        # No target: rebalance.never_trade lists it, or unlisted assets are kept (sell_unlisted).
        target = "kept" if row.target is None else f"{row.target:.1%}"
        drift = "-" if row.target is None else f"{(row.weight - row.target) * 100:+.1f} pp"
        value = _money(row.value, plan.base_currency)
        if row.asset in unpriced and row.value == 0:
            value, drift = "no fresh price", "-"
        elif unknown:
            drift = "-"
        post = after.get(row.asset)
        table.add_row(
            row.asset,
            value,
            "-" if unknown else f"{row.weight:.1%}",
            target,
            drift,
            "-" if post is None else f"{post.weight:.1%}",
        )
    return table


def _onchain_table(plan: Plan) -> Table:
    """On-chain holdings with their source: chain, address (shortened), block, time read."""
    table = Table(title=f"On-chain wallets ({plan.base_currency}), counted, never sold")
    for column, justify in (
        ("wallet", "left"),
        ("asset", "left"),
        ("amount", "right"),
        ("value", "right"),
        ("source", "left"),
    ):
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for r in onchain_rows(plan):
        value = "unpriced" if r.value is None else _money(r.value, plan.base_currency)
        if r.oracle and r.value is not None:
            value += " (oracle)"
        table.add_row(r.wallet, r.asset, _significant(r.amount), value, r.source)
    return table


def _orders_table(plan: Plan) -> Table:
    table = Table(
        title=f"Suggested orders ({len(plan.orders)}), dry run",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    for column, justify in (
        ("#", "right"),
        ("account", "left"),
        ("market", "left"),
        ("side", "left"),
        ("amount", "right"),
        ("est. price", "right"),
        (plan.base_currency, "right"),
        ("fee", "right"),
    ):
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for number, order in enumerate(plan.orders, start=1):
        table.add_row(
            str(number),
            order.account,
            order.symbol,
            Text(order.side.value, style="red" if order.side.value == "sell" else "green"),
            _significant(order.amount),
            _significant(order.price),
            _money(order.notional, plan.base_currency),
            _money(order.fee, plan.base_currency),
        )
    return table


def _reasons(plan: Plan) -> Text:
    """Why each order is there, numbered like the orders table (too long for a column)."""
    lines = [f"{number}. {order.reason}" for number, order in enumerate(plan.orders, start=1)]
    return Text("\n".join(lines))


def _significant(value: Decimal, digits: int = 8) -> str:
    """A price with at most `digits` significant digits, in plain notation."""
    if value == 0:
        return "0"
    exponent = value.adjusted() - digits + 1
    return _plain(value.quantize(Decimal(1).scaleb(exponent)) if exponent < 0 else value)


def _allocation(row: Allocation, places: int = 2) -> dict[str, str | None]:
    return {
        "asset": row.asset,
        "value": _plain(_round(row.value, places)),
        "weight": _plain(_round(row.weight, 4)),
        "target": None if row.target is None else _plain(row.target),
    }


def _round(value: Decimal, places: int) -> Decimal:
    """`value` to `places` decimals, with the precision it needs (1e30 has 31 digits)."""
    with localcontext() as context:
        context.prec = max(28, value.adjusted() + places + 2)
        return value.quantize(Decimal(1).scaleb(-places))


def _money(value: Decimal, base: str = "USD") -> str:
    """1234.5 -> '1,234.50', at any size."""
    places = value_places(base)
    return f"{_round(value, places):,.{places}f}"


def _plain(value: Decimal) -> str:
    """A Decimal as a plain string without exponent ('1E-8' -> '0.00000001')."""
    return plain_decimal(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _plain(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return iso_utc(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
