"""Rule registry: rule kinds are small pure functions registered by name, configured in YAML.

A *rule kind* (e.g. ``prior_high_break``) is a function ``(params, ctx) -> RuleResult``. A *rule*
is a named instance of a kind in a *rule set*, a YAML file (``rules/cycle.yaml``)::

    rules:
      btc_above_prior_high: {kind: prior_high_break, asset: BTC, level: 110000, confirm_closes: 3}

Every key except ``kind`` is validated by the kind's pydantic ``params`` model when the file is
loaded, so a bad parameter is a config error (exit 2) naming file, line and field, never a
surprise at evaluation time.

Writing a rule kind
-------------------
::

    from pydantic import Field
    from rotator.core.rules.registry import Params, RuleContext, RuleResult, rule

    class DominanceLevelParams(Params):
        above: float = Field(gt=0, lt=100)
        max_age: int = Field(3, ge=0, description="days a value may be old before 'unknown'")

    @rule("dominance_level", params=DominanceLevelParams, inputs=("btc_dominance",))
    def dominance_level(p: DominanceLevelParams, ctx: RuleContext) -> RuleResult:
        \"\"\"True while BTC dominance is above `p.above` percent.\"\"\"
        series = ctx.series("btc_dominance", max_age=p.max_age)
        last = float(series.iloc[-1])
        return RuleResult.of(last > p.above, f"dominance {last:.1f}% vs {p.above}%",
                             inputs={"dominance_pct": round(last, 2)}, as_of=series.index[-1])

- ``inputs`` names the daily series the kind reads (see rotator.core.history for the names the
  market store serves: ``close:BTC``, ``btc_dominance``, ``fred:WALCL``...). Entries may hold
  ``{param}`` placeholders filled from the params (``"close:{asset}"``), or be a callable
  ``params -> tuple[str, ...]``. The pipeline loads exactly these series once, up front, into
  ``Snapshot.history``; a rule never fetches anything.
- ``ctx.series(name, max_age=...)`` returns the series up to the evaluation day, each value
  only from its publication day (``lag_days``, default per series: rotator.core.publication);
  when it is missing, empty, or its newest value is older than ``max_age`` days it raises
  ``MissingInput``,
  which the evaluator turns into ``RuleResult.unknown(reason)``: missing data is never true/false.
  ``ctx.observed(...)`` takes the same arguments and gives the same values as numpy arrays
  (``Observed``), without building pandas objects: the built-in kinds a replay runs on every
  day read their series that way.
- ``lookback`` (optional) is a callable ``params -> days`` (or ``-> {series: days}`` when its
  inputs differ): how many days of history before the evaluation day the kind reads with these
  parameters (``lambda p: p.window``). `rotator history
  fetch` reaches back that far and `rotator check` reports a series shorter than it as ``short``.
- A kind that refers to other rules (like ``all``/``any``/``not``) gives its params model a
  ``references() -> tuple[str, ...]`` method; the loader checks the names exist and rejects cycles,
  and the evaluator runs referenced rules first; read their results with ``ctx.result(name)``.
- Kinds that need more than daily series declare a dataset input, ``"dataset:<name>"`` (e.g.
  ``revenue_screen`` declares ``dataset:revenue_screen``); the pipeline's loader for that name
  (rotator.pipeline.gather) fetches it once, up front, into ``Snapshot.datasets``, and the rule
  reads it with ``ctx.dataset(name, Type)``: absent (replays, ``rotator signals``) it raises
  ``MissingInput``. ``ctx.snapshot`` (holdings, markets, quotes) is always there; in replays and
  ``rotator signals`` it holds no accounts. A new data-backed kind is one module here plus one
  loader there. An answer computed from the dataset alone, whatever the day, is returned
  through ``ctx.once(compute)``: the days ``min_days`` looks back on reuse it.

Baskets
-------
A kind may answer with a weighted basket of assets instead of (or as well as) a yes/no::

    return RuleResult.with_basket({"ETH": Decimal("0.6"), "SOL": Decimal("0.4")},
                                  "2 of 14 candidates pass the screen", inputs={...})

A regime's targets can then name the rule instead of an asset; the regime's weight for it is
spread over the basket in proportion to the basket weights (they need not sum to 1)::

    regimes:
      - name: rotate
        when: {all: [btc_above_prior_high, dominance_rolling_over]}
        targets: {BTC: 0.55, revenue_basket: 0.25, CASH: 0.20}

If the basket is unknown or empty the regime does not fire (the explanation says why) and the
next regime is tried: a rotation never aims at a basket that could not be established.

Registering
-----------
``@rule`` adds the kind to the process-wide ``REGISTRY`` at import time; it is never mutated
afterwards. Built-in kinds are the modules listed in ``BUILTIN_RULE_MODULES``; a new kind's module
is added to that tuple (one line) so ``default_registry()`` imports it. Tests may build their own
``Registry()`` and register with ``registry.rule(...)``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ConfigDict

from rotator.core.history import History, day_ns, ns_day, series_arrays, series_stamps
from rotator.core.models import Snapshot

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

T = TypeVar("T")
DATASET_PREFIX = "dataset:"

# Modules whose import registers the built-in rule kinds (add yours here).
BUILTIN_RULE_MODULES: tuple[str, ...] = (
    "rotator.core.rules.combinators",
    "rotator.core.rules.prior_high",
    "rotator.core.rules.dominance",
    "rotator.core.rules.liquidity",
    "rotator.core.rules.revenue_screen",
    "rotator.core.rules.bond_volatility",
    "rotator.core.rules.treasury_buybacks",
    "rotator.core.rules.fed_accounts",
)


class Params(BaseModel):
    """Base for rule parameter models: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    def references(self) -> tuple[str, ...]:
        """Names of other rules this rule reads (combinators override this)."""
        return ()


