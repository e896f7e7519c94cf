"""`rotator history import FILE.csv`: daily prices or BTC dominance from a CSV file.

Recognised layouts (header names are matched case-insensitively):

- dominance: a date column and ``dominance`` (also ``btc_dominance``, ``dominance_pct``), in
  percent (fractions <= 1 are taken as shares and multiplied by 100);
- market caps: a date column, ``btc_market_cap`` and ``total_market_cap``: dominance computed;
- prices: a date column and ``close`` (or ``price``), optional ``open``, ``high``, ``low``,
  ``volume`` (or ``total_volume``), ``market_cap`` (or ``marketcap``); the asset comes from
  ``--asset``, a ``symbol`` column, or the file name (``btc-usd-max.csv``). CoinGecko's CSV export
  (``snapped_at,price,market_cap,total_volume``) is this layout and is accepted as it is;
- ``date,value``: ambiguous, so ``--kind dominance`` or ``--kind prices`` says which it is.

Date column: ``date``, ``day``, ``snapped_at``, ``timestamp`` or ``time``; ISO dates or date-times
("2013-04-28 00:00:00 UTC" -> 2013-04-28) or Unix epochs (seconds or milliseconds).
A bad row stops the import with "file:line: column: what was expected" (exit code 2).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from rotator.core.history import DailyBar, DominanceObservation
from rotator.errors import ConfigError

DATE_COLUMNS = ("date", "day", "snapped_at", "timestamp", "time")
DOMINANCE_COLUMNS = ("dominance", "btc_dominance", "dominance_pct", "btc_dominance_pct")
PRICE_COLUMNS = ("close", "price")
ALIASES = {
    "open": ("open",),
    "high": ("high",),
    "low": ("low",),
    "volume": ("volume", "total_volume"),
    "market_cap": ("market_cap", "marketcap", "mcap"),
    "btc_market_cap": ("btc_market_cap", "btc_mcap", "btc_cap"),
    "total_market_cap": ("total_market_cap", "total_mcap", "total_cap"),
}


@dataclass(frozen=True, slots=True)
class Imported:
    """What a CSV file held: bars or dominance observations, and a one-line description."""

    bars: tuple[DailyBar, ...] = ()
    dominance: tuple[DominanceObservation, ...] = ()
    description: str = ""


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def _find(header: dict[str, int], names: tuple[str, ...]) -> int | None:
    return next((header[n] for n in names if n in header), None)


def parse_day(text: str) -> date:
    """A CSV date cell -> UTC date (ISO date/date-time, or epoch seconds/milliseconds)."""
    text = text.strip()
    if re.fullmatch(r"\d{9,14}(\.\d+)?", text):
        seconds = float(text) / (1000 if float(text) > 1e11 else 1)
        return datetime.fromtimestamp(seconds, UTC).date()
    return date.fromisoformat(text[:10])


def asset_from_filename(path: Path) -> str | None:
    """'btc-usd-max.csv' / 'coingecko_btc-usd_daily.csv' -> 'BTC'."""
    match = re.search(r"(?:^|[_\-])([a-z0-9]{2,10})-usd", path.name.lower())
    return match.group(1).upper() if match else None


def import_csv(
    path: Path,
    *,
    kind: str = "auto",
    asset: str | None = None,
    quote: str = "USD",
    source: str = "import",
) -> Imported:
    """Read a CSV file of daily prices or dominance into records (see module docstring).

    Raises:
        ConfigError: unreadable file, unrecognised columns or a bad value, naming file and line.
    """
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    with handle:
        rows = list(csv.reader(handle))
    if not rows:
        raise ConfigError(f"{path}: empty file; expected a header row")
    header = {_norm(h): i for i, h in enumerate(rows[0])}
    date_col = _find(header, DATE_COLUMNS)
    if date_col is None:
        raise ConfigError(f"{path}:1: no date column; expected one of {', '.join(DATE_COLUMNS)}")
    cols = {k: _find(header, v) for k, v in ALIASES.items()}
    dom_col = _find(header, DOMINANCE_COLUMNS)
    price_col = _find(header, PRICE_COLUMNS)
    value_col = header.get("value")
    if kind == "auto":
        if dom_col is not None or (
            cols["btc_market_cap"] is not None and cols["total_market_cap"] is not None
        ):
            kind = "dominance"
        elif price_col is not None:
            kind = "prices"
        elif value_col is not None:
            raise ConfigError(
                f"{path}:1: columns {', '.join(rows[0])} could be dominance or prices: "
                "pass --kind dominance or --kind prices"
            )
        else:
            raise ConfigError(
                f"{path}:1: unrecognised columns {', '.join(rows[0])}; expected date + dominance, "
                "date + btc_market_cap + total_market_cap, or date + close/price"
            )
    if kind == "dominance":
        return _dominance(
            path, rows, date_col, dom_col if dom_col is not None else value_col, cols, source
        )
    if kind != "prices":
        raise ConfigError(f"--kind must be auto, prices or dominance, got {kind!r}")
    price_col = price_col if price_col is not None else value_col
    if price_col is None:
        raise ConfigError(f"{path}:1: no close/price column")
    symbol_col = header.get("symbol")
    if asset is None and symbol_col is None:
        asset = asset_from_filename(path)
        if asset is None:
            raise ConfigError(f"{path}: which asset are these prices of? pass --asset BTC")
    return _prices(path, rows, date_col, price_col, cols, symbol_col, asset, quote, source)


def _number(path: Path, line: int, name: str, text: str, required: bool) -> float | None:
    text = text.strip().replace(",", "") if text else ""
    if text in ("", "null", "NaN", "nan"):
        if required:
            raise ConfigError(f"{path}:{line}: {name}: expected a number, got an empty cell")
        return None
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"{path}:{line}: {name}: expected a number, got {text!r}") from None


def _day(path: Path, line: int, name: str, text: str) -> date:
    try:
        return parse_day(text)
    except (ValueError, OverflowError):
        raise ConfigError(
            f"{path}:{line}: {name}: expected a date like 2021-01-07 or an epoch, got {text!r}"
        ) from None


def _cell(row: list[str], col: int | None) -> str:
    return row[col] if col is not None and col < len(row) else ""


def _dominance(
    path: Path,
    rows: list[list[str]],
    date_col: int,
    dom_col: int | None,
    cols: dict[str, int | None],
    source: str,
) -> Imported:
    out: list[DominanceObservation] = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        day = _day(path, line, rows[0][date_col], _cell(row, date_col))
        if dom_col is not None:
            pct = _number(path, line, rows[0][dom_col], _cell(row, dom_col), True) or 0.0
            btc = total = None
        else:
            btc = _number(path, line, "btc_market_cap", _cell(row, cols["btc_market_cap"]), True)
            total = _number(
                path, line, "total_market_cap", _cell(row, cols["total_market_cap"]), True
            )
            if not total:
                raise ConfigError(f"{path}:{line}: total_market_cap: must be above 0")
            pct = (btc or 0.0) / total * 100
        out.append(DominanceObservation(source, day, pct, btc, total))
    if out and max(o.dominance_pct for o in out) <= 1:  # shares, not percent
        out = [
            DominanceObservation(
                o.source, o.day, o.dominance_pct * 100, o.btc_market_cap, o.total_market_cap
            )
            for o in out
        ]
    for o in out:
        if not 0 < o.dominance_pct < 100:
            raise ConfigError(
                f"{path}: dominance on {o.day} is {o.dominance_pct:.4g}; "
                "expected a percentage between 0 and 100"
            )
    first, last = (out[0].day, out[-1].day) if out else (None, None)
    return Imported(
        dominance=tuple(out), description=f"{len(out)} days of BTC dominance ({first} to {last})"
    )


def _prices(
    path: Path,
    rows: list[list[str]],
    date_col: int,
    price_col: int,
    cols: dict[str, int | None],
    symbol_col: int | None,
    asset: str | None,
    quote: str,
    source: str,
) -> Imported:
    out: list[DailyBar] = []
    assets: set[str] = set()
    for line, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        day = _day(path, line, rows[0][date_col], _cell(row, date_col))
        code = (asset or _cell(row, symbol_col)).strip().upper()
        if not code:
            raise ConfigError(f"{path}:{line}: symbol: empty; pass --asset")
        close = _number(path, line, rows[0][price_col], _cell(row, price_col), True)
        if close is None or close <= 0:
            raise ConfigError(f"{path}:{line}: {rows[0][price_col]}: must be above 0, got {close}")
        extra = {
            k: _number(path, line, k, _cell(row, cols[k]), False)
            for k in ("open", "high", "low", "volume", "market_cap")
        }
        # CoinGecko exports 0 market cap / volume where it has none.
        extra = {k: (v if v else None) for k, v in extra.items()}
        assets.add(code)
        out.append(DailyBar(source, f"{code}/{quote.upper()}", day, close, **extra))
    first, last = (out[0].day, out[-1].day) if out else (None, None)
    names = ", ".join(sorted(assets)) or "-"
    return Imported(
        bars=tuple(out),
        description=f"{len(out)} daily closes of {names}/{quote.upper()} ({first} to {last})",
    )
