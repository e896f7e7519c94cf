"""ccxt's unified structures -> rotator's records (MarketInfo, Quote, Holding).

Numbers become Decimal through str(), never through float arithmetic, so 0.1 stays 0.1.
Precision is normalised to a step size whatever the exchange's ccxt precisionMode.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ccxt.base.decimal_to_precision import DECIMAL_PLACES, SIGNIFICANT_DIGITS, TICK_SIZE

from rotator.core.models import Holding, MarketInfo, Quote, WalletKind


class ShapeError(ValueError):
    """A ccxt structure is not shaped as ccxt documents it (the exchange's answer was odd)."""


def _mapping(what: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ShapeError(f"the {what} is not a mapping but {type(value).__name__}")
    return value


def _text(what: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ShapeError(f"the {what} is missing or not text")
    return value


def to_decimal(value: Any) -> Decimal | None:
    """A ccxt number (float, int, str or None) as Decimal via its string form; None if absent."""
    if value is None or isinstance(value, bool):
        return None
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None


def precision_step(value: Any, precision_mode: int) -> Decimal | None:
    """A ccxt precision value as the smallest increment.

    TICK_SIZE: the value is the step (0.001). DECIMAL_PLACES: it is a count of decimals (3 ->
    0.001). SIGNIFICANT_DIGITS: no fixed step exists (it depends on the magnitude): None.
    """
    number = to_decimal(value)
    if number is None:
        return None
    if precision_mode == TICK_SIZE:
        return number  # 0 or negative: the planner marks the market unusable
    if precision_mode == DECIMAL_PLACES:
        if not -30 <= number <= 30:
            return None  # no market has such a step: left unknown, the market unusable
        return Decimal(1).scaleb(-int(number))
    if precision_mode == SIGNIFICANT_DIGITS:
        return None
    return None


def is_spot(market: Mapping[str, Any]) -> bool:
    """A spot market (not margin-only, swap, future or option)."""
    return bool(market.get("spot", market.get("type") == "spot")) and not market.get("contract")


def market_info(account: str, market: Mapping[str, Any], precision_mode: int) -> MarketInfo:
    """A ccxt unified market as MarketInfo; ShapeError when it is not one."""
    market = _mapping("market", market)
    precision = _mapping("market precision", market.get("precision") or {})
    limits = _mapping("market limits", market.get("limits") or {})
    amount_limits = _mapping("amount limits", limits.get("amount") or {})
    cost_limits = _mapping("cost limits", limits.get("cost") or {})
    return MarketInfo(
        account=account,
        symbol=_text("market symbol", market.get("symbol")),
        base=_text("market base", market.get("base")),
        quote=_text("market quote", market.get("quote")),
        amount_step=precision_step(precision.get("amount"), precision_mode),
        price_step=precision_step(precision.get("price"), precision_mode),
        min_amount=to_decimal(amount_limits.get("min")),
        min_cost=to_decimal(cost_limits.get("min")),
        taker_fee=to_decimal(market.get("taker")),
        active=market.get("active") is not False,
    )


def quote_of(source: str, ticker: Mapping[str, Any], received: datetime) -> Quote:
    """A ccxt ticker as Quote; as_of is the ticker's timestamp, else the time it was received.

    Raises:
        ShapeError: not a ticker, or a timestamp that is no time at all.
    """
    ticker = _mapping("ticker", ticker)
    stamp = ticker.get("timestamp")
    if stamp is not None and (isinstance(stamp, bool) or not isinstance(stamp, int | float)):
        raise ShapeError("the ticker timestamp is not a number")
    try:
        as_of = datetime.fromtimestamp(stamp / 1000, tz=UTC) if stamp else received
    except (OverflowError, OSError, ValueError):
        raise ShapeError("the ticker timestamp is not a time") from None
    return Quote(
        symbol=_text("ticker symbol", ticker.get("symbol")),
        bid=_positive(ticker.get("bid")),
        ask=_positive(ticker.get("ask")),
        last=_positive(ticker.get("last") or ticker.get("close")),
        as_of=as_of,
        source=source,
    )


def _positive(value: Any) -> Decimal | None:
    number = to_decimal(value)
    return number if number is not None and number > 0 else None


def balance_holdings(account: str, balance: Mapping[str, Any], wallet: WalletKind) -> list[Holding]:
    """Non-zero holdings of a ccxt balance structure.

    Spot: free is what ccxt reports free. Funding/earn: free equals the amount (nothing is
    locked in orders), and the wallet kind keeps the planner from selling it.
    """
    balance = _mapping("balance", balance)
    totals = _mapping("balance total", balance.get("total") or {})
    frees = _mapping("balance free", balance.get("free") or {})
    used = _mapping("balance used", balance.get("used") or {})
    holdings = []
    for asset, total_raw in totals.items():
        _text("balance asset code", asset)
        total = to_decimal(total_raw)
        if total is None:
            # Some exchanges report only free/used: total = free + used.
            free_part = to_decimal(frees.get(asset)) or Decimal(0)
            used_part = to_decimal(used.get(asset)) or Decimal(0)
            total = free_part + used_part
        if total == 0:
            continue
        if total < 0:  # kept, so the planner refuses it (rotator.core.market_checks)
            holdings.append(Holding(account, asset, total, Decimal(0), wallet))
            continue
        if wallet is WalletKind.SPOT:
            free = to_decimal(frees.get(asset))
            free = total if free is None else min(max(free, Decimal(0)), total)
        else:
            free = total
        holdings.append(Holding(account, asset, total, free, wallet))
    return holdings


def merge_holdings(holdings: Iterable[Holding]) -> tuple[Holding, ...]:
    """Sum holdings of the same (account, asset, wallet), keeping first-seen order."""
    merged: dict[tuple[str, str, WalletKind], Holding] = {}
    for h in holdings:
        key = (h.account, h.asset, h.wallet)
        if key in merged:
            old = merged[key]
            merged[key] = Holding(
                h.account, h.asset, old.total + h.total, old.free + h.free, h.wallet
            )
        else:
            merged[key] = h
    return tuple(merged.values())
