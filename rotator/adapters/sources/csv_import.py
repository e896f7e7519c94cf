"""`rotator history import FILE.csv`: daily prices or BTC dominance from a CSV file.

Recognised layouts (header names are matched case-insensitively):

- dominance: a date column and ``dominance`` (also ``btc_dominance``, ``dominance_pct``), in
  percent (fractions <= 1 are taken as shares and multiplied by 100);
- market caps: a date column, ``btc_market_cap`` and ``total_market_cap``: dominance computed;
- prices: a date column and ``close`` (or ``price``), optional ``open``, ``high``, ``low``,
  ``volume`` (or ``total_volume``), ``market_cap`` (or ``marketcap``); the asset comes from
  ``--asset``, a ``symbol`` column, or the file name (``btc-usd-max.csv``). CoinGecko's CSV export
  (``snapped_at,price,market_cap,total_volume``) is this layout and is accepted as it is;
- ``date,value``: ambiguous, so ``--kind dominance`` or ``--kind prices`` says which it is
  (or ``--series NAME`` for a macro series, see below).

Macro series (stored as observations of a named series, see rotator.core.history):

- FRED downloads in both of FRED's layouts: ``observation_date,<ID>`` (current; the series is
  ``fred:<ID>``) and ``DATE,VALUE`` (older; the id comes from the file name, ``WALCL.csv``);
- the MOVE index as ``index:MOVE``: Yahoo's ``^MOVE`` download
  (``Date,Open,High,Low,Close,Adj Close,Volume``; the close is used) or ``Date,Value``, when the
  file is named ``MOVE.csv`` / ``^MOVE.csv`` or ``--series index:MOVE`` is given;
- any ``date,value`` file of a FRED series rotator knows (``WTREGEN.csv``...) or with
  ``--series fred:ID``.

Empty cells, FRED's ``.`` and Yahoo's ``null`` are missing observations and skipped, never zero.
An index value far off both its neighbours (which agree with each other) is kept but reported,
so a typo in a source can be checked (MOVE on 2013-08-22 is 58.3 in one public copy, where
Yahoo has 98.3).

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

from rotator.core.history import DailyBar, DominanceObservation, MacroObservation, macro_key
from rotator.core.publication import PUBLICATIONS
from rotator.errors import ConfigError

DATE_COLUMNS = ("date", "day", "snapped_at", "timestamp", "time", "observation_date")
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
    macro: tuple[MacroObservation, ...] = ()
    warnings: tuple[str, ...] = ()


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
    series: str | None = None,
) -> Imported:
    """Read a CSV file of daily prices, dominance or a macro series (see module docstring).

    Args:
        series: the macro series the file holds ("fred:WALCL", "index:MOVE"); None = infer.

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
    if series and kind not in ("auto", "macro"):
        raise ConfigError(f"--series {series} is for macro series; it cannot go with --kind {kind}")
    if kind in ("auto", "macro"):
        name = series or _macro_name(path, [h.strip() for h in rows[0]], header, kind)
        if name is not None:
            return _macro(path, rows, date_col, header, name, source)
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
        raise ConfigError(f"--kind must be auto, prices, dominance or macro, got {kind!r}")
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


KNOWN_FRED = tuple(n.split(":", 1)[1] for n in PUBLICATIONS if n.startswith("fred:"))
MISSING = ("", ".", "null", "nan", "NaN", "#N/A")
# An observation this far (fraction) from both neighbours, which agree within NEIGHBOURS_AGREE,
# is reported as suspicious (kept: the source is the authority, the user decides).
OUTLIER = 0.25
NEIGHBOURS_AGREE = 0.05


def _macro_name(path: Path, raw: list[str], header: dict[str, int], kind: str) -> str | None:
    """The macro series a file holds, from its header or name; None when it is not one."""
    stem = path.stem.lstrip("^").upper()
    names = list(header)
    if len(raw) == 2 and names[0] == "observation_date":
        return f"fred:{raw[1].upper()}"
    if stem == "MOVE":
        return "index:MOVE"
    if names == ["date", "value"] and (raw == ["DATE", "VALUE"] or stem in KNOWN_FRED):
        if re.fullmatch(r"[A-Z0-9]{2,30}", stem) and stem != "FREDGRAPH":
            return f"fred:{stem}"
        raise ConfigError(
            f"{path}: a FRED DATE,VALUE file; which series? name the file after it "
            "(WALCL.csv) or pass --series fred:WALCL"
        )
    if kind == "macro":
        raise ConfigError(f"{path}: which macro series is this? pass --series (e.g. fred:WALCL)")
    return None


def _macro(
    path: Path,
    rows: list[list[str]],
    date_col: int,
    header: dict[str, int],
    name: str,
    source: str,
) -> Imported:
    prefix, _, rest = name.partition(":")
    if prefix not in ("fred", "index", "treasury") or not rest:
        raise ConfigError(
            f"--series {name}: expected fred:ID, index:NAME or treasury:NAME (e.g. index:MOVE)"
        )
    value_col = _find(header, ("close", "value", rest.lower()))
    if value_col is None:
        others = [i for i in range(len(rows[0])) if i != date_col]
        if len(others) != 1:
            raise ConfigError(
                f"{path}:1: which column holds {name}? expected close, value or {rest}, "
                f"got {', '.join(rows[0])}"
            )
        value_col = others[0]
    key = macro_key(name)
    out: list[MacroObservation] = []
    blanks = 0
    for line, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        day = _day(path, line, rows[0][date_col], _cell(row, date_col))
        text = _cell(row, value_col).strip()
        if text in MISSING:
            blanks += 1
            continue
        value = _number(path, line, rows[0][value_col], text, True)
        out.append(MacroObservation(source, key, day, float(value or 0.0)))
    if not out:
        raise ConfigError(f"{path}: no {name} values (every row is blank)")
    first, last = out[0].day, out[-1].day
    skipped = f", {blanks} blank days skipped" if blanks else ""
    return Imported(
        macro=tuple(out),
        description=f"{len(out)} observations of {name} ({first} to {last}){skipped}",
        # Index levels move smoothly; balances (TGA, RRP) legitimately jump for a day.
        warnings=tuple(_outliers(path, name, out)) if prefix == "index" else (),
    )


def _outliers(path: Path, name: str, out: list[MacroObservation]) -> list[str]:
    found = []
    for before, here, after in zip(out, out[1:], out[2:], strict=False):
        a, b, c = before.value, here.value, after.value
        if a <= 0 or c <= 0 or abs(c / a - 1) > NEIGHBOURS_AGREE:
            continue
        if abs(b / a - 1) > OUTLIER and abs(b / c - 1) > OUTLIER:
            found.append(
                f"{path}: {name} on {here.day} is {b:g}, far from {a:g} ({before.day}) and "
                f"{c:g} ({after.day}); kept as the source has it, check it"
            )
    return found
