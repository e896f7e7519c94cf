"""What a backtest replays and what it produced: settings, days, regime periods, results.

Pure records (rotator.pipeline.backtest runs the replay; rotator.reports.backtest renders it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from rotator.core.backtest.metrics import performance
from rotator.core.models import RebalancePolicy, TargetWeights

if TYPE_CHECKING:
    import pandas as pd

METRIC_KEYS = (
    "total_return",
    "cagr",
    "volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "max_drawdown_peak",
    "max_drawdown_trough",
    "calmar",
    "time_under_water_days",
    "turnover",
    "fees",
    "trades",
    "regime_switches",
    "days_in_regime",
)


@dataclass(frozen=True, slots=True)
class BacktestSettings:
    """What to replay and on which terms.

    Attributes:
        every: decide (and so trade) every this many days only.
        slippage_bps: sells fill this many basis points under the close, buys over it.
        policy: the portfolio's rebalance policy (bands, minimums, turnover cap, never-trade).
    """

    start: date
    end: date
    every: int = 1
    start_value: Decimal = Decimal(10_000)
    fee_rate: Decimal = Decimal("0.001")
    slippage_bps: Decimal = Decimal(10)
    policy: RebalancePolicy = field(default_factory=RebalancePolicy)


@dataclass(frozen=True, slots=True)
class Verdict:
    """A decision: the targets, the regime, why, and whether hysteresis holds the regime."""

    targets: TargetWeights
    regime: str | None = None
    reason: str = ""
    held: bool = False
    notes: Mapping[str, str] = field(default_factory=dict)  # said once per key in a replay


@dataclass(frozen=True, slots=True)
class Day:
    """One simulated day: the value at the close, the regime in force, what trading cost."""

    day: date
    value: Decimal
    regime: str | None
    fees: Decimal = Decimal(0)
    traded: Decimal = Decimal(0)
    trades: int = 0


@dataclass(frozen=True, slots=True)
class Period:
    """A stretch of days in one regime and the reason it was entered (rule values)."""

    regime: str
    start: date
    end: date
    reason: str
    held_days: int = 0  # days the regime was held by hysteresis rather than its condition

    def why(self) -> str:
        """The reason, and how many of its days hysteresis (not the condition) held it."""
        if not self.held_days:
            return self.reason
        days = (self.end - self.start).days + 1
        return (
            f"{self.reason}; held by hysteresis (min_days), not by its condition, on "
            f"{self.held_days} of its {days} days"
        )


@dataclass(frozen=True, slots=True)
class Simulation:
    """A replay's days, regime periods, the decisions taken and notes said once."""

    name: str
    days: tuple[Day, ...]
    periods: tuple[Period, ...] = ()
    decisions: tuple[tuple[date, str | None, TargetWeights], ...] = ()
    notes: tuple[str, ...] = ()

    def equity(self) -> pd.Series:
        import pandas as pd

        return pd.Series(
            [float(d.value) for d in self.days],
            index=pd.DatetimeIndex([d.day for d in self.days]),
            dtype=float,
        )

    def between(self, start: date, end: date) -> Simulation:
        """The days from `start` to `end` (inclusive), periods clipped to them."""
        days = tuple(d for d in self.days if start <= d.day <= end)
        periods = tuple(
            replace(p, start=max(p.start, start), end=min(p.end, end))
            for p in self.periods
            if p.end >= start and p.start <= end
        )
        return Simulation(self.name, days, periods, self.decisions, self.notes)

    def metrics(self) -> dict[str, Any]:
        """Every metric key of the JSON output (see rotator.core.backtest.metrics)."""
        equity = self.equity()
        out = performance(equity)
        mean = float(equity.mean())
        traded = float(sum((d.traded for d in self.days), Decimal(0)))
        counts: dict[str, int] = {}
        for d in self.days:
            if d.regime is not None:
                counts[d.regime] = counts.get(d.regime, 0) + 1
        out |= {
            "turnover": traded / mean if mean > 0 else 0.0,
            "fees": float(sum((d.fees for d in self.days), Decimal(0))),
            "trades": sum(d.trades for d in self.days),
            "regime_switches": max(len(self.periods) - 1, 0),
            "days_in_regime": counts,
        }
        return {k: out[k] for k in METRIC_KEYS}


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """The rule set's replay and its benchmarks, with the BTC closes for the charts."""

    settings: BacktestSettings
    ruleset: str
    main: Simulation
    benchmarks: Mapping[str, Simulation]
    btc: pd.Series | None = None