class MissingInput(Exception):
    """An input series is missing or stale; the evaluator turns it into an unknown result."""


def _plain(value: Any) -> Any:
    """Make an input value JSON-friendly: numpy/Decimal numbers -> float, dates -> ISO text."""
    if isinstance(value, bool | str | int) or value is None:
        return value
    if isinstance(value, datetime | date):
        return value.date().isoformat() if isinstance(value, datetime) else value.isoformat()
    if hasattr(value, "isoformat"):  # pandas Timestamp
        return value.date().isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def _day(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return value.date()  # pandas Timestamp


@dataclass(frozen=True, slots=True)
class RuleResult:
    """A rule's answer: true, false or unknown (None), always with a reason a person can read.

    Attributes:
        value: True / False, or None meaning unknown (inputs missing or stale).
        reason: one line saying why, e.g. "BTC closed above 19,665 for 3 days (+4.2 %)".
        inputs: key inputs for display and storage (JSON-friendly values).
        as_of: date of the newest observation the answer rests on (None when unknown).
        basket: asset -> weight, for kinds that select assets (regime targets may reference it).
    """

    value: bool | None
    reason: str
    inputs: Mapping[str, Any] = field(default_factory=dict)
    as_of: date | None = None
    basket: Mapping[str, Decimal] | None = None

    @classmethod
    def of(
        cls, value: bool, reason: str, inputs: Mapping[str, Any] | None = None, as_of: Any = None
    ) -> RuleResult:
        """A known answer (numpy booleans accepted)."""
        return cls(bool(value), reason, _plain(dict(inputs or {})), _day(as_of))

    @classmethod
    def unknown(
        cls, reason: str, inputs: Mapping[str, Any] | None = None, as_of: Any = None
    ) -> RuleResult:
        """No answer: inputs missing or stale. Regimes never fire on it."""
        return cls(None, reason, _plain(dict(inputs or {})), _day(as_of))

    @classmethod
    def with_basket(
        cls,
        basket: Mapping[str, Decimal],
        reason: str,
        inputs: Mapping[str, Any] | None = None,
        as_of: Any = None,
    ) -> RuleResult:
        """A basket answer; value is True when the basket holds at least one positive weight."""
        clean = {str(a).upper(): Decimal(str(w)) for a, w in basket.items() if Decimal(str(w)) > 0}
        return cls(bool(clean), reason, _plain(dict(inputs or {})), _day(as_of), clean)

    @property
    def state(self) -> str:
        """ "true", "false" or "unknown" (how it is stored and printed)."""
        return "unknown" if self.value is None else ("true" if self.value else "false")


RuleFunc = Callable[[Any, "RuleContext"], RuleResult]
InputsSpec = tuple[str, ...] | Callable[[Any], Iterable[str]]
LookbackSpec = Callable[[Any], int | Mapping[str, int]] | None


@dataclass(frozen=True, slots=True)
class RuleKind:
    """A registered rule kind: its function, parameter model and declared inputs."""

    name: str
    func: RuleFunc
    params: type[Params]
    inputs: InputsSpec = ()
    doc: str = ""
    lookback: LookbackSpec = None

    def lookback_days(self, params: Params) -> dict[str, int]:
        """Input series -> days of history before the evaluation day this kind reads with
        these parameters.

        `rotator history fetch` reaches back this far and `rotator check` calls a shorter stored
        series `short`; 0 for kinds that declare none (combinators, datasets).
        """
        inputs = self.inputs_for(params)
        declared = 0 if self.lookback is None else self.lookback(params)
        if isinstance(declared, Mapping):
            return {name: max(int(declared.get(name, 0)), 0) for name in inputs}
        return dict.fromkeys(inputs, max(int(declared), 0))

    def inputs_for(self, params: Params) -> tuple[str, ...]:
        """The series names this kind reads with these parameters."""
        if callable(self.inputs):
            return tuple(self.inputs(params))
        values = params.model_dump()
        return tuple(name.format(**values) for name in self.inputs)


class Registry:
    """Rule kinds by name. Filled at import by `@rule`; tests may create their own."""

    def __init__(self) -> None:
        self._kinds: dict[str, RuleKind] = {}

    def rule(
        self,
        name: str,
        *,
        params: type[Params],
        inputs: InputsSpec = (),
        lookback: LookbackSpec = None,
    ) -> Callable[[RuleFunc], RuleFunc]:
        """Decorator registering `func` as rule kind `name` (see module docstring)."""

        def register(func: RuleFunc) -> RuleFunc:
            if name in self._kinds and self._kinds[name].func is not func:
                raise ValueError(f"rule kind {name!r} is registered twice")
            doc = (func.__doc__ or "").strip().splitlines()
            first = doc[0] if doc else ""
            self._kinds[name] = RuleKind(name, func, params, inputs, first, lookback)
            return func

        return register

    def get(self, name: str) -> RuleKind | None:
        return self._kinds.get(name)

    def kinds(self) -> tuple[str, ...]:
        return tuple(sorted(self._kinds))

    def __contains__(self, name: object) -> bool:
        return name in self._kinds


REGISTRY = Registry()


def rule(
    name: str, *, params: type[Params], inputs: InputsSpec = (), lookback: LookbackSpec = None
) -> Callable[[RuleFunc], RuleFunc]:
    """Register a rule kind in the process-wide registry (see module docstring)."""
    return REGISTRY.rule(name, params=params, inputs=inputs, lookback=lookback)


def default_registry() -> Registry:
    """The process-wide registry with every built-in rule kind imported."""
    for module in BUILTIN_RULE_MODULES:
        importlib.import_module(module)
    return REGISTRY


@dataclass(frozen=True, slots=True)
class Observed:
    """A series as public on the evaluation day (RuleContext.observed), as numpy arrays.

    Attributes:
        name: the series name.
        stamps: reference days, int64 nanoseconds since the epoch (midnight), ascending.
        values: the values as floats (NaN where the store has none).
    """

    name: str
    stamps: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.stamps)

    def day(self, position: int) -> date:
        """The reference day of the value at `position` (negative counts from the end)."""
        return ns_day(self.stamps[position])

    def known(self) -> Observed:
        """The days that have a value (NaN dropped, as pandas' `dropna` does)."""
        import numpy as np

        keep = ~np.isnan(self.values)
        return Observed(self.name, self.stamps[keep], self.values[keep])

    def on_or_before(self, day: date) -> int:
        """The position of the last value on or before `day`; -1 when there is none."""
        import numpy as np

        return int(np.searchsorted(self.stamps, day_ns(day), side="right")) - 1

    def since(self, day: date) -> int:
        """The position of the first value on or after `day` (len(self) when there is none)."""
        import numpy as np

        return int(np.searchsorted(self.stamps, day_ns(day), side="left"))


