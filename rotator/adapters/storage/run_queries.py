"""Reading the run history back: summaries, one run in full, daily values.

The write side (`save_run`, one transaction per run) is in runs.py; the tables in run_tables.py.
Amounts come back as the exact Decimals the plan printed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from rotator.adapters.storage.plan_records import records_from_json
from rotator.adapters.storage.run_tables import (
    RunAccountRow,
    RunAllocationRow,
    RunHoldingRow,
    RunOrderRow,
    RunPriceRow,
    RunRow,
)
from rotator.core.models import (
    Allocation,
    ChainSource,
    Holding,
    Order,
    Plan,
    Price,
    Side,
    TargetWeights,
    ValuedHolding,
    WalletKind,
)
from rotator.errors import Problem, Severity


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One line of run history: what `rotator history list` shows and the value chart plots."""

    id: int
    as_of: datetime
    day: date
    kind: str
    base_currency: str
    total_value: Decimal | None
    complete: bool
    regime: str | None
    order_count: int


@dataclass(frozen=True, slots=True)
class AccountRecord:
    """An account as a stored run saw it: when it was read and what went wrong."""

    name: str
    exchange: str
    fetched_at: datetime | None
    problems: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class StoredRun:
    """A run read back from the store: its summary, plan, valued holdings and prices."""

    summary: RunSummary
    plan: Plan
    holdings: tuple[ValuedHolding, ...]
    prices: tuple[Price, ...]
    accounts: tuple[AccountRecord, ...]

    @property
    def id(self) -> int:
        return self.summary.id


def _utc(value: datetime | None) -> datetime | None:
    """Stored times back as aware UTC (SQLite returns them naive)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _summary_query() -> Any:
    orders = (
        select(RunOrderRow.run_id, func.count().label("n")).group_by(RunOrderRow.run_id).subquery()
    )
    return select(RunRow, func.coalesce(orders.c.n, 0)).outerjoin(
        orders, orders.c.run_id == RunRow.id
    )


def _summary(row: RunRow, order_count: int) -> RunSummary:
    return RunSummary(
        id=row.id,
        as_of=_utc(row.as_of) or row.as_of,
        day=row.day,
        kind=row.kind,
        base_currency=row.base_currency,
        total_value=None if row.total_value is None else Decimal(row.total_value),
        complete=row.complete,
        regime=row.regime,
        order_count=int(order_count),
    )


def list_runs(
    engine: Engine,
    *,
    limit: int | None = None,
    since: date | None = None,
    until: date | None = None,
) -> list[RunSummary]:
    """Stored runs, newest first."""

    stmt = _summary_query().order_by(RunRow.as_of.desc(), RunRow.id.desc())
    if since is not None:
        stmt = stmt.where(RunRow.day >= since)
    if until is not None:
        stmt = stmt.where(RunRow.day <= until)
    if limit is not None:
        stmt = stmt.limit(limit)
    with Session(engine) as session:
        return [_summary(row, n) for row, n in session.execute(stmt).all()]


def daily_values(
    engine: Engine, until: date, days: int | None = None
) -> list[tuple[date, Decimal]]:
    """The portfolio value per day (the day's last complete run), oldest first.

    Incomplete runs are left out: a value missing an account would show as a fake drop.
    """
    since = None if days is None else date.fromordinal(until.toordinal() - days + 1)
    per_day: dict[date, Decimal] = {}
    for run in reversed(list_runs(engine, since=since, until=until)):
        if run.complete and run.total_value is not None:
            per_day[run.day] = run.total_value
    return sorted(per_day.items())


def load_run(engine: Engine, run_id: int) -> StoredRun | None:
    """A stored run with its plan, holdings and prices; None when there is no such run."""

    with Session(engine) as session:
        found = session.execute(_summary_query().where(RunRow.id == run_id)).first()
        if found is None:
            return None
        row, count = found
        summary = _summary(row, count)

        def rows(model: Any) -> list[Any]:
            return list(
                session.scalars(select(model).where(model.run_id == run_id).order_by(model.id))
            )

        prices = tuple(
            Price(p.asset, Decimal(p.in_base), tuple(p.route), _utc(p.as_of), p.oracle)
            for p in rows(RunPriceRow)
        )
        by_asset = {p.asset: p for p in prices}
        holdings = tuple(
            ValuedHolding(
                Holding(
                    h.account,
                    h.asset,
                    Decimal(h.total),
                    Decimal(h.free),
                    WalletKind(h.wallet),
                    _chain_source(h.source),
                ),
                by_asset.get(h.asset) if h.price is not None else None,
            )
            for h in rows(RunHoldingRow)
        )
        allocations = rows(RunAllocationRow)
        rules, baskets = records_from_json(row.details)
        plan = Plan(
            as_of=summary.as_of,
            base_currency=row.base_currency,
            total_value=summary.total_value,
            targets=TargetWeights(
                {k: Decimal(v) for k, v in row.targets.items()}, row.targets_source
            ),
            before=tuple(_allocation(a) for a in allocations if a.phase == "before"),
            after=tuple(_allocation(a) for a in allocations if a.phase == "after"),
            orders=tuple(
                Order(
                    account=o.account,
                    symbol=o.symbol,
                    side=Side(o.side),
                    amount=Decimal(o.amount),
                    price=Decimal(o.price),
                    notional=Decimal(o.notional),
                    fee=Decimal(o.fee),
                    asset=o.asset,
                    reason=o.reason,
                    leg=o.leg,
                )
                for o in sorted(rows(RunOrderRow), key=lambda o: o.seq)
            ),
            problems=tuple(_problem(p) for p in row.problems),
            notes=tuple(row.notes),
            regime=row.regime,
            explanation=tuple(row.explanation),
            rules=rules,
            baskets=baskets,
            prices=prices,
            holdings=holdings,
        )
        plan = replace(
            plan,
            onchain=tuple(vh for vh in holdings if vh.holding.source is not None),
            oracle_prices=tuple(p for p in prices if p.oracle is not None),
        )
        accounts = tuple(
            AccountRecord(
                a.name, a.exchange, _utc(a.fetched_at), tuple(_problem(p) for p in a.problems)
            )
            for a in rows(RunAccountRow)
        )
    return StoredRun(summary, plan, holdings, prices, accounts)


def _chain_source(row: Mapping[str, Any] | None) -> ChainSource | None:
    if not row:
        return None
    return ChainSource(
        chain=str(row["chain"]),
        address=str(row["address"]),
        read_at=datetime.fromisoformat(row["read_at"]),
        block=row.get("block"),
        addresses=int(row.get("addresses") or 1),
    )


def _allocation(row: RunAllocationRow) -> Allocation:
    return Allocation(
        row.asset,
        Decimal(row.value),
        Decimal(row.weight),
        None if row.target is None else Decimal(row.target),
    )


def _problem(row: Mapping[str, str]) -> Problem:
    return Problem(Severity(row["severity"]), row["subject"], row["message"])


def latest_run_before(engine: Engine, day: date, *, on_or_before: bool = True) -> RunSummary | None:
    """The last complete run on or before `day` (or strictly before it)."""

    cond = RunRow.day <= day if on_or_before else RunRow.day < day
    stmt = (
        _summary_query()
        .where(cond, RunRow.complete.is_(True))
        .order_by(RunRow.as_of.desc(), RunRow.id.desc())
        .limit(1)
    )
    with Session(engine) as session:
        found = session.execute(stmt).first()
    return None if found is None else _summary(*found)


def run_count(engine: Engine) -> int:
    """How many runs are stored."""
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(RunRow)).scalar_one()
