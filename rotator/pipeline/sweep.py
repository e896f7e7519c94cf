"""`rotator backtest --sweep`: a grid of rule-parameter overrides, each point a full replay.

The grid comes from a sweep file (rotator.config.sweep); every point is the rule set with some
parameters replaced (validated like a rule-set file) and replayed by
rotator.pipeline.backtest exactly like a single backtest. Points run on local processes
(`concurrent.futures.ProcessPoolExecutor`, history sent once per worker) or, with
`dask_address`, as tasks on an existing Dask distributed scheduler (history scattered once).
The result rows are ranked by one metric of the in-sample part; with a split day the
out-of-sample part (from that day on, the regime state carried over) is reported beside it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from rotator.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from rotator.core.rules.engine import RuleSet
    from rotator.pipeline.backtest import BacktestSettings, Simulation

Point = Mapping[str, Any]  # "rule.param" or "regime.min_days" -> value
SHOWN = ("total_return", "cagr", "sharpe", "max_drawdown", "calmar", "regime_switches", "fees")


@dataclass(frozen=True, slots=True)
class SweepRow:
    """One grid point: its overrides and the metrics of the in- and out-of-sample parts."""

    point: Mapping[str, Any]
    in_sample: Mapping[str, Any]
    out_of_sample: Mapping[str, Any] | None = None
    equity: tuple[float, ...] = ()  # every day's close value (walk-forward, deflated Sharpe)


def apply_point(ruleset: RuleSet, point: Point) -> RuleSet:
    """The rule set with the point's parameters replaced, validated by each params model.

    Keys: `rule.param` (a rule's parameter) or `regime.min_days` (a regime's hysteresis).

    Raises:
        ConfigError: unknown rule, regime or parameter, or a value the model rejects.
    """
    from pydantic import ValidationError

    specs = {s.name: s for s in ruleset.rules}
    regimes = {r.name: r for r in ruleset.regimes}
    updates: dict[str, dict[str, Any]] = {}
    min_days: dict[str, int] = {}
    for key, value in point.items():
        owner, _, param = key.rpartition(".")
        if owner in regimes and param == "min_days":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 365:
                raise ConfigError(f"{key}: expected whole days between 0 and 365, got {value!r}")
            min_days[owner] = value
        elif owner in specs:
            if param not in type(specs[owner].params).model_fields:
                raise ConfigError(f"{key}: rule {owner} ({specs[owner].kind}) has no {param!r}")
            updates.setdefault(owner, {})[param] = value
        else:
            raise ConfigError(
                f"{key}: expected RULE.PARAMETER or REGIME.min_days; rules: "
                f"{', '.join(specs)}; regimes: {', '.join(regimes)}"
            )
    rules = []
    for spec in ruleset.rules:
        if spec.name in updates:
            model = type(spec.params)
            try:
                params = model.model_validate({**spec.params.model_dump(), **updates[spec.name]})
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                raise ConfigError(f"{spec.name}.{where}: {first['msg']}") from None
            spec = replace(spec, params=params)
        rules.append(spec)
    new_regimes = tuple(
        replace(r, min_days=min_days[r.name]) if r.name in min_days else r for r in ruleset.regimes
    )
    return replace(ruleset, rules=tuple(rules), regimes=new_regimes)


def run_point(
    ruleset: RuleSet,
    history: Mapping[str, pd.Series],
    settings: BacktestSettings,
    split: date | None,
    point: Point,
) -> SweepRow:
    """Replay one grid point (the rule set only, no benchmarks) and summarise it."""
    from rotator.pipeline.backtest import rules_decider, simulate_ruleset

    variant = apply_point(ruleset, point)
    cash = settings.policy.cash_assets | {"USD"}
    sim = simulate_ruleset(variant, history, settings, rules_decider(variant, history, cash))
    return summarise(point, sim, settings, split)


def summarise(
    point: Point, sim: Simulation, settings: BacktestSettings, split: date | None
) -> SweepRow:
    """Metrics of the whole run, or of its parts before and from `split`, and its equity."""
    equity = tuple(float(d.value) for d in sim.days)
    if split is None:
        return SweepRow(dict(point), _shown(sim.metrics()), equity=equity)
    before = sim.between(settings.start, split - timedelta(days=1))
    after = sim.between(split, settings.end)
    return SweepRow(dict(point), _shown(before.metrics()), _shown(after.metrics()), equity)


def _shown(metrics: Mapping[str, Any]) -> dict[str, Any]:
    return {k: metrics[k] for k in SHOWN}


# Local processes: each worker receives the rule set, history and settings once.
_WORKER: dict[str, Any] = {}


def _init_worker(ruleset: RuleSet, history: Any, settings: Any, split: date | None) -> None:
    _WORKER.update(ruleset=ruleset, history=history, settings=settings, split=split)


def _worker_point(point: Point) -> SweepRow:
    w = _WORKER
    return run_point(w["ruleset"], w["history"], w["settings"], w["split"], point)


def run_local(
    ruleset: RuleSet,
    history: Mapping[str, pd.Series],
    settings: BacktestSettings,
    points: Sequence[Point],
    *,
    split: date | None = None,
    workers: int | None = None,
    advance: Callable[[int], None] | None = None,
) -> list[SweepRow]:
    """Every point on `workers` local processes (default: all cores); 1 runs in-process.

    `advance` is told how many points are done as results come in (a progress display)."""
    count = workers or os.cpu_count() or 1
    rows: list[SweepRow] = []

    def done(row: SweepRow) -> None:
        rows.append(row)
        if advance is not None:
            advance(len(rows))

    if count == 1:
        for p in points:
            done(run_point(ruleset, history, settings, split, p))
        return rows
    with ProcessPoolExecutor(
        max_workers=min(count, len(points)) or 1,
        initializer=_init_worker,
        initargs=(ruleset, dict(history), settings, split),
    ) as pool:
        for row in pool.map(_worker_point, points):
            done(row)
    return rows


def run_dask(
    ruleset: RuleSet,
    history: Mapping[str, pd.Series],
    settings: BacktestSettings,
    points: Sequence[Point],
    *,
    address: Any,
    split: date | None = None,
) -> list[SweepRow]:
    """Every point as a task on an existing Dask distributed scheduler (`rotator[dask]`).

    Args:
        address: the scheduler's address ("tcp://10.0.0.5:8786") or a `distributed.Client`.
    """
    try:
        from distributed import Client
    except ImportError:
        raise ConfigError(
            "--dask needs the Dask distributed client: pip install 'rotator[dask]'"
        ) from None
    own = not isinstance(address, Client)
    try:
        client = Client(address, timeout="10s") if own else address
    except OSError as exc:
        raise ConfigError(f"--dask {address}: cannot reach the scheduler ({exc})") from None
    try:
        shared = client.scatter([ruleset, dict(history), settings], broadcast=True)
        n = len(points)
        futures = client.map(
            run_point,
            *([future] * n for future in shared),
            [split] * n,
            list(points),
            pure=False,
            key=[f"rotator-sweep-{i}" for i in range(len(points))],
        )
        return list(client.gather(futures))
    finally:
        if own:
            client.close()


def rank(rows: Sequence[SweepRow], by: str) -> list[SweepRow]:
    """Best first by the in-sample `by` metric (a missing value ranks last)."""
    key: Callable[[SweepRow], tuple[bool, float]] = lambda r: (  # noqa: E731
        r.in_sample.get(by) is None,
        -(r.in_sample.get(by) or 0.0),
    )
    return sorted(rows, key=key)
