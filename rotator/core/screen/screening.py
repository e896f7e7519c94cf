"""The revenue-backed staking-yield screen: which tokens earn real money for their holders.

Pure and vectorised (pandas): the inputs arrive as a `ScreenData` record fetched up front by the
adapters (DefiLlama fees/protocols/pools, CoinGecko markets); `screen()` joins them, computes the
figures per token, applies the filters and returns every candidate with its figures, pass/fail
and the reason for each failure. Turning the passing tokens into basket weights lives in
`rotator.core.screen.basket`.

Joins (why they are this way; DefiLlama docs and defillama-server's dimension handlers):
- fees overview entries carry `slug` and `parentProtocol` but no `gecko_id`; `/protocols` maps
  `slug` -> `gecko_id`; a child protocol ("aave-v3") may have no token of its own, its token then
  sits on the parent ("parent#aave", from the parent list). Tokens are identified by `gecko_id`,
  never by symbol: symbols collide across chains and projects.
- several fee entries can resolve to one token (Uniswap v2 + v3): their revenue is summed, so the
  token's market cap is divided into all its revenue once.
- yield pools' `project` is the protocol slug; a pool of a single asset whose symbol is the
  token's own is its staking pool.
- for chains (`protocolType == "chain"`) DefiLlama counts burned fees as holders revenue while the
  staking yield is mostly new issuance: a chain's burn only counts when it outpaces supply growth.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from rotator.core.models import MarketInfo
from rotator.core.screen.basket import basket_weights
from rotator.core.screen.checks import (
    Reasons,
    chain_checks,
    data_checks,
    exchange_codes,
    join_sorted,
    rank,
    threshold_checks,
    tradability,
)
from rotator.core.screen.params import ScreenParams
from rotator.errors import Problem, Severity

DAYS_PER_YEAR = 365.0

# Columns each ScreenData frame must have; adapters build them, tests build them inline.
FEES_COLUMNS = (
    "slug", "name", "parent", "protocol_type", "disabled",
    "holders_30d", "holders_prev_30d", "revenue_30d", "has_holders",
)  # fmt: skip
PROTOCOLS_COLUMNS = ("slug", "gecko_id", "symbol", "parent")
PARENTS_COLUMNS = ("id", "gecko_id", "name")
POOLS_COLUMNS = ("project", "symbol", "tvl_usd", "apy", "apy_base", "apy_reward")
MARKETS_COLUMNS = (
    "gecko_id", "symbol", "name", "market_cap", "fdv", "volume_24h", "last_updated",
    "supply_growth",
)  # fmt: skip
HISTORY_COLUMNS = ("slug", "day", "holders")


@dataclass(frozen=True, slots=True, eq=False)
class ScreenData:
    """Everything the screen reads, fetched once up front by `rotator.adapters.sources`.

    Attributes:
        fees: one row per fees-overview protocol entry (FEES_COLUMNS); USD over 30 days.
        protocols: DefiLlama `/protocols`: slug -> gecko_id, symbol, parent id.
        parents: parent protocols ("parent#aave") -> gecko_id.
        pools: yield pools (POOLS_COLUMNS); APYs in percent as DefiLlama gives them.
        markets: CoinGecko markets per gecko_id; `supply_growth` is the annualised growth of
            circulating supply (NaN when not measured).
        history: daily holders revenue per slug (HISTORY_COLUMNS), from per-protocol summaries;
            may be empty (the 90-day trend is then unknown).
        as_of: when each source was fetched ("fees", "protocols", "pools", "markets").
        problems: what went wrong while fetching.
    """

    fees: pd.DataFrame
    protocols: pd.DataFrame
    parents: pd.DataFrame
    pools: pd.DataFrame
    markets: pd.DataFrame
    history: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=HISTORY_COLUMNS))
    as_of: Mapping[str, datetime] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class ScreenOutcome:
    """The screen's answer: every candidate token with figures, pass/fail and reasons.

    Attributes:
        table: one row per token (gecko_id), ranked; see docs/screen.md for columns.
        unmapped: fee entries that resolve to no token ("slug (name)"), never silently dropped.
        problems: source-level problems (stale or missing sources).
    """

    table: pd.DataFrame
    unmapped: tuple[str, ...]
    problems: tuple[Problem, ...]


def _parent_tokens(data: ScreenData) -> pd.Series:
    """Parent id -> gecko_id: from `/lite/protocols2`, else from the parent's children.

    A child with `gecko_id: null` (curve-dex, dydx) belongs to its parent's token. When the
    parents feed lacks the parent (or could not be read), the token its other children name
    in `/protocols` is the parent's, provided they all name the same one.
    """
    parents = data.parents.dropna(subset=["gecko_id"])
    named = parents[parents["gecko_id"] != ""].drop_duplicates("id").set_index("id")["gecko_id"]
    children = data.protocols.dropna(subset=["gecko_id", "parent"])
    children = children[children["gecko_id"] != ""]
    ids = children.groupby("parent")["gecko_id"].unique()
    by_children = ids[ids.map(len) == 1].map(lambda found: found[0])
    return pd.concat([named, by_children[~by_children.index.isin(named.index)]])


def resolve_tokens(data: ScreenData) -> pd.DataFrame:
    """Fee entries with the gecko_id they belong to: their own, else their parent's.

    Returns the fee rows plus `gecko_id` (NaN when none) and `via` ("own"/"parent").
    """
    fees = data.fees[~data.fees["disabled"].fillna(False).astype(bool)]
    protocols = data.protocols.drop_duplicates("slug")[["slug", "gecko_id", "parent"]]
    joined = fees.merge(protocols.rename(columns={"parent": "p_parent"}), on="slug", how="left")
    # The overview's own parentProtocol wins; /protocols fills it when the overview omits it.
    parent = joined["parent"].where(joined["parent"].notna(), joined["p_parent"])
    parent_gecko = parent.map(_parent_tokens(data))
    own = joined["gecko_id"].astype(object).where(joined["gecko_id"] != "", None)
    inherited = parent_gecko.astype(object).where(parent_gecko != "", None)
    joined["gecko_id"] = own.where(own.notna(), inherited)
    joined["via"] = np.where(own.notna(), "own", np.where(joined["gecko_id"].notna(), "parent", ""))
    return joined.drop(columns=["p_parent"])


def _history_90d(history: pd.DataFrame, as_of: datetime) -> pd.DataFrame:
    """Per slug: holders revenue over the 90 days to `as_of`, and how many days carry data."""
    if history.empty:
        return pd.DataFrame(columns=["slug", "holders_90d", "days_90d"])
    end = pd.Timestamp(as_of).tz_localize(None).normalize() if pd.Timestamp(as_of).tz else None
    end = end if end is not None else pd.Timestamp(as_of).normalize()
    days = pd.to_datetime(history["day"])
    # Day D holds D's 24 hours: the 90 complete days before `as_of` are [end - 90 d, end).
    window = history[(days >= end - pd.Timedelta(days=90)) & (days < end)]
    grouped = window.groupby("slug")["holders"].agg(["sum", "count"]).reset_index()
    return grouped.rename(columns={"sum": "holders_90d", "count": "days_90d"})


def _staking(pools: pd.DataFrame, slug_gecko: pd.DataFrame, symbols: pd.Series) -> pd.DataFrame:
    """Per gecko_id: TVL-weighted staking APY and the share of it paid in emissions.

    A staking pool is a pool of the token's own project whose symbol is the token alone.
    `apyReward` is paid in emissions, `apyBase` from fees (DefiLlama yields docs / OpenAPI).
    """
    if pools.empty:
        return pd.DataFrame(columns=["gecko_id", "staking_apy", "emission_share", "staking_tvl"])
    p = pools.merge(slug_gecko, left_on="project", right_on="slug", how="inner")
    p = p[p["symbol"].str.upper() == p["gecko_id"].map(symbols)]
    tvl = p["tvl_usd"].fillna(0.0)
    reward = p["apy_reward"].fillna(0.0)
    apy = p["apy"].fillna(p["apy_base"].fillna(0.0) + reward)
    agg = (
        pd.DataFrame(
            {"gecko_id": p["gecko_id"], "w_apy": apy * tvl, "w_rew": reward * tvl, "tvl": tvl}
        )
        .groupby("gecko_id")
        .sum()
    )
    out = pd.DataFrame(index=agg.index)
    out["staking_apy"] = (agg["w_apy"] / agg["tvl"].where(agg["tvl"] > 0)) / 100.0
    out["emission_share"] = agg["w_rew"] / agg["w_apy"].where(agg["w_apy"] > 0)
    out["staking_tvl"] = agg["tvl"]
    return out.reset_index()


def _source_problems(data: ScreenData, params: ScreenParams, as_of: datetime) -> list[Problem]:
    """A missing or stale source makes every token fail; say which and how old."""
    problems = []
    limit = timedelta(hours=params.max_data_age_hours)
    for source in ("fees", "protocols", "pools", "markets"):
        fetched = data.as_of.get(source)
        if fetched is None:
            problems.append(Problem(Severity.ERROR, f"screen {source}", "not fetched"))
        elif as_of - fetched > limit:
            age = (as_of - fetched).total_seconds() / 3600
            problems.append(
                Problem(
                    Severity.ERROR,
                    f"screen {source}",
                    f"data is {age:.0f} h old (max_data_age_hours {params.max_data_age_hours:g})",
                )
            )
    return problems


def _aggregate(rows: pd.DataFrame) -> pd.DataFrame:
    """Fee rows (one per protocol) -> one row per token, revenue summed across protocols."""
    rows = rows.assign(
        holders_rows=rows["has_holders"].astype(bool),
        prev_known=rows["has_holders"].astype(bool) & rows["holders_prev_30d"].notna(),
        full_90d=rows["has_holders"].astype(bool) & (rows["days_90d"].fillna(0) >= 85),
        chain=rows["protocol_type"] == "chain",
    )
    grouped = rows.groupby("gecko_id")
    tokens = grouped.agg(
        n_holders=("holders_rows", "sum"),
        n_prev=("prev_known", "sum"),
        n_90d=("full_90d", "sum"),
        chain=("chain", "any"),
    )
    # min_count=1: a token none of whose protocols reports a figure gets NaN, not a false 0.
    for column in ("holders_30d", "holders_prev_30d", "holders_90d", "revenue_30d"):
        tokens[column] = grouped[column].sum(min_count=1)
    tokens["protocols"] = join_sorted(rows["slug"], rows["gecko_id"])
    stale = rows[rows["holders_rows"] & rows["holders_30d"].isna()]
    tokens["stale"] = join_sorted(stale["slug"], stale["gecko_id"])
    return tokens


def screen(
    data: ScreenData,
    params: ScreenParams,
    markets: pd.DataFrame,
    as_of: datetime,
) -> ScreenOutcome:
    """Join the sources, compute every token's figures and apply the filters.

    Args:
        data: the fetched inputs.
        params: the rule set's screen parameters.
        markets: exchange markets of the user's accounts (columns account, base, quote, active).
        as_of: the run's time (tz-aware); data older than `max_data_age_hours` counts as stale.

    Returns:
        Every candidate token, passing ones first in rank order, with its figures and reasons.
    """
    problems = list(data.problems) + _source_problems(data, params, as_of)
    rows = resolve_tokens(data)
    lost = rows[rows["gecko_id"].isna()]
    unmapped = tuple(f"{s} ({n})" for s, n in zip(lost["slug"], lost["name"], strict=True))
    rows = rows[rows["gecko_id"].notna()].merge(_history_90d(data.history, as_of), how="left")
    if "holders_90d" not in rows:
        rows = rows.assign(holders_90d=np.nan, days_90d=np.nan)
    t = _aggregate(rows)
    missing = [g for g in params.include if g not in t.index]
    t = pd.concat([t, pd.DataFrame(index=pd.Index(missing, name="gecko_id"))]) if missing else t

    mk = data.markets.drop_duplicates("gecko_id").set_index("gecko_id")
    t = t.join(mk[["symbol", "name", "market_cap", "fdv", "volume_24h", "last_updated",
                   "supply_growth"]], how="left")  # fmt: skip
    t["has_market"] = t.index.isin(mk.index)
    slug_symbol = data.protocols.dropna(subset=["gecko_id"]).drop_duplicates("gecko_id")
    fallback = slug_symbol.set_index("gecko_id")["symbol"]
    t["symbol"] = t["symbol"].fillna(t.index.to_series().map(fallback)).fillna("").str.upper()
    overrides = pd.Series(params.symbols, dtype=object)
    t.loc[t.index.isin(overrides.index), "symbol"] = overrides
    t["name"] = t["name"].fillna(t.index.to_series())

    # Staking pools: pool `project` is a child or parent slug of the token's protocols.
    slug_gecko = resolve_tokens(data)[["slug", "gecko_id"]].dropna().drop_duplicates()
    t = t.join(_staking(data.pools, slug_gecko, t["symbol"]).set_index("gecko_id"), how="left")

    mcap = t["market_cap"].where(t["market_cap"] > 0)
    t["holders_revenue_annual"] = t["holders_30d"] * (DAYS_PER_YEAR / 30.0)
    t["revenue_yield"] = t["holders_revenue_annual"] / mcap
    prev = t["holders_prev_30d"].where(t["n_prev"] == t["n_holders"])
    t["trend_30d"] = _trend(t["holders_30d"], prev)
    base_90 = (t["holders_90d"] / 3.0).where((t["n_90d"] == t["n_holders"]) & (t["n_holders"] > 0))
    t["trend_90d"] = _trend(t["holders_30d"], base_90)
    t["fdv_ratio"] = t["fdv"] / mcap
    t["net_yield"] = t["revenue_yield"] - t["supply_growth"]
    t["chain"] = t["chain"].fillna(False).astype(bool)

    r = Reasons(t.index)
    data_checks(r, t, params, as_of, problems)
    # Figures built on missing data would only add noise: such tokens skip the value checks.
    sound = r.text == ""
    problems += _market_and_pool_problems(t, sound, params, as_of, len(data.pools))
    chain_checks(r, t, sound)
    forced = pd.Series(t.index.isin(params.include), index=t.index)
    threshold_checks(r, t, params, sound & ~forced)
    exchange_codes(r, t, params)
    tradability(r, t, params, markets)
    t["reasons"] = r.text
    t["passed"] = r.text == ""
    table = rank(t, params)
    weights = basket_weights(table, params.weighting, params.max_weight, params.max_count)
    table["weight"] = weights
    table["in_basket"] = weights.notna()
    return ScreenOutcome(table=table, unmapped=unmapped, problems=tuple(problems))


def _market_and_pool_problems(
    t: pd.DataFrame, sound: pd.Series, params: ScreenParams, as_of: datetime, n_pools: int
) -> list[Problem]:
    """Say what a per-token reason alone would hide.

    Stale CoinGecko market data for *every* token is a source failure (an ERROR: the screen is
    incomplete, exit 3), not an empty basket. Tokens without a staking pool of their own project
    in the pools snapshot (a snapshot of DEX pools only, say) skip the emission check: a note
    names them.
    """
    out = []
    with_market = t["has_market"].astype(bool)
    updated = pd.to_datetime(t["last_updated"], utc=True)
    limit = as_of - timedelta(hours=params.max_data_age_hours)
    stale = with_market & (updated.isna() | (updated < limit))
    if with_market.any() and stale[with_market].all():
        newest = updated[with_market].max()
        when = "never" if pd.isna(newest) else f"{newest:%Y-%m-%d %H:%M} UTC"
        out.append(
            Problem(
                Severity.ERROR,
                "screen markets",
                f"CoinGecko market data is stale for all {int(with_market.sum())} tokens "
                f"(newest update {when}; max_data_age_hours {params.max_data_age_hours:g}): "
                "no basket can be chosen",
            )
        )
    unchecked = t[sound & t["staking_apy"].isna()]["symbol"].replace("", np.nan).dropna()
    if len(unchecked):
        names = ", ".join(sorted(unchecked)[:20]) + (
            f" and {len(unchecked) - 20} more" if len(unchecked) > 20 else ""
        )
        out.append(
            Problem(
                Severity.INFO,
                "screen pools",
                f"emission check skipped for {names}: the pools snapshot ({n_pools} pools) has "
                "no staking pool of their project (e.g. DEX pools only)",
            )
        )
    return out


def _trend(current: pd.Series, base: pd.Series) -> pd.Series:
    """current / base - 1; +inf when revenue appears from zero; NaN when the base is unknown."""
    ratio = current / base.where(base > 0) - 1.0
    return ratio.mask((base == 0) & (current > 0), np.inf)


def markets_frame(markets: Iterable[MarketInfo]) -> pd.DataFrame:
    """The accounts' exchange markets as a frame (account, base, quote, active) for the screen."""
    rows = [(m.account, m.base.upper(), m.quote.upper(), m.active) for m in markets]
    return pd.DataFrame(rows, columns=["account", "base", "quote", "active"])
