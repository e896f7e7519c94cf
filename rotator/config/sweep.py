"""The sweep file of `rotator backtest --sweep`: a grid of rule-parameter overrides.

```yaml
grid:                                      # every combination is one backtest
  btc_above_prior_high.confirm_closes: [1, 3, 5]
  btc_above_prior_high.margin_pct: [0, 1, 5]
  rotate.min_days: [0, 30]                 # REGIME.min_days
rank_by: sharpe                            # a metric of the in-sample part (default sharpe)
```
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rotator.config.yamlfile import location, read_yaml, validate
from rotator.errors import ConfigError

RankBy = Literal["total_return", "cagr", "sharpe", "calmar", "max_drawdown"]
MAX_POINTS = 10_000


class SweepFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grid: dict[str, list[Any]] = Field(min_length=1)
    rank_by: RankBy = "sharpe"

    @field_validator("grid")
    @classmethod
    def _values(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in grid.items():
            if not values:
                raise ValueError(f"{key}: give at least one value")
        return grid

    def points(self) -> list[dict[str, Any]]:
        keys = list(self.grid)
        return [
            dict(zip(keys, combo, strict=True)) for combo in itertools.product(*self.grid.values())
        ]


def load_sweep(path: Path) -> SweepFile:
    """Read and validate a sweep file (errors name file, line and field, exit 2)."""
    raw, root = read_yaml(path)
    sweep = validate(SweepFile, raw, path, root)
    count = len(sweep.points())
    if count > MAX_POINTS:
        raise ConfigError(
            f"{location(path, root, ('grid',))}: {count} points, at most {MAX_POINTS}"
        )
    return sweep