@dataclass(frozen=True, slots=True)
class RuleContext:
    """What a rule function may read: history up to `as_of`, earlier results, the snapshot.

    Attributes:
        as_of: the evaluation day; data after it is invisible to `series`.
        history: series name -> daily series (may extend past `as_of` in replays).
        results: results of the rules evaluated before this one (for references).
        rule: the name of the rule being evaluated (keys its stored screens, say).
        snapshot: the run's snapshot: accounts and declared datasets (in replays and
            `rotator signals` it has no accounts and no datasets).
        shared: what `once` computed, kept for the other days evaluated on the same snapshot
            and rule set (the days `min_days` looks back on); a fresh mapping by default.
    """

    as_of: date
    history: Mapping[str, pd.Series]
    snapshot: Snapshot
    results: Mapping[str, RuleResult] = field(default_factory=dict)
    rule: str = ""
    shared: MutableMapping[str, object] = field(default_factory=dict)

    def once(self, compute: Callable[[], RuleResult]) -> RuleResult:
        """This rule's result from `compute()`, computed once per snapshot and rule set.

        For an answer that depends on the snapshot and the rule's parameters alone, never on
        `as_of` (a basket screened from the run's gathered data): the days `min_days` looks
        back on see the same snapshot, so they get the first day's result instead of a new
        computation.
        """
        key = f"once:{self.rule}"
        if key not in self.shared:
            self.shared[key] = compute()
        result = self.shared[key]
        assert isinstance(result, RuleResult)
        return result

    def dataset(self, name: str, kind: type[T]) -> T:
        """The declared dataset input `name` (e.g. "dataset:revenue_screen") of type `kind`.

        Raises:
            MissingInput: the run did not gather it (replays, `rotator signals`).
            TypeError: its loader produced something else (a programming error).
        """
        value = self.snapshot.datasets.get(name)
        if value is None:
            raise MissingInput(
                f"{name} not gathered (only `rotator plan` and `rotator screen` fetch it)"
            )
        if not isinstance(value, kind):
            raise TypeError(f"{name}: expected {kind.__name__}, got {type(value).__name__}")
        return value

    def series(
        self,
        name: str,
        max_age: int | None = None,
        days: int | None = None,
        lag_days: int | None = None,
    ) -> pd.Series:
        """The series `name` as it was public at `as_of`'s close, optionally its last `days` days.

        Values are indexed by their reference date; one is included only when it was published
        by `as_of` (reference date + `lag_days` US business days, rotator.core.publication;
        None = the series' default lag). `max_age` and `days` count from `as_of`.

        Raises:
            MissingInput: no such series, no value published by `as_of`, or the newest
                published value is more than `max_age` days older than `as_of`.
        """
        full = self.history.get(name)
        stamps = None
        if full is not None:
            history = self.history
            stamps = (
                history.arrays(name)[0] if isinstance(history, History) else series_stamps(full)
            )
        start, stop = self._bounds(name, stamps, max_age, days, lag_days)
        assert full is not None
        return full.iloc[start:stop]

    def observed(
        self,
        name: str,
        max_age: int | None = None,
        days: int | None = None,
        lag_days: int | None = None,
    ) -> Observed:
        """`series` as numpy arrays: the same days and values, without a pandas object (what
        rules a replay runs on every day read). Raises MissingInput as `series` does."""
        full = self.history.get(name)
        stamps, values = (None, None) if full is None else self._arrays(name, full)
        start, stop = self._bounds(name, stamps, max_age, days, lag_days)
        assert stamps is not None and values is not None
        return Observed(name, stamps[start:stop], values[start:stop])

    def _arrays(self, name: str, full: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(self.history, History):
            return self.history.arrays(name)
        return series_arrays(full)

    def _bounds(
        self,
        name: str,
        stamps: np.ndarray | None,
        max_age: int | None,
        days: int | None,
        lag_days: int | None,
    ) -> tuple[int, int]:
        """The positions [start, stop) of the series' values `series` returns."""
        import numpy as np

        from rotator.core.publication import default_lag, visible_through

        if stamps is None or len(stamps) == 0:
            raise MissingInput(f"no {name} history (run `rotator history fetch` or import it)")
        lag = default_lag(name) if lag_days is None else lag_days
        cutoff = visible_through(self.as_of, lag)
        stop = int(np.searchsorted(stamps, day_ns(cutoff), side="right"))
        if stop == 0:
            first = ns_day(stamps[0])
            when = f"published by {self.as_of} (lag {lag} bd)" if lag else f"on or before {cutoff}"
            raise MissingInput(f"no {name} value {when}; history starts {first}")
        newest = ns_day(stamps[stop - 1])
        age = (self.as_of - newest).days
        if max_age is not None and age > max_age:
            raise MissingInput(
                f"{name} is stale: newest value {newest} is {age} days old (max_age {max_age})"
            )
        start = 0
        if days is not None:
            first_day = day_ns(self.as_of - timedelta(days=days - 1))
            start = int(np.searchsorted(stamps, first_day, side="left"))
        return start, stop

    def result(self, name: str) -> RuleResult:
        """The result of an earlier-evaluated rule this rule references."""
        return self.results[name]
