"""Value assets in the base currency through the shortest chain of fresh market quotes.

Every quote of every account is an edge between two currencies: A/B at mid m says one A is m B,
and one B is 1/m A. An asset's price is the product along the shortest path from the asset to
the base currency. Nothing is assumed: USDT reaches USD through a USDT/USD quote like any other
asset, and an asset no fresh chain reaches gets an ERROR problem instead of a zero value.

Example: with quotes SOL/BTC, BTC/USDT and USDT/USD, SOL is priced through the route
("SOL/BTC", "BTC/USDT", "USDT/USD"), and `Price.as_of` is the oldest of those three quotes.

Prices are cross-checked: every fresh quote, from every account, must agree with the prices of
its two currencies (formed through other quotes and bridges) within `max_disagreement`. When
one does not (one account's BTC/USDT at 1e12 while BTC/USD says 96,000), the currency farther
from the base (the pair's base currency on a tie) gets no price and an ERROR problem naming
both figures: nobody can tell which account is right. Crossed quotes (bid above ask) and
quotes with non-finite sides are not used at all.

Only an asset that no exchange market connects to the base at all falls back to a price
oracle quote (`OracleQuote`, fetched beforehand and carried on the snapshot); the price is
then marked with its oracle source. A liquid staking token quoted as a ratio of its
underlying is valued as ratio x the underlying's price (itself exchange-routed when possible).
A stale exchange route, or one through a currency whose quotes disagree, stays an error:
the oracle does not paper over stale or disputed markets.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from rotator.core.models import Holding, OracleQuote, Price, Quote, ValuedHolding
from rotator.errors import Problem, Severity

# An oracle price of a token that tracks another (stETH: ETH, WBTC: BTC) must lie within this
# band around the tracked asset's exchange price; outside it the oracle answer is refused.
TRACKING_BAND = (Decimal("0.5"), Decimal("2"))

ONE = Decimal(1)
DEFAULT_MAX_DISAGREEMENT = Decimal("0.10")  # RebalancePolicy.max_price_disagreement
DEFAULT_BRIDGES: tuple[str, ...] = ("USDT", "USDC", "BTC", "ETH", "USD")


@dataclass(frozen=True, slots=True)
class _Edge:
    """The quote chosen for one pair of currencies."""

    quote: Quote
    mid: Decimal

    def rate(self, src: str) -> Decimal:
        """Units of the other currency that one unit of `src` is worth."""
        return self.mid if self.quote.base == src else ONE / self.mid


def price_subject(asset: str, base: str) -> str:
    """The Problem subject used for the price of `asset` in `base` (e.g. "price SOL/USD")."""
    return f"price {asset}/{base}"


def price_assets(
    quotes: Iterable[Quote],
    assets: Iterable[str],
    base: str,
    *,
    now: datetime,
    max_age_seconds: int,
    bridges: Sequence[str] = DEFAULT_BRIDGES,
    max_disagreement: Decimal | None = DEFAULT_MAX_DISAGREEMENT,
    oracle: Iterable[OracleQuote] = (),
) -> tuple[dict[str, Price], tuple[Problem, ...]]:
    """Price each asset in `base` by the shortest chain of fresh quotes from any account.

    Among routes of equal length the one through the base directly is preferred, then routes
    through `bridges` in the given order, then other currencies alphabetically; for a pair
    quoted several times the freshest quote (then the tightest spread) is used.

    Args:
        quotes: tickers from all accounts; derivative symbols ("BTC/USDT:USDT") are ignored.
        assets: the currencies to price; the base itself is priced 1 with an empty route.
        now: the reference time for staleness (the snapshot's time, never a clock read).
        max_age_seconds: quotes older than this are stale and not used.
        max_disagreement: largest relative difference (0.05 = 5 %) tolerated between a quote
            and the prices of its currencies formed by other quotes; None: no cross-check.
        oracle: oracle prices, used only for assets no exchange market connects to `base`.

    Returns:
        Prices by asset for those that could be priced, and one ERROR problem for each that
        could not: "stale" (only stale quotes connect it, naming them and their age),
        "quotes disagree" (see the module docstring) or "unpriceable" (no market connects it).
    """
    usable = [q for q in quotes if _usable(q)]
    fresh = [q for q in usable if _age_seconds(q, now) <= max_age_seconds]
    disputed: dict[str, str] = {}
    if max_disagreement is not None:
        disputed = _disputes(fresh, base, bridges, max_disagreement)
    trusted = [q for q in usable if q.base not in disputed and q.quote not in disputed]
    fresh_graph = _graph(q for q in fresh if q.base not in disputed and q.quote not in disputed)
    oracles = {q.asset: q for q in oracle if _age_seconds_at(q.as_of, now) <= max_age_seconds}
    full_graph: dict[str, dict[str, _Edge]] | None = None
    prices: dict[str, Price] = {}
    problems: list[Problem] = []
    for asset in dict.fromkeys(assets):
        if asset == base:
            prices[asset] = Price(asset, ONE, (), None)
            continue
        subject = price_subject(asset, base)
        if asset in disputed:
            problems.append(Problem(Severity.ERROR, subject, disputed[asset]))
            continue
        path = _shortest_path(fresh_graph, asset, base, bridges)
        if path is not None:
            prices[asset] = _price_along(asset, path)
            continue
        if full_graph is None:
            full_graph = _graph(trusted)
        stale_path = _shortest_path(full_graph, asset, base, bridges)
        through = None
        if stale_path is None and disputed:
            every = _shortest_path(_graph(fresh), asset, base, bridges)
            through = (
                None if every is None else next((c for c, _ in every[1:] if c in disputed), None)
            )
        if stale_path is None and through is None and asset in oracles:
            priced = _oracle_price(
                oracles[asset], fresh_graph, oracles, disputed, base, bridges, now
            )
            if isinstance(priced, Price):
                prices[asset] = priced
                continue
            problems.append(Problem(Severity.ERROR, subject, priced))
            continue
        if through is not None:
            msg = f"its only fresh route passes through {through}, whose quotes disagree"
        elif stale_path is None:
            msg = f"unpriceable: no market connects {asset} to {base} on any account"
        else:
            olds = [
                f"{e.quote.symbol} from {e.quote.source} is {_fmt_age(_age_seconds(e.quote, now))}"
                f" old"
                for _, e in stale_path
                if _age_seconds(e.quote, now) > max_age_seconds
            ]
            msg = (
                f"stale: the only route to {base} uses stale quotes ({'; '.join(olds)}; "
                f"limit {max_age_seconds} s)"
            )
        problems.append(Problem(Severity.ERROR, subject, msg))
    return prices, tuple(problems)


def _oracle_price(
    q: OracleQuote,
    graph: Mapping[str, Mapping[str, _Edge]],
    oracles: Mapping[str, OracleQuote],
    disputed: Mapping[str, str],
    base: str,
    bridges: Sequence[str],
    now: datetime,
) -> Price | str:
    """The oracle's price of `q.asset`, or why there is none (the message of an ERROR).

    An underlying whose exchange quotes disagree (`disputed`) is not valued by its oracle
    price instead: the token then has no price either.
    """
    if q.underlying is None:
        if q.price is None or not q.price.is_finite() or q.price <= 0:
            return f"unpriceable: {q.source} gave no price for {q.asset}"
        if q.tracks is not None and q.tracks != q.asset:
            tracked = _shortest_path(graph, q.tracks, base, bridges) if q.tracks != base else ()
            if tracked is not None:
                reference = _price_along(q.tracks, tracked).in_base if tracked else Decimal(1)
                ratio = q.price / reference
                if not TRACKING_BAND[0] <= ratio <= TRACKING_BAND[1]:
                    return (
                        f"unpriceable: {q.source} prices {q.asset} at {q.price:.4g} {base}, "
                        f"{ratio:.3g} times the exchange price of {q.tracks}, which it tracks "
                        f"(expected {TRACKING_BAND[0]}-{TRACKING_BAND[1]} times): the oracle's "
                        "answer is not used"
                    )
        return Price(q.asset, q.price, (), q.as_of, oracle=q.source)
    if q.ratio is None or not q.ratio.is_finite() or q.ratio <= 0:
        return f"unpriceable: no ratio of {q.asset} to {q.underlying} ({q.ratio_source})"
    if q.underlying in disputed:
        return f"unpriceable: {q.asset} is valued through {q.underlying}, whose quotes disagree"
    ratio_note = f"{q.ratio:.6g} {q.underlying} per {q.asset} ({q.ratio_source})"
    if q.underlying == base:
        return Price(q.asset, q.ratio, (), q.as_of, oracle=ratio_note)
    path = _shortest_path(graph, q.underlying, base, bridges)
    if path is not None:
        under = _price_along(q.underlying, path)
        as_of = min(under.as_of, q.as_of) if under.as_of else q.as_of
        return Price(q.asset, q.ratio * under.in_base, under.route, as_of, oracle=ratio_note)
    own = oracles.get(q.underlying)
    if (
        own is not None
        and own.underlying is None
        and own.price is not None
        and own.price.is_finite()
        and own.price > 0
    ):
        as_of = min(own.as_of, q.as_of)
        note = f"{ratio_note}; {q.underlying} from {own.source}"
        return Price(q.asset, q.ratio * own.price, (), as_of, oracle=note)
    return f"unpriceable: {q.asset} is valued through {q.underlying}, which has no price"


def value_holdings(
    holdings: Iterable[Holding], prices: Mapping[str, Price]
) -> tuple[ValuedHolding, ...]:
    """Attach each holding's price (None when its asset is unpriced) to value it in base."""
    return tuple(ValuedHolding(h, prices.get(h.asset)) for h in holdings)


def _usable(q: Quote) -> bool:
    """Spot quotes with a positive mid; contracts (":" settle suffix) price something else.

    Quotes with a side that is not a finite number, or with a crossed book (bid above ask),
    are not used: their mid is no price.
    """
    if ":" in q.symbol or q.symbol.count("/") != 1 or q.base == q.quote:
        return False
    sides = [v for v in (q.bid, q.ask, q.last) if v is not None]
    if any(not v.is_finite() for v in sides):
        return False
    if q.bid is not None and q.ask is not None and q.bid > 0 and q.bid > q.ask:
        return False
    return q.mid is not None


def _disputes(
    fresh: Sequence[Quote], base: str, bridges: Sequence[str], tolerance: Decimal
) -> dict[str, str]:
    """Currencies whose fresh quotes disagree beyond `tolerance`, with the reason for each.

    Every currency is priced along its preferred route; then every fresh quote (from every
    account, chosen or not) is held against the prices of its two currencies. A currency
    blamed for a disagreement is taken out and the check repeats without it.
    """
    disputed: dict[str, str] = {}
    while True:
        live = [q for q in fresh if q.base not in disputed and q.quote not in disputed]
        graph = _graph(live)
        known: dict[str, tuple[Price, int]] = {base: (Price(base, ONE, (), None), 0)}
        for currency in graph:
            if currency != base:
                path = _shortest_path(graph, currency, base, bridges)
                if path is not None:
                    known[currency] = (_price_along(currency, path), len(path))
        found: dict[str, str] = {}
        for q in live:
            if q.base not in known or q.quote not in known:
                continue
            (pb, db), (pq, dq) = known[q.base], known[q.quote]
            mid = q.mid
            assert mid is not None
            implied = mid * pq.in_base  # one q.base in the base currency, by this quote
            high, low = max(implied, pb.in_base), min(implied, pb.in_base)
            if low > 0 and high / low - ONE <= tolerance:
                continue
            blamed = q.quote if dq > db and q.quote != base else q.base
            if blamed == base:
                blamed = q.quote
            if blamed in found or blamed == base:
                continue
            mine = implied if blamed == q.base else pb.in_base / mid
            theirs = known[blamed][0]
            found[blamed] = (
                f"quotes disagree by more than {tolerance:.0%}: {q.symbol} from {q.source} "
                f"at {_fmt_num(mid)} puts {blamed} at {_fmt_num(mine)} {base}, while "
                f"{' x '.join(theirs.route) or base} gives {_fmt_num(theirs.in_base)} {base}; "
                f"no price is used for {blamed} (rebalance.max_price_disagreement)"
            )
        if not found:
            return disputed
        disputed |= found


def _fmt_num(value: Decimal) -> str:
    return f"{value:.6E}" if abs(value.adjusted()) > 12 else f"{value:.8g}"


def _age_seconds(q: Quote, now: datetime) -> float:
    return _age_seconds_at(q.as_of, now)


def _age_seconds_at(as_of: datetime, now: datetime) -> float:
    return max(0.0, (now - as_of).total_seconds())


def _fmt_age(seconds: float) -> str:
    s = int(seconds)
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    if s < 172800:
        return f"{s // 3600} h {(s % 3600) // 60} min"
    return f"{s // 86400} days"


def _spread(q: Quote) -> Decimal:
    """Relative bid/ask spread; a quote without both sides looks least liquid."""
    if q.bid and q.ask and q.bid > 0 and q.ask > 0:
        return (q.ask - q.bid) / q.ask
    return Decimal("Infinity")


def _better(a: Quote, b: Quote) -> bool:
    """Freshest first, then the tightest spread, then a stable name order."""
    if a.as_of != b.as_of:
        return a.as_of > b.as_of
    if _spread(a) != _spread(b):
        return _spread(a) < _spread(b)
    return (a.source, a.symbol) < (b.source, b.symbol)


def _graph(quotes: Iterable[Quote]) -> dict[str, dict[str, _Edge]]:
    """Undirected currency graph with the best quote per pair."""
    graph: dict[str, dict[str, _Edge]] = {}
    for q in quotes:
        mid = q.mid
        assert mid is not None  # filtered by _usable
        current = graph.get(q.base, {}).get(q.quote)
        if current is not None and not _better(q, current.quote):
            continue
        edge = _Edge(q, mid)
        graph.setdefault(q.base, {})[q.quote] = edge
        graph.setdefault(q.quote, {})[q.base] = edge
    return graph


def _shortest_path(
    graph: Mapping[str, Mapping[str, _Edge]], src: str, dst: str, bridges: Sequence[str]
) -> list[tuple[str, _Edge]] | None:
    """Breadth-first search; neighbours visited base first, then bridges, then by name.

    Returns the (from-currency, edge) steps, or None when `dst` is unreachable.
    """
    rank = {c: i for i, c in enumerate(bridges)}

    def order(c: str) -> tuple[int, int, str]:
        return (0 if c == dst else 1, rank.get(c, len(rank)), c)

    parent: dict[str, tuple[str, _Edge]] = {}
    seen = {src}
    todo = deque([src])
    while todo:
        cur = todo.popleft()
        if cur == dst:
            break
        for nxt in sorted(graph.get(cur, {}), key=order):
            if nxt not in seen:
                seen.add(nxt)
                parent[nxt] = (cur, graph[cur][nxt])
                todo.append(nxt)
    if dst not in parent:
        return None
    steps: list[tuple[str, _Edge]] = []
    node = dst
    while node != src:
        prev, edge = parent[node]
        steps.append((prev, edge))
        node = prev
    return steps[::-1]


def _price_along(asset: str, path: list[tuple[str, _Edge]]) -> Price:
    value = ONE
    for src, edge in path:
        value *= edge.rate(src)
    return Price(
        asset=asset,
        in_base=value,
        route=tuple(e.quote.symbol for _, e in path),
        as_of=min(e.quote.as_of for _, e in path),
    )
