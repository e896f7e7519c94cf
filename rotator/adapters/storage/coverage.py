"""How much of each named series the market-history store holds: rows, first and last day, sources.

One aggregate query per series (no rows are loaded), so `rotator check` answers at once even on
years of candles. Names are those of rotator.core.history; a name the store cannot serve has no
extent.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import ColumnElement, Connection, Engine, distinct, func, select

from rotator.adapters.storage.market import DominanceRow, MacroRow, OhlcvRow
from rotator.core.coverage import StoredExtent
from rotator.core.dominance_proxy import PROXY_SOURCE_PREFIX, is_proxy
from rotator.core.history import parse_series_name

_OHLCV_COLUMN = {"mcap": "market_cap"}


def stored_extents(engine: Engine, names: Iterable[str]) -> dict[str, StoredExtent]:
    """Series name -> what is stored of it (absent names: nothing the store can serve)."""
    out: dict[str, StoredExtent] = {}
    with engine.connect() as conn:
        for name in dict.fromkeys(names):
            parsed = parse_series_name(name)
            if parsed is None:
                continue
            if parsed.field == "dominance":
                out[name] = _dominance_extent(conn)
                continue
            table: type[MacroRow] | type[OhlcvRow]
            where: tuple[ColumnElement[bool], ...]
            if parsed.field == "macro":
                table, day, where = MacroRow, MacroRow.day, (MacroRow.series == parsed.series,)
            else:
                column = getattr(OhlcvRow, _OHLCV_COLUMN.get(parsed.field, parsed.field))
                table, day = OhlcvRow, OhlcvRow.day
                where = (OhlcvRow.market.in_(parsed.markets), column.is_not(None))
            rows, first, last = conn.execute(
                select(func.count(distinct(day)), func.min(day), func.max(day)).where(*where)
            ).one()
            sources = conn.execute(
                select(table.source).where(*where).distinct().order_by(table.source)
            ).scalars()
            out[name] = StoredExtent(int(rows or 0), first, last, tuple(sources))
    return out


def _dominance_extent(conn: Connection) -> StoredExtent:
    """The dominance family the rules read (rotator.adapters.storage.market: the proxy and real
    dominance are never mixed; the one with more stored days wins, real on a tie)."""
    rows = conn.execute(select(DominanceRow.day, DominanceRow.source)).all()
    proxy = {d for d, s in rows if is_proxy(s)}
    real = {d for d, s in rows if not is_proxy(s)}
    use_proxy = len(proxy) > len(real)
    days = proxy if use_proxy else real
    sources = sorted({s for _, s in rows if is_proxy(s) == use_proxy})
    if not days:
        return StoredExtent(0, None, None, ())
    return StoredExtent(len(days), min(days), max(days), tuple(sources))


def last_dominance_day(engine: Engine, *, proxy: bool) -> date | None:
    """The newest stored dominance day of the proxy, or of real sources (incremental fetch)."""
    is_proxy_row = DominanceRow.source.startswith(PROXY_SOURCE_PREFIX)
    with engine.connect() as conn:
        return conn.execute(
            select(func.max(DominanceRow.day)).where(is_proxy_row if proxy else ~is_proxy_row)
        ).scalar_one()


def stored_series(engine: Engine) -> list[tuple[str, str, int, date, date]]:
    """Everything the market store holds, by series and source: (series, source, days, first,
    last); candles are listed by market ("BTC/USDT"), FRED series by id."""
    out: list[tuple[str, str, int, date, date]] = []
    queries = (
        (OhlcvRow.market, OhlcvRow.source, OhlcvRow.day),
        (None, DominanceRow.source, DominanceRow.day),
        (MacroRow.series, MacroRow.source, MacroRow.day),
    )
    with engine.connect() as conn:
        for name, source, day in queries:
            label = name if name is not None else source.label("label")
            rows = conn.execute(
                select(label, source, func.count(distinct(day)), func.min(day), func.max(day))
                .group_by(label, source)
                .order_by(label, source)
            ).all()
            for series, src, days, first, last in rows:
                shown = "btc_dominance" if name is None else str(series)
                out.append((shown, str(src), int(days), first, last))
    return out
