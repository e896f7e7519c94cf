"""What a dataset loader receives and returns (see rotator.pipeline.gather)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from rotator.config.env import Settings
from rotator.core.clock import Clock
from rotator.core.rules.engine import RuleSpec


@dataclass(frozen=True, slots=True)
class LoadContext:
    """What a dataset loader may use.

    Attributes:
        environ: where API keys are looked up by name.
        settings: the ROTATOR_* variables (source base URLs, caching).
        clock: the run's clock (its `now` is the loaders' as-of; its waits their retries').
        engine: the database whose source cache a loader may use; None: no cache.
        refresh: ignore cached source data.
    """

    environ: Mapping[str, str]
    settings: Settings
    clock: Clock
    engine: Engine | None = None
    refresh: bool = False

    @property
    def now(self) -> datetime:
        """The run's time now."""
        return self.clock.now()


@dataclass(frozen=True, slots=True)
class LoadedDataset:
    """A dataset as its loader produced it.

    Attributes:
        value: what the rules read (`RuleContext.dataset(name, type)` checks its type).
        assets: exchange currency codes the accounts must be asked about for it.
        candidates: every code the dataset names (`rotator screen` shows where each trades).

    A source that could not be read shows in the value itself (the screen's problems): the
    rules reading it then answer unknown, with the reason.
    """

    value: object
    assets: frozenset[str] = frozenset()
    candidates: frozenset[str] = frozenset()


# A loader reads the parameters of the rules declaring its input.
DatasetLoader = Callable[[tuple[RuleSpec, ...], LoadContext], LoadedDataset]
