"""Run history store: every run's snapshot, prices, allocations, plan and orders, by run id.

Tables are created by alembic revision 0002 (rotator/migrations/versions/0002_runs.py).
`save_run` writes one run in ONE transaction: the run row, per-account and per-asset holdings
with their values, the prices used, the allocations before/after, the orders, and (through
`extra_writers`) the rule evaluations that belong to it. A run that fails or is killed half-way
leaves nothing behind. Quantities are stored as exact decimal strings: SQLite has no exact
numeric type, and a report must show the same amounts the plan printed.

Tables are in run_tables.py (no logic there); reading runs back (`StoredRun`, `RunSummary`,
`load_run`, `list_runs`, `daily_values`) is in run_queries.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import fields, is_dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Connection, Engine, insert

from rotator.adapters.storage.run_tables import (
    RunAccountRow,
    RunAllocationRow,
    RunHoldingRow,
    RunOrderRow,
    RunPriceRow,
    RunRow,
)
from rotator.core.models import (
    ChainSource,
    Plan,
    Price,
    Snapshot,
)
from rotator.errors import Problem
from rotator.redaction import redact

# A writer called inside save_run's transaction, after the run's own rows, with the new run id.
ExtraWriter = Callable[[Connection, int], None]


def to_jsonable(value: Any) -> Any:
    """Plain JSON data from records: Decimal -> str, datetime -> ISO, dataclass -> dict.

    Used for `Plan.details` (rule results, basket) so any stage's structured output can be
    stored and rendered the same way whether it comes from a fresh run or the database.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return to_jsonable(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in fields(value)}
    if hasattr(value, "model_dump"):  # pydantic models at a boundary
        return to_jsonable(value.model_dump())
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if hasattr(value, "to_dict") and hasattr(value, "index"):  # pandas objects
        return {str(k): to_jsonable(v) for k, v in value.to_dict().items()}
    if isinstance(value, Iterable):
        return [to_jsonable(v) for v in value]
    return str(value)


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _problem_row(problem: Problem) -> dict[str, str]:
    # Messages may quote an exchange's error text; credentials never reach the database.
    return {
        "severity": problem.severity.value,
        "subject": redact(problem.subject),
        "message": redact(problem.message),
    }


def _as_utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _source_row(source: ChainSource | None) -> dict[str, Any] | None:
    if source is None:
        return None
    return {
        "chain": source.chain,
        "address": source.address,
        "block": source.block,
        "read_at": _as_utc(source.read_at).isoformat(),
        "addresses": source.addresses,
    }


def _prices_from_holdings(snapshot: Snapshot, plan: Plan) -> dict[str, Price]:
    """Per-asset prices implied by the plan when the pipeline passes none.

    The plan's allocation is per asset (cash folded into one bucket), so an asset's price is
    its allocated value divided by the total amount held; cash assets are left unpriced here.
    """
    amounts: dict[str, Decimal] = {}
    for holding in snapshot.holdings:
        amounts[holding.asset] = amounts.get(holding.asset, Decimal(0)) + holding.total
    prices = {}
    for row in plan.before:
        amount = amounts.get(row.asset)
        if amount and amount > 0:
            prices[row.asset] = Price(row.asset, row.value / amount, (), plan.as_of)
    return prices


