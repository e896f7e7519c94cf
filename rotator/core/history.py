"""Records of daily market history and the names rules use to ask for series.

Sources produce these records; the market store (rotator.adapters.storage.market) saves them and
hands rules named daily series back in `Snapshot.history`. Series names:

- ``close:BTC`` (also ``open:``, ``high:``, ``low:``, ``volume:``, ``mcap:``): the asset's daily
  value in USD terms, from the first market that has the day among BTC/USD, BTC/USDT, BTC/USDC
  (any source);
- ``close:ETH/BTC``: one exact market;
- ``btc_dominance``: BTC's share of the total crypto market cap, in percent;
- ``fred:WALCL``: a macro series (FRED id) by observation date;
- ``index:MOVE``: an index imported from a CSV file (the ICE BofA MOVE index);
- ``treasury:buybacks``: par accepted in Treasury buyback operations per day (USD, Fiscal Data).

Macro series are stored by reference date; rules see them only from their publication day
(rotator.core.publication).

Every series is indexed by a tz-naive pandas DatetimeIndex at midnight, one entry per UTC day.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

USD_QUOTES = ("USD", "USDT", "USDC")
OHLCV_FIELDS = ("open", "high", "low", "close", "volume", "mcap")
DOMINANCE = "btc_dominance"


@dataclass(frozen=True, slots=True)
class DailyBar:
    """One day of one market from one source. `market` is a unified symbol like "BTC/USD"."""

    source: str
    market: str
    day: date
    close: float
    open: float | None = None
    high: float | None = None
    low: float | None = None
    volume: float | None = None
    market_cap: float | None = None


@dataclass(frozen=True, slots=True)
class DominanceObservation:
    """BTC dominance (percent of total crypto market cap) on one day from one source."""

    source: str
    day: date
    dominance_pct: float
    btc_market_cap: float | None = None
    total_market_cap: float | None = None


MACRO_PREFIXES = ("fred", "index", "treasury")


@dataclass(frozen=True, slots=True)
class MacroObservation:
    """One observation of a macro series on its reference date.

    `series` is the stored key: the bare id for FRED ("WALCL"), the full name for the other
    namespaces ("index:MOVE", "treasury:buybacks"); see `macro_key`.
    """

    source: str
    series: str
    day: date
    value: float


@dataclass(frozen=True, slots=True)
class SeriesName:
    """A parsed series name: what kind of data and which markets may serve it, in order."""

    name: str
    field: str  # one of OHLCV_FIELDS, "dominance" or "macro"
    markets: tuple[str, ...] = ()
    series: str | None = None


def parse_series_name(name: str) -> SeriesName | None:
    """Parse a series name (see module docstring); None when the store cannot serve it."""
    if name == DOMINANCE:
        return SeriesName(name, "dominance")
    prefix, _, rest = name.partition(":")
    if not rest:
        return None
    if prefix in MACRO_PREFIXES:
        return SeriesName(name, "macro", series=macro_key(name))
    if prefix not in OHLCV_FIELDS:
        return None
    if "/" in rest:
        return SeriesName(name, prefix, markets=(rest.upper(),))
    asset = rest.upper()
    return SeriesName(name, prefix, markets=tuple(f"{asset}/{q}" for q in USD_QUOTES))


def macro_key(name: str) -> str:
    """The stored key of macro series `name`: "fred:walcl" -> "WALCL", "index:move" -> "index:MOVE".

    FRED ids are stored bare (as before other namespaces existed); other namespaces keep their
    prefix so an index never collides with a FRED id of the same name.
    """
    prefix, _, rest = name.partition(":")
    if prefix == "fred":
        return rest.upper()
    if prefix == "treasury":
        return f"treasury:{rest.lower()}"
    return f"{prefix}:{rest.upper()}"


EPOCH = date(1970, 1, 1)
NS_PER_DAY = 86_400 * 10**9


def day_ns(day: date) -> int:
    """Midnight of `day` as the nanoseconds since the epoch a DatetimeIndex holds."""
    return (day - EPOCH).days * NS_PER_DAY


def ns_day(stamp: int) -> date:
    """The day of a DatetimeIndex value (nanoseconds since the epoch)."""
    return EPOCH + timedelta(days=int(stamp) // NS_PER_DAY)


def series_stamps(series: pd.Series) -> np.ndarray:
    """A series' index as int64 nanoseconds since the epoch."""
    import numpy as np

    return np.asarray(series.index, dtype="datetime64[ns]").view("int64")


def series_arrays(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A series' index as int64 nanoseconds since the epoch and its values as floats."""
    import numpy as np

    return series_stamps(series), series.to_numpy(dtype=float, na_value=np.nan)


class History(Mapping[str, "pd.Series"]):
    """Named daily series, as the market store serves them, with each series also kept as
    numpy arrays (see `series_arrays`), made on first use.

    Rules read their series on every day of a replay; with the arrays made once, a day's
    reading is a binary search and a slice instead of new pandas objects
    (rotator.core.rules.registry.RuleContext.observed). A plain mapping works everywhere a
    History does: its arrays are then made on each reading.
    """

    def __init__(self, series: Mapping[str, pd.Series]) -> None:
        self._series = dict(series)
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def __getitem__(self, name: str) -> pd.Series:
        return self._series[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._series)

    def __len__(self) -> int:
        return len(self._series)

    def arrays(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """`series_arrays` of series `name` (KeyError when there is none), made once."""
        found = self._arrays.get(name)
        if found is None:
            found = self._arrays[name] = series_arrays(self._series[name])
        return found
