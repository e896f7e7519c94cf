"""The revenue screen's checks: each failing check adds a stated reason to the token's row.

Vectorised over the token table built by `rotator.core.screen.screening`: every check is a
boolean mask plus a message column, so a universe of thousands of tokens needs no Python loop
per token.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from rotator.errors import Problem, Severity

if TYPE_CHECKING:
    from rotator.core.screen.params import ScreenParams


def tradable_on(markets: pd.DataFrame, quotes: tuple[str, ...]) -> pd.Series:
    """Base code -> "account1, account2" holding an active market against one of `quotes`."""
    if markets.empty:
        return pd.Series(dtype=object)
    usable = markets[markets["quote"].isin(quotes) & markets["active"]]
    usable = usable.drop_duplicates(["base", "account"])
    return join_sorted(usable["account"], usable["base"])


def join_sorted(values: pd.Series, keys: pd.Series) -> pd.Series:
    """Per key, its values sorted and joined with ", " (a grouped string sum, no Python loop)."""
    if values.empty:
        return pd.Series(dtype=object)
    frame = pd.DataFrame({"k": keys.to_numpy(), "v": values.astype(str).to_numpy()})
    frame = frame.sort_values(["k", "v"])
    return (frame["v"] + ", ").groupby(frame["k"]).sum().str[:-2]


class Reasons:
    """Accumulates failure reasons per token, vectorised: one string column, "; "-joined."""

    def __init__(self, index: pd.Index) -> None:
        self.text = pd.Series("", index=index, dtype=object)

    def add(self, mask: pd.Series, message: pd.Series | str) -> None:
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        msg = message[mask] if isinstance(message, pd.Series) else message
        current = self.text[mask]
        self.text[mask] = current + np.where(current != "", "; ", "") + msg


def _fmt(values: pd.Series, pattern: str, scale: float) -> pd.Series:
    """printf-style formatting of a whole column at once; NaN becomes "n/a"."""
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float) * scale
    text = np.char.mod(pattern, np.nan_to_num(numbers, nan=0.0, posinf=0.0, neginf=0.0))
    return pd.Series(np.where(np.isfinite(numbers), text, "n/a"), index=values.index, dtype=object)


def _pct(values: pd.Series) -> pd.Series:
    return _fmt(values, "%.1f%%", 100.0)


def _usd(values: pd.Series) -> pd.Series:
    return _fmt(values, "$%.1fM", 1e-6)


def data_checks(
    r: Reasons, t: pd.DataFrame, p: ScreenParams, as_of: datetime, problems: list[Problem]
) -> None:
    """Missing, stale or non-positive data: fails every token concerned, include list or not."""
    for problem in problems:
        if problem.severity is Severity.ERROR:
            r.add(pd.Series(True, index=t.index), f"{problem.subject}: {problem.message}")
    r.add(pd.Series(t.index.isin(p.exclude), index=t.index), "in the exclude list")
    r.add(t["n_holders"].isna(), "in the include list, but DefiLlama lists no fees for it")
    r.add(
        t["stale"].notna(),
        "holders revenue missing or stale for " + t["stale"].fillna("") + " (DefiLlama gives "
        "no total when a protocol's data is over 5 days old)",
    )
    r.add(t["n_holders"] == 0, "DefiLlama reports revenue but no holders revenue")
    has_revenue = (t["n_holders"] > 0) & t["stale"].isna()
    r.add(
        has_revenue & (t["holders_30d"] <= 0),
        "holders revenue over 30 days is zero or negative (" + _usd(t["holders_30d"]) + ")",
    )
    r.add(t["n_holders"].notna() & ~t["has_market"], "no CoinGecko market data")
    r.add(t["has_market"] & ~(t["market_cap"] > 0), "market cap unknown")
    updated = pd.to_datetime(t["last_updated"], utc=True)
    old = t["has_market"] & (
        updated.isna() | (updated < as_of - timedelta(hours=p.max_data_age_hours))
    )
    r.add(old, "market data stale (last updated " + updated.astype(str) + ")")


def chain_checks(r: Reasons, t: pd.DataFrame, apply: pd.Series) -> None:
    """Chains: DefiLlama's holders revenue is burned fees; it counts only if it beats issuance.

    Source: DefiLlama dimension-adapters' fee attribute table (holdersRevenue of chains =
    burned coins). Staking APY on a chain is mostly new issuance, so a chain token passes only
    when its burn yield exceeds its measured supply growth (net supply shrinks or grows slower).
    """
    chain = t["chain"] & apply
    r.add(
        chain & t["supply_growth"].isna(),
        "chain token: DefiLlama counts its burned fees as holders revenue and its supply growth "
        "is unknown, so burn cannot be told from issuance",
    )
    r.add(
        chain & (t["supply_growth"] >= t["revenue_yield"]),
        "chain token: burned fees (" + _pct(t["revenue_yield"]) + " of mcap a year) do not "
        "outpace issuance (supply " + _pct(t["supply_growth"]) + " a year): its staking yield is "
        "inflation, not revenue",
    )


def threshold_checks(r: Reasons, t: pd.DataFrame, p: ScreenParams, apply: pd.Series) -> None:
    """The configured minimums and maximums; tokens in the include list skip them."""

    def add(mask: pd.Series, message: pd.Series | str) -> None:
        r.add(mask & apply, message)

    add(
        t["revenue_yield"] < p.min_revenue_yield,
        "revenue yield " + _pct(t["revenue_yield"]) + f" < {p.min_revenue_yield:.1%}",
    )
    add(
        t["holders_revenue_annual"] < p.min_holders_revenue,
        "holders revenue "
        + _usd(t["holders_revenue_annual"])
        + "/yr < "
        + _usd(pd.Series(p.min_holders_revenue, index=t.index)),
    )
    add(
        t["market_cap"] < p.min_market_cap,
        "market cap " + _usd(t["market_cap"]) + f" < ${p.min_market_cap / 1e6:,.0f}M",
    )
    add(
        t["has_market"] & ~(t["volume_24h"] >= p.min_volume),
        "24h volume " + _usd(t["volume_24h"]) + f" < ${p.min_volume / 1e6:,.1f}M",
    )
    add(
        t["emission_share"] > p.max_emission_share,
        "emissions pay "
        + _pct(t["emission_share"])
        + " of the staking APY (max "
        + f"{p.max_emission_share:.0%})",
    )
    if p.require_staking_pool:
        add(t["staking_apy"].isna(), "no staking pool found in DefiLlama yields")
    known = t["n_holders"] > 0
    add(known & t["trend_30d"].isna(), "holders revenue of the previous 30 days unknown")
    add(
        t["trend_30d"] < -p.max_revenue_decline,
        "holders revenue " + _pct(t["trend_30d"]) + f" vs the previous 30 days (max decline "
        f"{p.max_revenue_decline:.0%})",
    )
    if p.max_decline_vs_90d is not None:
        add(known & t["trend_90d"].isna(), "less than 90 days of holders revenue history")
        add(
            t["trend_90d"] < -p.max_decline_vs_90d,
            "holders revenue " + _pct(t["trend_90d"]) + " vs its 90-day monthly average (max "
            f"decline {p.max_decline_vs_90d:.0%})",
        )
    if p.max_fdv_ratio is not None:
        add(t["has_market"] & t["fdv_ratio"].isna(), "FDV unknown")
        add(
            t["fdv_ratio"] > p.max_fdv_ratio,
            "FDV is " + _fmt(t["fdv_ratio"], "%.1f", 1.0) + f"x the market cap (max "
            f"{p.max_fdv_ratio:g}x)",
        )
    if p.max_supply_inflation is not None:
        add(t["has_market"] & t["supply_growth"].isna(), "supply growth unknown")
        add(
            t["supply_growth"] > p.max_supply_inflation,
            "supply grows " + _pct(t["supply_growth"]) + f" a year (max "
            f"{p.max_supply_inflation:.1%})",
        )


def exchange_codes(r: Reasons, t: pd.DataFrame, p: ScreenParams) -> None:
    """One exchange code per token: a basket holds its tokens, and an exchange trades them, by code.

    The code is the CoinGecko symbol (or the `symbols` override), applied only after the gecko_id
    join. A code two screened tokens share (VELO: velodrome-finance and velo) cannot tell them
    apart: an order under it might buy the other token, and a basket keyed by code would merge
    them. So neither may enter a basket under it, tradability checked or not (`rotator screen`,
    `plan` and `signals` alike), until `symbols` gives the code to one of them; a code `symbols`
    gives one token fails the others that carry it. Sets `t["code_conflict"]`: the reason, or "".
    """
    plain = t.loc[~t.index.isin(list(p.symbols)) & (t["symbol"] != ""), "symbol"]
    dupes = plain[plain.duplicated(keep=False)]
    sharers = dupes.map(join_sorted(dupes.index.to_series(), dupes))
    # A code the user assigned to one token in `symbols` belongs to that token only.
    assigned = pd.Series({code: gecko for gecko, code in p.symbols.items()}, dtype=object)
    claimed = plain.map(assigned).dropna().reindex(t.index)
    shared = pd.Series(t.index.isin(dupes.index), index=t.index) & claimed.isna()
    conflict = pd.Series("", index=t.index, dtype=object)
    conflict[claimed.notna()] = (
        "exchange code " + t["symbol"] + " is assigned to " + claimed.astype(object).fillna("")
        + " in symbols"
    )[claimed.notna()]  # fmt: skip
    conflict[shared] = (
        "symbol "
        + t["symbol"]
        + " is shared by "
        + sharers.reindex(t.index).astype(object).fillna("")
        + ": set symbols: {gecko_id: CODE} to say which one your exchanges list"
    )[shared]
    t["code_conflict"] = conflict
    r.add(conflict != "", conflict)


def tradability(r: Reasons, t: pd.DataFrame, p: ScreenParams, markets: pd.DataFrame) -> None:
    """Tradable = an active market of the token's exchange code against one of `p.quotes`.

    A token whose code is in conflict (`exchange_codes`) already fails for it: no market is
    looked for under a code that does not name it.
    """
    t["tradable_on"] = t["symbol"].map(tradable_on(markets, p.quotes)).astype(object).fillna("")
    if not p.require_tradable:
        return
    r.add(
        (t["code_conflict"] == "") & (t["tradable_on"] == ""),
        "no market " + t["symbol"] + f"/{{{','.join(p.quotes)}}} on any account",
    )


def rank(t: pd.DataFrame, p: ScreenParams) -> pd.DataFrame:
    """Passing tokens first, by the configured ranking; the rest by revenue yield."""
    if p.rank_by == "score" and p.score:
        ranks = t.loc[t["passed"], list(p.score)].rank(pct=True)
        key = sum(
            (ranks[name].fillna(0) * weight for name, weight in p.score.items()),
            start=pd.Series(0.0, index=ranks.index),
        )
        t["score"] = key.reindex(t.index)
    else:
        column = "holders_revenue_annual" if p.rank_by == "holders_revenue" else "revenue_yield"
        t["score"] = t[column].where(t["passed"])
    t = t.sort_values(["passed", "score", "revenue_yield"], ascending=[False, False, False])
    t["rank"] = np.where(t["passed"], np.arange(1, len(t) + 1), np.nan)
    return t.rename_axis("gecko_id").reset_index()
