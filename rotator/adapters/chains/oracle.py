"""Price oracles for assets no configured exchange quotes: CoinGecko, DefiLlama as fallback.

CoinGecko `GET /simple/price?ids=a,b&vs_currencies=usd` answers `{"a": {"usd": 1.23}}` (ids
it does not know are left out). DefiLlama `GET /prices/current/coingecko:a,coingecko:b`
answers `{"coins": {"coingecko:a": {"price": 1.23, "timestamp": ...}}}` in USD, so it is
used only when the base currency is USD. Every asset gets one `OracleQuote` or nothing; the
valuation marks prices from here as oracle prices and the planner never trades on them.
Both use the shared JsonClient (timeout, bounded retries, Retry-After, pacing).

Oracle answers are untrusted: a price must be a finite number within PRICE_BOUNDS (NaN,
Infinity, 1e-300 or 3e12 are dropped with a warning, so the asset is reported unpriceable); a
ratio read from two oracle prices must lie within RATIO_BOUNDS; a quote of a token that tracks
another (stETH: ETH) carries `tracks`, so the valuation can hold its price against the
exchange price of what it tracks. An asset with only a DefiLlama key is asked of DefiLlama.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from rotator.adapters.chains.settings import OracleSettings
from rotator.adapters.sources.http import JsonClient, SourceError
from rotator.core.clock import Clock
from rotator.core.models import OracleQuote
from rotator.errors import Problem, Severity

PRICE_BOUNDS = (Decimal("1e-12"), Decimal("1e12"))  # one unit, in any base currency
RATIO_BOUNDS = (Decimal("0.2"), Decimal("5"))  # a staking token to its underlying
# Tokens that trade close to another asset: wrapped and liquid-staking tokens.
TRACKS: dict[str, str] = {
    "STETH": "ETH",
    "WSTETH": "ETH",
    "RETH": "ETH",
    "WETH": "ETH",
    "WBTC": "BTC",
    "JITOSOL": "SOL",
    "MSOL": "SOL",
}


def fetch_oracle_quotes(
    assets: Iterable[str],
    base: str,
    settings: OracleSettings,
    *,
    now: datetime,
    clock: Clock,
) -> tuple[tuple[OracleQuote, ...], tuple[Problem, ...]]:
    """Oracle quotes for `assets` (and the underlyings of those valued through one), stamped
    `now` (the run's snapshot time); back-off and Retry-After waits go through `clock`.

    Returns:
        The quotes found, and WARNING problems for assets no oracle priced or sources that
        failed (the valuation then reports those assets unpriceable: ERROR, plan incomplete).
    """
    wanted = sorted(set(assets))
    ask = set(wanted)
    for asset in wanted:
        if asset in settings.underlying:
            under, fixed = settings.underlying[asset]
            if fixed is None:  # ratio: oracle -> both prices, read together
                ask.add(under)
            else:  # a declared ratio needs no oracle price of the asset itself
                ask.discard(asset)
    # the tracked asset of a wrapped or staking token is read along, to hold its price against
    ask |= {
        TRACKS[a] for a in wanted if TRACKS.get(a) in settings.ids and a not in settings.underlying
    }
    ids = {a: settings.ids[a] for a in sorted(ask) if a in settings.ids}
    llama_only = {
        a: settings.defillama_ids[a]
        for a in sorted(ask)
        if a not in ids and a in settings.defillama_ids
    }
    problems: list[Problem] = []
    unmapped = [
        a for a in wanted if a not in ids and a not in llama_only and a not in settings.underlying
    ]
    for asset in unmapped:
        problems.append(
            Problem(
                Severity.WARNING,
                f"oracle {asset}",
                f"no coin id for {asset}: add oracles.assets.{asset}.coingecko to portfolio.yaml",
            )
        )
    prices: dict[str, tuple[Decimal, str]] = {}
    if ids:
        try:
            prices.update(_coingecko(ids, base, settings, clock))
        except SourceError as exc:
            problems.append(Problem(Severity.WARNING, "oracle CoinGecko", str(exc)))
    missing = {
        a: settings.defillama_ids[a] for a in ids if a not in prices and a in settings.defillama_ids
    }
    missing.update(llama_only)
    if missing and base == "USD":
        try:
            prices.update(_defillama(missing, settings, clock))
        except SourceError as exc:
            problems.append(Problem(Severity.WARNING, "oracle DefiLlama", str(exc)))
    elif llama_only:
        for asset in llama_only:
            problems.append(
                Problem(
                    Severity.WARNING,
                    f"oracle {asset}",
                    f"only a DefiLlama key for {asset}, and DefiLlama prices in USD only "
                    f"(base currency {base}): add oracles.assets.{asset}.coingecko",
                )
            )
    for asset, (price, source) in list(prices.items()):
        if not PRICE_BOUNDS[0] <= price <= PRICE_BOUNDS[1]:
            del prices[asset]
            problems.append(
                Problem(
                    Severity.WARNING,
                    f"oracle {asset}",
                    f"{source} answered an implausible price ({price:.3g} {base}); not used",
                )
            )
    for asset in wanted:
        tracked = TRACKS.get(asset)
        if asset in prices and tracked in prices and asset not in settings.underlying:
            ratio = prices[asset][0] / prices[tracked][0]
            if not RATIO_BOUNDS[0] <= ratio <= RATIO_BOUNDS[1]:
                source = prices.pop(asset)[1]
                problems.append(
                    Problem(
                        Severity.WARNING,
                        f"oracle {asset}",
                        f"{source} prices {asset} at {ratio:.3g} times {tracked}, which it "
                        f"tracks (expected {RATIO_BOUNDS[0]}-{RATIO_BOUNDS[1]}); not used",
                    )
                )
    quotes: list[OracleQuote] = []
    for asset in wanted:
        if asset in settings.underlying:
            under, fixed = settings.underlying[asset]
            if fixed is not None:
                quotes.append(
                    OracleQuote(asset, None, "portfolio.yaml", now, under, fixed, "portfolio.yaml")
                )
            elif (
                asset in prices
                and under in prices
                and RATIO_BOUNDS[0] <= prices[asset][0] / prices[under][0] <= RATIO_BOUNDS[1]
            ):
                (p, src), (pu, srcu) = prices[asset], prices[under]
                ratio = p / pu
                quotes.append(OracleQuote(asset, p, src, now, under, ratio, f"{src} / {srcu}"))
            else:
                problems.append(
                    Problem(
                        Severity.WARNING,
                        f"oracle {asset}",
                        f"no oracle ratio of {asset} to {under} (missing, or outside "
                        f"{RATIO_BOUNDS[0]}-{RATIO_BOUNDS[1]})",
                    )
                )
            if under in prices and under not in wanted:
                quotes.append(OracleQuote(under, prices[under][0], prices[under][1], now))
            continue
        if asset in prices:
            price, source = prices[asset]
            quotes.append(OracleQuote(asset, price, source, now, tracks=TRACKS.get(asset)))
        elif asset in ids or asset in llama_only:
            key = ids.get(asset) or llama_only[asset]
            problems.append(
                Problem(Severity.WARNING, f"oracle {asset}", f"no oracle price for {key}")
            )
    return tuple(quotes), tuple(problems)


def _coingecko(
    ids: dict[str, str], base: str, settings: OracleSettings, clock: Clock
) -> dict[str, tuple[Decimal, str]]:
    headers = {"x-cg-demo-api-key": settings.api_key} if settings.api_key else None
    vs = base.lower()
    with JsonClient(
        "CoinGecko",
        settings.coingecko_url,
        timeout=settings.timeout_seconds,
        calls_per_minute=0,
        retries=1,
        backoff=1.0,
        headers=headers,
        clock=clock,
    ) as client:
        data = client.get(
            "simple/price", {"ids": ",".join(sorted(set(ids.values()))), "vs_currencies": vs}
        )
    return parse_simple_price(data, ids, vs)


def parse_simple_price(data: Any, ids: dict[str, str], vs: str) -> dict[str, tuple[Decimal, str]]:
    """CoinGecko `/simple/price` -> asset -> (finite price > 0, source); SourceError on shape."""
    if not isinstance(data, dict):
        raise SourceError("CoinGecko GET /simple/price: answer is not an object")
    out: dict[str, tuple[Decimal, str]] = {}
    for asset, cid in ids.items():
        row = data.get(cid)
        price = _decimal(row.get(vs)) if isinstance(row, dict) else None
        if price is not None and price > 0:
            out[asset] = (price, f"coingecko:{cid}")
    return out


def _defillama(
    keys: dict[str, str], settings: OracleSettings, clock: Clock
) -> dict[str, tuple[Decimal, str]]:
    with JsonClient(
        "DefiLlama",
        settings.defillama_url,
        timeout=settings.timeout_seconds,
        calls_per_minute=0,
        retries=1,
        backoff=1.0,
        clock=clock,
    ) as client:
        data = client.get("prices/current/" + ",".join(sorted(set(keys.values()))))
    return parse_llama_prices(data, keys)


def parse_llama_prices(data: Any, keys: dict[str, str]) -> dict[str, tuple[Decimal, str]]:
    """DefiLlama `/prices/current` -> asset -> (finite price > 0, source); SourceError on shape."""
    coins = data.get("coins") if isinstance(data, dict) else None
    if not isinstance(coins, dict):
        raise SourceError("DefiLlama GET /prices/current: answer has no coins map")
    out: dict[str, tuple[Decimal, str]] = {}
    for asset, key in keys.items():
        row: Any = coins.get(key)
        price = _decimal(row.get("price")) if isinstance(row, dict) else None
        if price is not None and price > 0:
            out[asset] = (price, f"defillama:{key}")
    return out


def _decimal(value: Any) -> Decimal | None:
    """A finite number from an answer (int, float or numeric string); None otherwise."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    if isinstance(value, str) and len(value) > 60:
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None
