"""Declared inputs and their loaders: a data-backed rule kind is one module plus one loader.

A rule kind built here (in its own registry, as a plugin would) declares `dataset:fear_greed`;
stage 2 serves it with the loader registered for that name, stage 3 evaluates the rule on the
snapshot that carries it. Without a loader the run stops with a ConfigError naming the input;
without the dataset (replays, `rotator signals`) the rule is unknown, never true or false.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from fake_clock import FakeClock

from rotator.config.env import read_settings
from rotator.core.models import Snapshot
from rotator.core.rules.engine import RuleSet, RuleSpec, evaluate
from rotator.core.rules.registry import Params, Registry, RuleContext, RuleResult
from rotator.errors import ConfigError
from rotator.pipeline.gather import DATASET_LOADERS, load_inputs
from rotator.pipeline.loading import LoadContext, LoadedDataset

DAY = date(2025, 3, 1)
NOW = datetime(2025, 3, 1, 7, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class FearGreed:
    value: int
    as_of: date


class FearParams(Params):
    below: int = 25


def fear_registry() -> Registry:
    registry = Registry()

    @registry.rule("extreme_fear", params=FearParams, inputs=("dataset:fear_greed",))
    def extreme_fear(p: FearParams, ctx: RuleContext) -> RuleResult:
        """True while the fear & greed index is below `p.below`."""
        index = ctx.dataset("dataset:fear_greed", FearGreed)
        return RuleResult.of(index.value < p.below, f"index {index.value}", as_of=index.as_of)

    return registry


def one_rule(below: int = 25) -> RuleSet:
    spec = RuleSpec("fear", "extreme_fear", FearParams(below=below))
    return RuleSet("test", (spec,), (), fear_registry())


def context() -> LoadContext:
    return LoadContext(
        environ={}, settings=read_settings({}), clock=FakeClock(NOW, frozen=True).clock
    )


def test_a_declared_dataset_is_served_by_its_loader_and_read_by_the_rule() -> None:
    seen = []

    def load_fear(specs: tuple[RuleSpec, ...], ctx: LoadContext) -> LoadedDataset:
        seen.append(tuple(s.name for s in specs))
        return LoadedDataset(value=FearGreed(12, ctx.now.date()), assets=frozenset({"BTC"}))

    ruleset = one_rule()
    assert ruleset.dataset_inputs() == ("dataset:fear_greed",)
    assert ruleset.series_inputs() == ()
    inputs = load_inputs(
        ruleset,
        day=DAY,
        engine=None,
        context=context(),
        loaders={**DATASET_LOADERS, "dataset:fear_greed": load_fear},
    )
    assert seen == [("fear",)]  # the loader got the parameters of the rule declaring it
    assert inputs.assets == frozenset({"BTC"})  # asked of the exchange accounts with the rest
    snapshot = Snapshot(NOW, "USD", (), datasets={n: d.value for n, d in inputs.datasets.items()})
    result = evaluate(ruleset, {}, DAY, snapshot)["fear"]
    assert (result.value, result.reason, result.as_of) == (True, "index 12", DAY)


def test_a_declared_dataset_without_a_loader_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no loader for declared input 'dataset:fear_greed'"):
        load_inputs(one_rule(), day=DAY, engine=None, context=context())


def test_a_rule_without_its_dataset_is_unknown() -> None:
    result = evaluate(one_rule(), {}, DAY)["fear"]
    assert result.value is None
    assert "dataset:fear_greed not gathered" in result.reason
