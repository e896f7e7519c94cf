"""Run history store: every run's snapshot, prices, allocations, plan and orders, by run id.

Tables are created by alembic revision 0002 (rotator/migrations/versions/0002_runs.py).
`save_run` writes one run in ONE transaction: the run row (with the plan's rule reports and
baskets), per-account and per-asset holdings with their values, the prices used, the allocations
before/after, the orders, each rule evaluation once, and (through `extra_writers`) whatever must
commit with it. A run that fails or is killed half-way leaves nothing behind. Quantities are
stored as exact decimal strings: SQLite has no exact numeric type, and a report must show the
same amounts the plan printed.

Tables are in run_tables.py (no logic there); reading runs back (`StoredRun`, `RunSummary`,
`load_run`, `list_runs`, `daily_values`) is in run_queries.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, insert

from rotator.adapters.storage.market import RuleEvaluationRow
from rotator.adapters.storage.plan_records import evaluation_rows, records_to_json
from rotator.adapters.storage.run_tables import (
    RunAccountRow,
    RunAllocationRow,
    RunHoldingRow,
    RunOrderRow,
    RunPriceRow,
    RunRow,
)
from rotator.core.jsonable import to_jsonable
from rotator.core.models import ChainSource, Plan, Price, Snapshot
from rotator.core.records import RulesReport
from rotator.errors import Problem
from rotator.redaction import redact

# A writer called inside save_run's transaction, after the run's own rows, with the new run id.
ExtraWriter = Callable[[Connection, int], None]


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


def save_run(
    engine: Engine,
    snapshot: Snapshot,
    plan: Plan,
    *,
    created_at: datetime,
    prices: Iterable[Price] = (),
    kind: str = "plan",
    extra_writers: Sequence[ExtraWriter] = (),
) -> int:
    """Store one run in a single transaction and return its run id.

    The plan's typed records are serialised once here (rotator.adapters.storage.plan_records):
    the rule reports and baskets into the run's `details`, each rule evaluation once into
    `rule_evaluations` (linked to the run), the prices into `run_prices`.

    Args:
        created_at: when the run was made (the run's clock; never read here).
        prices: the prices the run valued holdings with (default: `plan.prices`, the ones the
            planner used).
        kind: what produced the run: "plan" or "report".
        extra_writers: more writes that must commit or fail together with the run; each is
            called with the open connection and the new run id after the run's own rows.
    """
    price_map = {p.asset: p for p in (tuple(prices) or plan.prices)}
    as_of = _as_utc(plan.as_of)
    with engine.begin() as conn:
        run_id = conn.execute(
            insert(RunRow.__table__).returning(RunRow.__table__.c.id),
            {
                "as_of": as_of,
                "day": as_of.date(),
                "created_at": created_at,
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
                "details": to_jsonable(records_to_json(plan.rules, plan.baskets)),
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
        if plan.rules is not None and plan.rules.rules:
            _insert_evaluations(conn, run_id, as_of, plan.rules)
        for writer in extra_writers:
            writer(conn, run_id)
    return run_id


def _insert_evaluations(conn: Connection, run_id: int, as_of: datetime, rules: RulesReport) -> None:
    """Rule evaluations into the market store's table, linked to the run, same transaction."""
    conn.execute(
        insert(RuleEvaluationRow.__table__),
        [
            {
                "ruleset": rules.ruleset,
                "rule": e["rule"],
                "kind": e["kind"],
                "value": e["value"],
                "reason": e["reason"],
                "inputs": to_jsonable(e["inputs"]),
                "as_of": as_of.date(),
                "evaluated_at": as_of,
                "run_id": str(run_id),
            }
            for e in evaluation_rows(rules)
        ],
    )
