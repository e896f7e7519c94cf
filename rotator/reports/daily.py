"""The daily report's content, built from a plan and history: pure, no I/O and no clock.

`build_daily` turns the day's plan (fresh or read back from the store), the previous day's
plan, the stored value history and the market series into a `DailyReport`: every number the
HTML and Markdown renderers show. Renderers only format; nothing here fetches or decides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from rotator.core.models import CASH_BUCKET, Order, Plan
from rotator.core.records import RulesReport
from rotator.errors import Problem, Severity
from rotator.reports.macro import MacroPanel, build_macro_panel
from rotator.reports.rows import Change, DriftRow, RuleRow, Series
from rotator.reports.sources import OnchainRow, OracleRow, onchain_rows, oracle_rows

if TYPE_CHECKING:
    import pandas as pd

# A rule input older than this many days (relative to the rules' evaluation day) is stale.
STALE_AFTER_DAYS = 2
# Weight moves smaller than this (fraction) are not worth a line in "what changed".
WEIGHT_CHANGE_MIN = Decimal("0.005")
CHANGE_WINDOWS = ((1, "1 day"), (7, "7 days"), (30, "30 days"))
# How far back the market charts look: two years shows a breakout against the prior high.
BTC_CHART_DAYS = 730
DOMINANCE_CHART_DAYS = 365


@dataclass(frozen=True, slots=True)
class HoldingRow:
    """One holding read: account (or wallet), its wallet type, asset, amount and value."""

    account: str
    wallet: str
    asset: str
    amount: Decimal
    value: Decimal | None  # None: no fresh price

    @property
    def amount_text(self) -> str:
        text = format(self.amount, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text


def holding_rows(plan: Plan) -> tuple[HoldingRow, ...]:
    """Every holding of the plan, by account then largest value first (unpriced last)."""
    rows = [
        HoldingRow(
            h.holding.account, h.holding.wallet.value, h.holding.asset, h.holding.total, h.value
        )
        for h in plan.holdings
    ]
    return tuple(sorted(rows, key=lambda r: (r.account, r.value is None, -(r.value or 0), r.asset)))


@dataclass(frozen=True, slots=True)
class DailyReport:
    """Everything the daily report shows, ready to format."""

    day: date
    as_of: datetime
    run_id: int | None
    base_currency: str
    total_value: Decimal | None
    complete: bool
    regime: str | None
    targets_source: str
    explanation: tuple[str, ...]
    changes: tuple[Change, ...]
    allocation: tuple[DriftRow, ...]
    since_yesterday: tuple[str, ...]
    rules: tuple[RuleRow, ...]
    basket: tuple[tuple[str, Decimal], ...]
    orders: tuple[Order, ...]
    notes: tuple[str, ...]
    warnings: tuple[Problem, ...]
    value_history: Series
    btc: Series
    btc_level: float | None
    dominance: Series
    macro: MacroPanel | None = None  # bond stress, net liquidity, buybacks (rotator.reports.macro)
    onchain: tuple[OnchainRow, ...] = ()  # on-chain holdings with their source
    oracle: tuple[OracleRow, ...] = ()  # prices that came from a price oracle
    holdings: tuple[HoldingRow, ...] = ()  # every holding read, per account and wallet
    history_note: str | None = None  # rules unknown for lack of history (shown at the top)
    sources: tuple[str, ...] = ()  # where the charted series came from ("close:BTC from binance")

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(w for w in self.warnings if w.severity is Severity.ERROR)

    @property
    def title(self) -> str:
        return f"rotator daily report {self.day.isoformat()}"

    @property
    def unchanged_why(self) -> str:
        """Why a change figure is n/a: the run is incomplete, there is no earlier day stored,
        or the stored days do not reach that far back (they start on a given day)."""
        if not self.complete:
            return "this run is incomplete"
        earlier = [d for d, _ in self.value_history.points if d < self.day]
        return f"history starts {earlier[0].isoformat()}" if earlier else "no history yet"


def value_changes(
    total: Decimal | None, day: date, history: Sequence[tuple[date, Decimal]]
) -> tuple[Change, ...]:
    """1/7/30-day changes: today's value against the last stored value on or before day - N."""
    out = []
    for days, label in CHANGE_WINDOWS:
        cutoff = day - timedelta(days=days)
        earlier = [(d, v) for d, v in history if d <= cutoff]
        if total is None or not earlier:
            out.append(Change(label, None, None, None, None))
            continue
        since, then = earlier[-1]
        delta = total - then
        pct = (delta / then * 100) if then else None
        out.append(Change(label, since, then, delta, pct))
    return tuple(out)