def save_run(
    engine: Engine,
    snapshot: Snapshot,
    plan: Plan,
    *,
    prices: Iterable[Price] = (),
    kind: str = "plan",
    evaluations: Sequence[Mapping[str, Any]] | None = None,
    ruleset: str | None = None,
    extra_writers: Sequence[ExtraWriter] = (),
    created_at: datetime | None = None,
) -> int:
    """Store one run in a single transaction and return its run id.

    Args:
        prices: the prices the run valued holdings with; derived from the plan when empty.
        kind: what produced the run: "plan" or "report".
        evaluations: rule evaluations (mappings with rule, kind, value, reason, inputs, as in
            rotator.adapters.storage.market.save_evaluations), saved linked to this run;
            by default those in `plan.details["rules"]` (see `evaluations_from_plan`).
        ruleset: the rule set file the evaluations came from (default: details["ruleset"]).
        extra_writers: more writes that must commit or fail together with the run; each is
            called with the open connection and the new run id after the run's own rows.
    """
    price_map = {p.asset: p for p in prices} or _prices_from_holdings(snapshot, plan)
    if evaluations is None:
        evaluations = evaluations_from_plan(plan)
    if ruleset is None:
        ruleset = str(plan.details.get("ruleset") or plan.targets.source)
    as_of = _as_utc(plan.as_of)
    with engine.begin() as conn:
        run_id = conn.execute(
            insert(RunRow.__table__).returning(RunRow.__table__.c.id),
            {
                "as_of": as_of,
                "day": as_of.date(),
                "created_at": created_at or datetime.now(UTC),
                "kind": kind,
                "base_currency": plan.base_currency,
                "total_value": _dec(plan.total_value),
                "complete": plan.complete and snapshot.complete,
                "regime": plan.regime,
                "targets_source": plan.targets.source,
                "targets": {k: str(v) for k, v in plan.targets.weights.items()},
                "problems": [_problem_row(p) for p in plan.problems],
                "notes": list(plan.notes),
                "explanation": list(plan.explanation),
                "details": to_jsonable(dict(plan.details)),
            },
        ).scalar_one()
        accounts = [
            {
                "run_id": run_id,
                "name": account.name,
                "exchange": account.exchange,
                "fetched_at": account.fetched_at,
                "problems": [_problem_row(p) for p in account.problems],
            }
            for account in snapshot.accounts
        ]
        if accounts:
            conn.execute(insert(RunAccountRow.__table__), accounts)
        holdings = []
        for h in snapshot.holdings:
            price = price_map.get(h.asset)
            holdings.append(
                {
                    "run_id": run_id,
                    "account": h.account,
                    "wallet": h.wallet.value,
                    "asset": h.asset,
                    "total": str(h.total),
                    "free": str(h.free),
                    "price": _dec(price.in_base) if price else None,
                    "value": _dec(h.total * price.in_base) if price else None,
                    "source": _source_row(h.source),
                }
            )
        if holdings:
            conn.execute(insert(RunHoldingRow.__table__), holdings)
        if price_map:
            conn.execute(
                insert(RunPriceRow.__table__),
                [
                    {
                        "run_id": run_id,
                        "asset": p.asset,
                        "in_base": str(p.in_base),
                        "route": list(p.route),
                        "as_of": p.as_of,
                        "oracle": p.oracle,
                    }
                    for p in price_map.values()
                ],
            )
        allocations = [
            {
                "run_id": run_id,
                "phase": phase,
                "asset": a.asset,
                "value": str(a.value),
                "weight": str(a.weight),
                "target": _dec(a.target),
            }
            for phase, rows in (("before", plan.before), ("after", plan.after))
            for a in rows
        ]
        if allocations:
            conn.execute(insert(RunAllocationRow.__table__), allocations)
        if plan.orders:
            conn.execute(
                insert(RunOrderRow.__table__),
                [
                    {
                        "run_id": run_id,
                        "seq": seq,
                        "account": o.account,
                        "symbol": o.symbol,
                        "side": o.side.value,
                        "amount": str(o.amount),
                        "price": str(o.price),
                        "notional": str(o.notional),
                        "fee": str(o.fee),
                        "asset": o.asset,
                        "reason": o.reason,
                        "leg": o.leg,
                    }
                    for seq, o in enumerate(plan.orders)
                ],
            )
        if evaluations:
            _insert_evaluations(conn, run_id, as_of, evaluations, ruleset or "")
        for writer in extra_writers:
            writer(conn, run_id)
    return run_id


def evaluations_from_plan(plan: Plan) -> list[dict[str, Any]]:
    """Rule evaluation rows from `plan.details["rules"]` (name, kind, value, reason, inputs)."""
    rows = []
    for item in plan.details.get("rules") or ():
        if not isinstance(item, Mapping) or not (item.get("name") or item.get("rule")):
            continue
        value = item.get("state", item.get("value"))
        state = {True: "true", False: "false", "true": "true", "false": "false"}.get(
            value, "unknown"
        )
        rows.append(
            {
                "rule": str(item.get("name") or item.get("rule")),
                "kind": str(item.get("kind") or ""),
                "value": state,
                "reason": str(item.get("reason") or ""),
                "inputs": item.get("inputs") or {},
            }
        )
    return rows


def _insert_evaluations(
    conn: Connection,
    run_id: int,
    as_of: datetime,
    evaluations: Sequence[Mapping[str, Any]],
    ruleset: str,
) -> None:
    """Rule evaluations into the market store's table, linked to the run, same transaction."""
    from rotator.adapters.storage.market import RuleEvaluationRow

    conn.execute(
        insert(RuleEvaluationRow.__table__),
        [
            {
                "ruleset": ruleset,
                "rule": e["rule"],
                "kind": e["kind"],
                "value": e["value"],
                "reason": e["reason"],
                "inputs": to_jsonable(dict(e.get("inputs") or {})),
                "as_of": as_of.date(),
                "evaluated_at": as_of,
                "run_id": str(run_id),
            }
            for e in evaluations
        ],
    )
