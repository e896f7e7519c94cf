"""`rotator backtest`: replay a rule set day by day over the stored market history.

Stages, per day D of [from, to]:

1. Trade at D's close: when a decision was taken on the day before, build the simulated
   venue's snapshot (`venue_snapshot`: one account, ASSET/USD at D's close ± slippage) and
   run the run's planner stage (rotator.pipeline.run `make_plan`, stage 5) with the targets
   decided then; fill its orders. An asset with no close yet that day cannot be bought: its
   weight stays in cash (noted once).
2. Value the portfolio at D's close.
3. Every `every` days, decide through the run's stages 3 and 4 (`evaluate_rules`, which calls
   the core's `decide`: rules, regime, `min_days` hysteresis; then `choose_targets`) on a
   history-only snapshot up to D's close. That decision trades at D+1's close.

So nothing decided on D can see a price after D, and a decision is never filled at the price
it was taken on (tests/pipeline/test_backtest.py changes one day's price and checks that no
earlier decision or trade moves). History is loaded once; rules see it through
`RuleContext.series`, which cuts every series at the evaluation day.

Benchmarks run through the same loop: `static` holds the default regime's targets with the
same rebalancing, named `--benchmark` weights likewise; `hodl_btc` buys BTC with everything on
the first day's close, without fees (its total return is the ratio of the last to the first
close).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from rotator.core.backtest.results import (
    METRIC_KEYS,
    BacktestResult,
    BacktestSettings,
    Day,
    Period,
    Simulation,
    Verdict,
)
from rotator.core.backtest.venue import CASH, execute, venue_policy, venue_snapshot
from rotator.core.history import History
from rotator.core.models import CASH_BUCKET, RebalancePolicy, TargetWeights
from rotator.core.rules.engine import history_only
from rotator.core.screen.history import DATASET as SCREEN_HISTORY
from rotator.core.screen.history import ScreenHistory
from rotator.errors import ConfigError, ExitCode, RotatorError
from rotator.pipeline.run import (
    Evaluation,
    RunConfig,
    TargetChoice,
    choose_targets,
    evaluate_rules,
    make_plan,
)

__all__ = [
    "METRIC_KEYS",
    "BacktestResult",
    "BacktestSettings",
    "Day",
    "Period",
    "Simulation",
    "Verdict",
]

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy import Engine

    from rotator.core.rules.engine import RuleSet

Decider = Callable[[date], Verdict]
# A progress display's task factory: (description, total units) -> told the units done.
Step = Callable[[str, int], Callable[[int], None]]


class MissingHistory(RotatorError):
    """The market history holds no BTC closes in the window: nothing to replay (exit 3)."""

    exit_code = ExitCode.INCOMPLETE


def price_table(
    history: Mapping[str, pd.Series], assets: Sequence[str], days: pd.DatetimeIndex
) -> pd.DataFrame:
    """Daily closes of `assets` on `days`: gaps of up to 5 days carried forward, nothing before
    an asset's first close (so it cannot trade before it is listed)."""
    import pandas as pd

    columns = {}
    for asset in assets:
        series = history.get(f"close:{asset}")
        if series is None or series.empty:
            continue
        columns[asset] = series[~series.index.duplicated(keep="last")].reindex(days).ffill(limit=5)
    return pd.DataFrame(columns, index=days)