def drift_rows(plan: Plan) -> tuple[DriftRow, ...]:
    """Allocation now vs target, largest weight first; targets not held appear with weight 0.

    An asset held without a fresh price has no value, weight or drift (`priced` False), and
    with the total unknown no weight or drift is known at all: never a made-up 0.00 or -70 pp.
    """
    after = {a.asset: a.weight for a in plan.after}
    unpriced = {h.holding.asset for h in plan.holdings if h.price is None}
    unknown_total = plan.total_value is None
    rows = []
    for a in plan.before:
        priced = not (a.asset in unpriced and a.value == 0)
        known = priced and not unknown_total
        rows.append(
            DriftRow(
                a.asset,
                a.value,
                a.weight,
                a.target,
                None if a.target is None or not known else (a.weight - a.target) * 100,
                after.get(a.asset) if known else None,
                priced,
            )
        )
    held = {a.asset for a in plan.before}
    for asset, target in plan.targets.weights.items():
        if asset not in held:
            drift = None if unknown_total else -target * 100
            after_weight = None if unknown_total else after.get(asset)
            rows.append(DriftRow(asset, Decimal(0), Decimal(0), target, drift, after_weight))
    return tuple(sorted(rows, key=lambda r: (r.asset == CASH_BUCKET, -r.weight, r.asset)))


def rule_rows(rules: RulesReport | None) -> tuple[RuleRow, ...]:
    """Every rule of the plan's rule report, with its age relative to the evaluation day."""
    if rules is None:
        return ()
    rows = []
    for rule in rules.rules:
        age = rule.age_days(rules.as_of)
        rows.append(
            RuleRow(
                name=rule.name,
                kind=rule.kind,
                state=rule.state,
                reason=rule.reason,
                as_of=rule.data_as_of,
                age_days=age,
                stale=rule.state == "unknown" or (age is not None and age > STALE_AFTER_DAYS),
                inputs=dict(rule.inputs),
            )
        )
    return tuple(rows)


def basket_rows(plan: Plan) -> tuple[tuple[str, Decimal], ...]:
    """The plan's basket members (asset, portfolio weight), heaviest first."""
    return tuple(sorted(plan.basket.items(), key=lambda p: -p[1]))


def prior_high_level(rules: Sequence[RuleRow]) -> float | None:
    """The BTC level the prior-high rule compares against, when a rule reports one."""
    for row in rules:
        if row.kind and row.kind != "prior_high_break":
            continue
        for key in ("level", "prior_high", "high"):
            value = row.inputs.get(key)
            if isinstance(value, int | float | str) and not isinstance(value, bool):
                try:
                    return float(value)
                except ValueError:
                    continue
    return None


def changes_since(
    plan: Plan, previous: Plan | None, rules: Sequence[RuleRow], previous_rules: Sequence[RuleRow]
) -> tuple[str, ...]:
    """Lines saying what changed since the previous day's run: regime, rules, weights, orders."""
    if previous is None:
        return ("No run stored for an earlier day: nothing to compare with yet.",)
    lines = []
    if plan.regime != previous.regime:
        lines.append(f"Regime changed: {previous.regime or 'none'} -> {plan.regime or 'none'}.")
    else:
        lines.append(f"Regime unchanged: {plan.regime or 'static targets'}.")
    before = {r.name: r.state for r in previous_rules}
    for row in rules:
        if row.name in before and before[row.name] != row.state:
            lines.append(f"Rule {row.name}: {before[row.name]} -> {row.state}.")
        elif row.name not in before:
            lines.append(f"Rule {row.name} is new: {row.state}.")
    then = {a.asset: a.weight for a in previous.before}
    now = {a.asset: a.weight for a in plan.before}
    for asset in sorted(set(then) | set(now)):
        old, new = then.get(asset, Decimal(0)), now.get(asset, Decimal(0))
        if asset not in then:
            lines.append(f"{asset} is new in the portfolio ({new:.1%}).")
        elif asset not in now:
            lines.append(f"{asset} is no longer held (was {old:.1%}).")
        elif abs(new - old) >= WEIGHT_CHANGE_MIN:
            lines.append(f"{asset} weight {old:.1%} -> {new:.1%} ({(new - old) * 100:+.1f} pp).")
    if previous.targets.weights != plan.targets.weights:
        lines.append(f"Targets changed ({previous.targets.source} -> {plan.targets.source}).")
    lines.append(f"Suggested orders: {len(previous.orders)} -> {len(plan.orders)}.")
    return tuple(lines)


