"""`rotator backtest --sweep`: a grid of rule-parameter overrides, each point a full replay.

The grid comes from a sweep file (rotator.config.sweep); every point is the rule set with some
parameters replaced (validated like a rule-set file) and replayed by
rotator.pipeline.backtest exactly like a single backtest. Points run on local processes
(`concurrent.futures.ProcessPoolExecutor`, history sent once per worker) or, with
`dask_address`, as tasks on an existing Dask distributed scheduler (history scattered once).
The result rows are ranked by one metric of the in-sample part; with a split day the
out-of-sample part (from that day on, the regime state carried over) is reported beside it.

A sweep needs no credential. Local workers drop, from their environment, every ROTATOR_*
variable, every variable the configuration names (`*_env`) and every variable whose name looks
like a credential (`scrub_environment`). A Dask cluster is different: its scheduler and workers
send back pickled results, which run code inside rotator's process, so a cluster must be
trusted. `check_dask_address` refuses a scheduler that is neither on this machine (loopback)
nor reached over TLS unless the user says `--trust-cluster`, and `rotator backtest` scrubs its
own environment before it connects.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
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
    datasets: Mapping[str, object] | None = None,
) -> SweepRow:
    """Replay one grid point (the rule set only, no benchmarks) and summarise it.

    `datasets` are the stored datasets the rules read (the screen history), as for one replay:
    every point sees the basket stored on or before each day."""
    from rotator.pipeline.backtest import rules_decider, simulate_ruleset

    variant = apply_point(ruleset, point)
    cash = settings.policy.cash_assets | {"USD"}
    decide = rules_decider(variant, history, cash, datasets)
    sim = simulate_ruleset(variant, history, settings, decide, datasets)
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


# Variable names that look like credentials (API keys, secrets, tokens, passwords, secret URLs).
CREDENTIAL_NAME = re.compile(
    r"(?i)key|secret|token|passw|passphrase|auth|credential|private|rpc|webhook|dsn|db_url"
)


def scrub_environment(
    named: Iterable[str] = (), environ: MutableMapping[str, str] | None = None
) -> list[str]:
    """Remove from `environ` (default: this process's) what sweep work must never see.

    That is every ROTATOR_* variable, every variable in `named` (the `*_env` names of the
    configuration) and every variable whose name looks like a credential. Returns the names
    removed (never their values).
    """
    env = os.environ if environ is None else environ
    named = set(named)
    gone = [
        name
        for name in list(env)
        if name.startswith("ROTATOR_") or name in named or CREDENTIAL_NAME.search(name)
    ]
    for name in gone:
        env.pop(name, None)
    return sorted(gone)


LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def check_dask_address(address: str, *, trust: bool = False) -> None:
    """Refuse a Dask scheduler that is neither loopback nor TLS, unless `trust`.

    Raises:
        ConfigError: the address is remote and unencrypted (tcp://, ws://, no scheme) and the
            user did not pass --trust-cluster.
    """
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "tcp", address
    if scheme.lower() in ("tls", "wss", "inproc") or trust:
        return
    host = rest.rsplit(":", 1)[0] if rest.count(":") == 1 or rest.startswith("[") else rest
    host = host.strip("[]").split("/")[0]
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host.lower() in LOOPBACK_NAMES
    if not loopback:
        raise ConfigError(
            f"--dask {address}: refusing a scheduler on another machine over plain {scheme}. "
            "A Dask scheduler and its workers run code inside rotator's process (results come "
            "back pickled): use a tls:// address of a cluster you control, or pass "
            "--trust-cluster if you trust this one and its network"
        )


# Local processes: each worker receives the rule set, history and settings once.
_WORKER: dict[str, Any] = {}


def _init_worker(
    ruleset: RuleSet,
    history: Any,
    settings: Any,
    split: date | None,
    secret_names: tuple[str, ...] = (),
    datasets: Mapping[str, object] | None = None,
) -> None:
    scrub_environment(secret_names)  # a forked worker starts with a copy of our environment
    _WORKER.update(
        ruleset=ruleset, history=history, settings=settings, split=split, datasets=datasets
    )


def _worker_point(point: Point) -> SweepRow:
    w = _WORKER
    return run_point(w["ruleset"], w["history"], w["settings"], w["split"], point, w["datasets"])


def run_local(
    ruleset: RuleSet,
    history: Mapping[str, pd.Series],
    settings: BacktestSettings,
    points: Sequence[Point],
    *,
    split: date | None = None,
    workers: int | None = None,
    advance: Callable[[int], None] | None = None,
    secret_names: Sequence[str] = (),
    datasets: Mapping[str, object] | None = None,
) -> list[SweepRow]:
    """Every point on `workers` local processes (default: all cores); 1 runs in-process.

    `advance` is told how many points are done as results come in (a progress display). Each
    worker first removes credentials from its environment (`scrub_environment`, with
    `secret_names`: the variables the configuration names).
    """
    count = workers or os.cpu_count() or 1
    rows: list[SweepRow] = []

    def done(row: SweepRow) -> None:
        rows.append(row)
        if advance is not None:
            advance(len(rows))

    if count == 1:
        for p in points:
            done(run_point(ruleset, history, settings, split, p, datasets))
        return rows
    with ProcessPoolExecutor(
        max_workers=min(count, len(points)) or 1,
        initializer=_init_worker,
        initargs=(ruleset, dict(history), settings, split, tuple(secret_names), datasets),
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
    trust: bool = False,
    datasets: Mapping[str, object] | None = None,
) -> list[SweepRow]:
    """Every point as a task on an existing Dask distributed scheduler (`rotator[dask]`).

    The cluster runs code in this process (pickled results): the address must be loopback or
    TLS unless `trust`. `rotator backtest` removes its credentials from its environment
    (`scrub_environment`) before it calls this.

    Args:
        address: the scheduler's address ("tcp://10.0.0.5:8786") or a `distributed.Client`.
        trust: the user passed --trust-cluster.
    """
    if isinstance(address, str):
        check_dask_address(address, trust=trust)
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
            [datasets] * n,
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
