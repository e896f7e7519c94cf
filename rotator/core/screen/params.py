"""Parameters of the revenue screen (`revenue_screen` rule kind), validated when a rule set loads.

Kept apart from rotator.core.screen.screening so loading a rule set (and `rotator check`) does
not import pandas.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from rotator.core.rules.registry import Params


class ScreenParams(Params):
    """Parameters of the screen, as written in the rule set (all validated).

    Fractions are fractions (0.03 = 3 %); money is in USD.
    """

    min_revenue_yield: float = Field(0.02, ge=0, le=5)
    min_holders_revenue: float = Field(1_000_000, ge=0)
    min_market_cap: float = Field(50_000_000, ge=0)
    min_volume: float = Field(1_000_000, ge=0)
    max_emission_share: float = Field(0.5, ge=0, le=1)
    require_staking_pool: bool = False
    max_revenue_decline: float = Field(0.3, ge=0, le=1)
    max_decline_vs_90d: float | None = Field(None, ge=0, le=1)
    max_fdv_ratio: float | None = Field(None, ge=1)
    max_supply_inflation: float | None = Field(None, ge=0)
    max_data_age_hours: float = Field(48, gt=0)
    quotes: tuple[str, ...] = ("USDT", "USDC", "USD", "BTC")
    require_tradable: bool = True
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    symbols: dict[str, str] = Field(default_factory=dict)
    rank_by: Literal["revenue_yield", "holders_revenue", "score"] = "revenue_yield"
    score: dict[str, float] = Field(default_factory=dict)
    weighting: Literal["equal", "revenue_yield", "market_cap"] = "revenue_yield"
    max_weight: float = Field(0.35, gt=0, le=1)
    max_count: int = Field(8, ge=1, le=100)
    # Replays (`rotator signals`, `rotator backtest`): the basket stored by `rotator screen`.
    history_max_age_days: int = Field(35, ge=0, le=366)
    fallback_basket: dict[str, float] | None = None

    @field_validator("fallback_basket")
    @classmethod
    def _fallback(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("must name at least one asset with a weight, e.g. {ETH: 1}")
        bad = {code: w for code, w in value.items() if not 0 < w < float("inf")}
        if bad:
            raise ValueError(f"weights must be positive numbers, got {bad}")
        return {code.strip().upper(): float(w) for code, w in value.items()}

    @field_validator("quotes")
    @classmethod
    def _upper(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("must list at least one quote currency, e.g. [USDT]")
        return tuple(q.upper() for q in value)

    @field_validator("symbols")
    @classmethod
    def _upper_symbols(cls, value: dict[str, str]) -> dict[str, str]:
        codes = {gecko: code.strip().upper() for gecko, code in value.items()}
        if any(not code for code in codes.values()):
            raise ValueError("every exchange code must be non-empty")
        owners: dict[str, list[str]] = {}
        for gecko, code in codes.items():
            owners.setdefault(code, []).append(gecko)
        shared = {code: names for code, names in owners.items() if len(names) > 1}
        if shared:
            said = "; ".join(f"{code}: {', '.join(names)}" for code, names in shared.items())
            raise ValueError(f"one exchange code can name one token only, got {said}")
        return codes

    @field_validator("score")
    @classmethod
    def _known_figures(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(SCORE_FIGURES))
        if unknown:
            raise ValueError(f"unknown figure(s) {unknown}; choose from {list(SCORE_FIGURES)}")
        return value


# Figures a `score` may weigh; each enters as its percentile rank among the passing tokens.
SCORE_FIGURES = (
    "revenue_yield", "holders_revenue_annual", "trend_30d", "trend_90d", "emission_share",
    "fdv_ratio", "market_cap", "volume_24h",
)  # fmt: skip