def _decimal(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def simulate(
    name: str,
    closes: pd.DataFrame,
    settings: BacktestSettings,
    decide_on: Decider,
    first_close: Mapping[str, date] | None = None,
    advance: Callable[[int], None] | None = None,
) -> Simulation:
    """Replay `decide_on` day by day (see the module docstring for the stages).

    Args:
        first_close: each asset's first stored close (said in the note on unlisted assets).
        advance: told how many days are done, after each day (a progress display).
    """
    import math

    policy = venue_policy(settings.policy, settings.fee_rate)
    venue = RunConfig(None, None, policy, settings.start)  # the planner stage's configuration
    holdings: dict[str, Decimal] = {CASH: settings.start_value}
    pending: Verdict | None = None
    regime: str | None = None
    records: list[Day] = []
    periods: list[Period] = []
    decisions: list[tuple[date, str | None, TargetWeights]] = []
    notes: dict[str, str] = {}
    columns = list(closes.columns)
    rows = closes.to_numpy()
    for i, stamp in enumerate(closes.index):
        day = stamp.date()
        prices = {
            a: _decimal(v) for a, v in zip(columns, rows[i], strict=True) if not math.isnan(v)
        }
        prices[CASH] = Decimal(1)
        fees = traded = Decimal(0)
        trades = 0
        if pending is not None:
            targets = _tradable(pending.targets, prices, day, first_close or {}, notes)
            moment = datetime.combine(day, time(23, 59, 59), UTC)
            snapshot = venue_snapshot(
                moment,
                holdings,
                prices,
                slippage_bps=settings.slippage_bps,
                fee_rate=settings.fee_rate,
            )
            plan = make_plan(replace(venue, day=day), snapshot, Evaluation(), TargetChoice(targets))
            if plan.complete:
                fills = execute(holdings, plan.orders, settings.fee_rate)
                holdings = dict(fills.holdings)
                fees, traded, trades = fills.fees, fills.traded, fills.trades
            else:
                notes.setdefault(f"incomplete:{day}", f"{day}: no trade ({plan.problems[0]})")
            pending = None
        value = sum(
            (amount * prices[a] for a, amount in holdings.items() if a in prices), Decimal(0)
        )
        if i % settings.every == 0:
            pending = decide_on(day)
            for key, text in pending.notes.items():
                notes.setdefault(key, f"{day}: {text}")
            decisions.append((day, pending.regime, pending.targets))
            if pending.regime is not None and pending.regime != regime:
                periods.append(Period(pending.regime, day, day, pending.reason))
            regime = pending.regime
            if pending.held and periods:
                periods[-1] = replace(periods[-1], held_days=periods[-1].held_days + 1)
        if periods:
            periods[-1] = replace(periods[-1], end=day)
        records.append(Day(day, value, regime, fees, traded, trades))
        if advance is not None:
            advance(i + 1)
    return Simulation(name, tuple(records), tuple(periods), tuple(decisions), tuple(notes.values()))


def _tradable(
    targets: TargetWeights,
    prices: Mapping[str, Decimal],
    day: date,
    first_close: Mapping[str, date],
    notes: dict[str, str],
) -> TargetWeights:
    """Targets with the weight of assets that have no close on `day` moved to cash."""
    weights: dict[str, Decimal] = {}
    for asset, weight in targets.weights.items():
        if asset == CASH_BUCKET or asset in prices:
            weights[asset] = weights.get(asset, Decimal(0)) + weight
            continue
        weights[CASH_BUCKET] = weights.get(CASH_BUCKET, Decimal(0)) + weight
        if asset not in notes:
            first = first_close.get(asset)
            since = f"its history starts {first}" if first else "no close in the history"
            notes[asset] = (
                f"{asset} has no close on {day} ({since}): its target weight stays in cash "
                "until it has one"
            )
    return TargetWeights(weights, targets.source)


def hodl(name: str, closes: pd.DataFrame, settings: BacktestSettings, asset: str) -> Simulation:
    """Everything in `asset` at the first day's close, no fees: value follows the close."""
    series = closes[asset]
    first = series.iloc[0]
    if first != first:  # NaN: not listed on the first day
        raise ConfigError(f"benchmark hodl_{asset.lower()}: no {asset} close on {settings.start}")
    start = _decimal(first)
    units = settings.start_value / start
    days = tuple(
        Day(
            cast("pd.Timestamp", stamp).date(),  # price_table's index: days
            units * _decimal(v),
            None,
            traded=settings.start_value if i == 0 else Decimal(0),
            trades=1 if i == 0 else 0,
        )
        for i, (stamp, v) in enumerate(series.items())
    )
    return Simulation(name, days)


def static_decider(targets: TargetWeights, label: str) -> Decider:
    verdict = Verdict(targets, None, label)
    return lambda _day: verdict


def rules_decider(
    ruleset: RuleSet,
    history: Mapping[str, pd.Series],
    cash_assets: frozenset[str],
    datasets: Mapping[str, object] | None = None,
) -> Decider:
    """The run's stages 3-4 as of each day's close: the one rule engine (`decide`, with
    `min_days` hysteresis, memoised across days) and the run's target choice.

    Args:
        datasets: stored datasets the rules may read (the screen history: each day sees the
            basket known on that day).
    """
    memo: dict[date, str] = {}
    policy = RebalancePolicy(cash_assets=cash_assets)
    config = RunConfig(None, ruleset, policy, date.min)

    def on(day: date) -> Verdict:
        today = replace(config, day=day)
        evaluation = evaluate_rules(today, history_only(day, history, datasets), memo=memo)
        choice = choose_targets(today, evaluation)
        lines = choice.explanation[1:]  # after the rule set's header line
        notes = _basket_notes(lines) | _fallback_notes(evaluation.results)
        return Verdict(choice.targets, choice.regime, _reason(lines), choice.held, notes)

    return on


def _fallback_notes(results: Mapping[str, Any]) -> dict[str, str]:
    """Basket rules answering with their declared fallback basket (said once each)."""
    return {
        f"fallback:{name}": f"{name}: {result.reason}"
        for name, result in results.items()
        if result.inputs.get("fallback") is True
    }


def forced_targets(ruleset: RuleSet, regime: str, cash_assets: frozenset[str]) -> TargetWeights:
    """The targets the run's stages 3-4 choose when `regime` is forced (the `static`
    benchmark: the default regime's targets, whatever the rules say)."""
    policy = RebalancePolicy(cash_assets=cash_assets)
    config = RunConfig(None, ruleset, policy, date.min, force_regime=regime)
    evaluation = evaluate_rules(config, history_only(date.min, {}))
    return choose_targets(config, evaluation).targets


def _basket_notes(explanation: Sequence[str]) -> dict[str, str]:
    """Regimes a replay cannot enter because their basket is unknown (said once each)."""
    out = {}
    for line in explanation:
        text = line.strip().removeprefix("(conditions) ")
        if text.startswith("regime ") and " is true but basket " in text:
            regime = text.split()[1].rstrip(":")
            out[f"basket:{regime}"] = (
                f"{text}; a replay has no exchange or screen data for today's basket, so "
                f"regime {regime} cannot fire in the backtest"
            )
    return out


def _reason(lines: Sequence[str]) -> str:
    """The chosen (or held) regime's line and the rule values under it, on one line."""
    out: list[str] = []
    for line in lines:
        text = line.strip()
        if out and line.startswith("regime "):
            break
        if (line.startswith("regime ") and ("chosen" in text or "held" in text)) or (
            out and not text.startswith("(conditions)")
        ):
            out.append(text)
    return "; ".join(out) or (lines[0].strip() if lines else "")


def parse_benchmark(spec: str) -> TargetWeights:
    """`BTC=0.6,ETH=0.4` -> static target weights (the rest in cash)."""
    weights: dict[str, Decimal] = {}
    for part in spec.replace(" ", "").split(","):
        asset, sep, raw = part.partition("=")
        try:
            weight = Decimal(raw)
        except ArithmeticError:
            weight = Decimal(-1)
        if not sep or not asset or not weight.is_finite() or not 0 <= weight <= 1:
            raise ConfigError(
                f"--benchmark {spec!r}: expected ASSET=WEIGHT[,ASSET=WEIGHT...] with weights "
                "between 0 and 1, e.g. 'BTC=0.6,ETH=0.4'"
            )
        key = CASH_BUCKET if asset.upper() in (CASH_BUCKET, CASH) else asset.upper()
        weights[key] = weights.get(key, Decimal(0)) + weight
    total = sum(weights.values(), Decimal(0))
    if total > 1:
        raise ConfigError(f"--benchmark {spec!r}: weights sum to {total}, more than 1")
    weights[CASH_BUCKET] = weights.get(CASH_BUCKET, Decimal(0)) + (1 - total)
    return TargetWeights(weights, f"benchmark {spec}")


def assets_of(
    ruleset: RuleSet,
    extra: Sequence[TargetWeights] = (),
    datasets: Mapping[str, object] | None = None,
) -> list[str]:
    """Every asset a regime (or a benchmark) targets, plus BTC, without cash and baskets; and
    the members of declared fallback baskets and of stored screens' baskets."""
    rule_names = {spec.name for spec in ruleset.rules}
    names: dict[str, None] = {"BTC": None}
    for regime in ruleset.regimes:
        names.update(dict.fromkeys(regime.targets))
    for targets in extra:
        names.update(dict.fromkeys(targets.weights))
    for spec in ruleset.rules:  # a basket rule's declared fallback is traded like a target
        names.update(dict.fromkeys(getattr(spec.params, "fallback_basket", None) or {}))
    stored = (datasets or {}).get(SCREEN_HISTORY)
    if isinstance(stored, ScreenHistory):
        for screen in stored.screens:
            names.update(dict.fromkeys(screen.basket))
    cash = {CASH_BUCKET, CASH, *RebalancePolicy().cash_assets}
    return [a for a in names if a not in cash and a not in rule_names]


def replay(
    ruleset: RuleSet,
    history: Mapping[str, pd.Series],
    settings: BacktestSettings,
    benchmarks: Sequence[str] = (),
    datasets: Mapping[str, object] | None = None,
    step: Step | None = None,
) -> BacktestResult:
    """The rule set's replay and its benchmarks on history loaded once (pure).

    Args:
        datasets: stored datasets the rules read (`load_backtest_datasets`).
        step: `step(description, days)` gives the callback told each replay's progress.
    """
    extra = [parse_benchmark(spec) for spec in benchmarks]
    closes, first = _market(ruleset, history, settings, extra, datasets)
    cash = settings.policy.cash_assets | {CASH}

    def advance(name: str) -> Callable[[int], None] | None:
        return None if step is None else step(f"replay {name}", len(closes))

    decide = rules_decider(ruleset, history, cash, datasets)
    main = simulate(ruleset.name, closes, settings, decide, first, advance("rule set"))
    default = ruleset.regimes[-1]
    static_targets = forced_targets(ruleset, default.name, cash)
    sims = {
        "hodl_btc": hodl("hodl_btc", closes, settings, "BTC"),
        "static": simulate(
            "static",
            closes,
            settings,
            static_decider(static_targets, f"regime {default.name}"),
            first,
            advance("static"),
        ),
    }
    for spec, targets in zip(benchmarks, extra, strict=True):
        decider = static_decider(targets, spec)
        sims[spec] = simulate(spec, closes, settings, decider, first, advance(spec))
    btc = closes["BTC"].dropna()
    return BacktestResult(settings, ruleset.name, main, sims, btc)


def _market(
    ruleset: RuleSet,
    history: Mapping[str, pd.Series],
    settings: BacktestSettings,
    extra: Sequence[TargetWeights] = (),
    datasets: Mapping[str, object] | None = None,
) -> tuple[pd.DataFrame, dict[str, date]]:
    """The daily price table of every traded asset and each asset's first stored close."""
    import pandas as pd

    if settings.end < settings.start:
        raise ConfigError(f"--from {settings.start} is after --to {settings.end}")
    if settings.every < 1:
        raise ConfigError(f"--every: expected at least 1 day, got {settings.every}")
    days = pd.date_range(settings.start, settings.end, freq="D")
    closes = price_table(history, assets_of(ruleset, extra, datasets), days)
    if "BTC" not in closes.columns or closes["BTC"].isna().all():
        raise MissingHistory(
            f"no BTC closes between {settings.start} and {settings.end} in the market history "
            "(fill it with `rotator history fetch` or `rotator history import`)"
        )
    first = {
        a: series.index[0].date()
        for a in closes.columns
        if (series := history.get(f"close:{a}")) is not None and len(series)
    }
    return closes, first


def simulate_ruleset(
    ruleset: RuleSet,
    history: Mapping[str, pd.Series],
    settings: BacktestSettings,
    decide_on: Decider,
    datasets: Mapping[str, object] | None = None,
) -> Simulation:
    """The rule set's replay alone (what each sweep point runs); `datasets` as for `replay`
    (the stored baskets' members are traded assets too)."""
    closes, first = _market(ruleset, history, settings, (), datasets)
    return simulate(ruleset.name, closes, settings, decide_on, first)


def load_backtest_history(
    engine: Engine,
    ruleset: RuleSet,
    end: date,
    benchmarks: Sequence[str] = (),
    datasets: Mapping[str, object] | None = None,
) -> History:
    """Everything the replay reads, loaded once: the rules' inputs and the target assets' closes."""
    from rotator.adapters.storage.market import load_history

    extra = [parse_benchmark(spec) for spec in benchmarks]
    names = [*ruleset.inputs(), *(f"close:{a}" for a in assets_of(ruleset, extra, datasets))]
    return load_history(engine, names, end)


def load_backtest_datasets(engine: Engine, ruleset: RuleSet, end: date) -> dict[str, object]:
    """The stored screens of the rule set's basket rules up to `end` (empty without any)."""
    from rotator.adapters.storage.screen_history import load_screen_history
    from rotator.core.rules.revenue_screen import DATASET

    names = [spec.name for spec in ruleset.declaring(DATASET)]
    if not names:
        return {}
    return {SCREEN_HISTORY: load_screen_history(engine, names, end)}


def history_span(history: Mapping[str, pd.Series]) -> tuple[date, date] | None:
    """First and last day of the BTC closes, if any."""
    series = history.get("close:BTC")
    if series is None or series.empty:
        return None
    return series.index[0].date(), series.index[-1].date()


def as_json(result: BacktestResult) -> dict[str, Any]:
    """The documented JSON shape (keys exactly as in docs/backtest.md and its schema)."""
    s = result.settings
    return {
        "from": s.start.isoformat(),
        "to": s.end.isoformat(),
        "start_value": float(s.start_value),
        "metrics": _clean(result.main.metrics()),
        "benchmarks": {n: _clean(sim.metrics()) for n, sim in result.benchmarks.items()},
        "regimes": [
            {
                "regime": p.regime,
                "from": p.start.isoformat(),
                "to": p.end.isoformat(),
                "reason": p.why(),
            }
            for p in result.main.periods
        ],
        "equity": [
            {"date": d.day.isoformat(), "value": round(float(d.value), 2), "regime": d.regime}
            for d in result.main.days
        ],
    }


def _clean(metrics: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in metrics.items():
        out[k] = round(v, 6) if isinstance(v, float) else v
    return out


def default_window(
    span: tuple[date, date], start: date | None, end: date | None
) -> tuple[date, date]:
    """`--from`/`--to` defaulting to the stored BTC history's first and last day."""
    first, last = span
    return start or first, end or last


ONE_DAY = timedelta(days=1)