def report_warnings(plan: Plan, rules: Sequence[RuleRow]) -> tuple[Problem, ...]:
    """Problems to show prominently: errors first, then stale or unknown rule inputs."""
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    found = sorted(plan.problems, key=lambda p: order[p.severity])
    for row in rules:
        if row.state == "unknown":
            found.append(Problem(Severity.WARNING, f"rule {row.name}", f"unknown: {row.reason}"))
        elif row.stale:
            found.append(
                Problem(
                    Severity.WARNING,
                    f"rule {row.name}",
                    f"stale input: newest data is {row.age_days} days old ({row.as_of})",
                )
            )
    # The plan already carries a warning for each unknown rule its regimes read: list each
    # problem once.
    return tuple(dict.fromkeys(found))


def _window(points: Sequence[tuple[date, float]], days: int) -> tuple[tuple[date, float], ...]:
    """The last `days` days of a series (counted back from its newest point)."""
    if not points:
        return ()
    start = points[-1][0] - timedelta(days=days - 1)
    return tuple((d, v) for d, v in points if d >= start)


def build_daily(
    plan: Plan,
    *,
    day: date,
    run_id: int | None,
    complete: bool,
    previous: Plan | None,
    value_history: Sequence[tuple[date, Decimal]],
    btc_closes: Sequence[tuple[date, float]] = (),
    dominance: Sequence[tuple[date, float]] = (),
    macro_history: Mapping[str, pd.Series] | None = None,
    market_day: date | None = None,
    sources: tuple[str, ...] = (),
) -> DailyReport:
    """The day's report content.

    Args:
        plan: the day's plan (with its rule reports and baskets).
        complete: whether the run behind the plan had all its data.
        previous: the last complete run's plan from an earlier day, for "what changed".
        value_history: (day, value) of stored complete runs up to and including `day`.
        btc_closes, dominance: daily market series up to the market day, oldest first (the
            charts show their last BTC_CHART_DAYS / DOMINANCE_CHART_DAYS days).
        macro_history: stored macro series by name (rotator.reports.macro.MACRO_SERIES) for
            the macro panel, shown as public on `market_day` (default `day`); None: no panel.
        sources: one line per stored series saying where its days came from.
    """
    rules = rule_rows(plan.rules)
    previous_rules = rule_rows(previous.rules) if previous else ()
    history = [(d, v) for d, v in value_history if d <= day]
    if plan.total_value is not None and complete:
        history = [(d, v) for d, v in history if d != day] + [(day, plan.total_value)]
    warnings = report_warnings(plan, rules)
    if not complete and not any(w.severity is Severity.ERROR for w in warnings):
        warnings = (
            Problem(Severity.ERROR, "run", "incomplete: some data could not be read"),
            *warnings,
        )
    return DailyReport(
        day=day,
        as_of=plan.as_of,
        run_id=run_id,
        base_currency=plan.base_currency,
        total_value=plan.total_value,
        complete=complete,
        regime=plan.regime,
        targets_source=plan.targets.source,
        explanation=tuple(plan.explanation),
        changes=value_changes(plan.total_value if complete else None, day, history),
        allocation=drift_rows(plan),
        since_yesterday=changes_since(plan, previous, rules, previous_rules),
        rules=rules,
        basket=basket_rows(plan),
        orders=tuple(plan.orders),
        notes=tuple(plan.notes),
        warnings=warnings,
        value_history=Series("portfolio value", tuple((d, float(v)) for d, v in history)),
        btc=Series("BTC close", _window(btc_closes, BTC_CHART_DAYS)),
        btc_level=prior_high_level(rules),
        dominance=Series("BTC dominance", _window(dominance, DOMINANCE_CHART_DAYS)),
        macro=_macro_panel(macro_history, rules, market_day or day),
        onchain=onchain_rows(plan),
        oracle=oracle_rows(plan),
        holdings=holding_rows(plan),
        history_note=None if plan.rules is None else plan.rules.history_note,
        sources=sources,
    )


def _macro_panel(
    history: Mapping[str, pd.Series] | None, rules: Sequence[RuleRow], day: date
) -> MacroPanel | None:
    if not history:
        return None
    panel = build_macro_panel(history, rules, day)
    return None if panel is None or panel.empty else panel
