"""Basket weights for the tokens that passed the revenue screen.

Weights are equal, by revenue yield, or by market cap, over at most `max_count` top-ranked
tokens, each capped at `max_weight` of the basket; what a cap cuts off is handed to the uncapped
tokens in proportion to their weights (water-filling). When even equal shares would break the
cap (too few tokens), the share nobody may take stays in cash, so the basket never concentrates
more than the cap allows in one token and its weights still sum to the regime's basket weight.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from rotator.core.models import CASH_BUCKET

WEIGHT_PLACES = Decimal("0.000001")


def cap_weights(raw: np.ndarray, cap: float) -> np.ndarray:
    """Normalise `raw` to sum to 1 with no entry above `cap` (excess redistributed).

    Returns weights summing to min(1, len(raw) * cap): when the cap cannot be met the rest is
    left unassigned (the caller puts it in cash).
    """
    n = len(raw)
    if n == 0:
        return raw.astype(float)
    w = np.clip(raw.astype(float), 0, None)
    w = w / w.sum() if w.sum() > 0 else np.full(n, 1.0 / n)
    if n * cap <= 1.0:
        return np.full(n, cap)
    capped = np.zeros(n, dtype=bool)
    share = w
    # Each pass caps at least one more token, so this ends within n passes.
    for _ in range(n):
        free = 1.0 - cap * capped.sum()
        rest = share[~capped]
        w = np.where(capped, cap, 0.0)
        w[~capped] = rest / rest.sum() * free if rest.sum() > 0 else free / len(rest)
        over = (w > cap + 1e-12) & ~capped
        if not over.any():
            break
        capped |= over
    return w


def basket_weights(
    table: pd.DataFrame, weighting: str, max_weight: float, max_count: int
) -> pd.Series:
    """Weight (fraction of the basket) per passing token's row, NaN for the others.

    Args:
        table: the screen's ranked table (columns passed, revenue_yield, market_cap).
        weighting: "equal", "revenue_yield" or "market_cap".
        max_weight: per-token cap, fraction of the basket.
        max_count: how many top-ranked passing tokens the basket holds.
    """
    members = table.index[table["passed"]][:max_count]
    if weighting == "equal":
        raw = np.ones(len(members))
    else:
        raw = table.loc[members, weighting].to_numpy(dtype=float)
    weights = pd.Series(np.nan, index=table.index)
    weights[members] = cap_weights(raw, max_weight)
    return weights


def to_basket(table: pd.DataFrame) -> dict[str, Decimal]:
    """Exchange code -> Decimal fraction of the basket, plus CASH for any unassigned share.

    The fractions are rounded to 6 places; rounding is absorbed by the largest member so the
    total is exactly 1.

    Raises:
        ValueError: two members carry one code. The screen fails such tokens
            (`rotator.core.screen.checks.exchange_codes`); keyed by code, one would silently
            replace the other and its weight would turn into cash.
    """
    members = table[table["weight"].notna() & (table["weight"] > 0)]
    repeated = sorted(set(members["symbol"][members["symbol"].duplicated()]))
    if repeated:
        raise ValueError(f"basket members share the exchange code(s) {', '.join(repeated)}")
    basket: dict[str, Decimal] = {}
    for code, weight in zip(members["symbol"], members["weight"], strict=True):
        basket[code] = Decimal(str(weight)).quantize(WEIGHT_PLACES)
    if not basket:
        return {CASH_BUCKET: Decimal(1)}
    rest = Decimal(1) - sum(basket.values(), Decimal(0))
    if rest > Decimal("0.00001"):
        basket[CASH_BUCKET] = rest
    else:
        top = max(basket, key=lambda k: basket[k])
        basket[top] += rest
    return basket
