"""The revenue screen's joins, figures, filters and reasons on small inline universes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from rotator.core.models import CASH_BUCKET
from rotator.core.screen.basket import to_basket
from rotator.core.screen.screening import ScreenData, ScreenParams, screen

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)


def fees(*rows: tuple) -> pd.DataFrame:
    """(slug, holders_30d, prev_30d[, parent[, protocol_type[, has_holders[, disabled]]]])."""
    out = []
    for r in rows:
        slug, h30, prev, *rest = r
        parent = rest[0] if len(rest) > 0 else None
        ptype = rest[1] if len(rest) > 1 else "protocol"
        has = rest[2] if len(rest) > 2 else True
        disabled = rest[3] if len(rest) > 3 else False
        out.append(
            {
                "slug": slug, "name": slug.title(), "parent": parent, "protocol_type": ptype,
                "disabled": disabled, "holders_30d": h30, "holders_prev_30d": prev,
                "revenue_30d": (h30 or 0) * 2, "has_holders": has,
            }
        )  # fmt: skip
    return pd.DataFrame(out)


def protocols(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(
        [{"slug": s, "gecko_id": g, "symbol": sym, "parent": p} for s, g, sym, p in rows]
    )


def markets(*rows: tuple, updated: datetime = NOW - timedelta(hours=1)) -> pd.DataFrame:
    """(gecko_id, symbol, market_cap[, fdv[, volume[, supply_growth]]])."""
    out = []
    for r in rows:
        gid, sym, mcap, *rest = r
        out.append(
            {
                "gecko_id": gid, "symbol": sym, "name": gid, "market_cap": mcap,
                "fdv": rest[0] if rest else mcap, "volume_24h": rest[1] if len(rest) > 1 else 5e7,
                "last_updated": pd.Timestamp(updated), "supply_growth":
                rest[2] if len(rest) > 2 else np.nan,
            }
        )  # fmt: skip
    return pd.DataFrame(out)


def pools(*rows: tuple) -> pd.DataFrame:
    """(project, symbol, tvl, apy_base, apy_reward)."""
    return pd.DataFrame(
        [
            {
                "project": p,
                "symbol": s,
                "tvl_usd": t,
                "apy_base": b,
                "apy_reward": r,
                "apy": (b or 0) + (r or 0),
            }
            for p, s, t, b, r in rows
        ],
        columns=["project", "symbol", "tvl_usd", "apy", "apy_base", "apy_reward"],
    )


def exchange(*bases: str, quote: str = "USDT", account: str = "binance-main") -> pd.DataFrame:
    return pd.DataFrame(
        [(account, b, quote, True) for b in bases], columns=["account", "base", "quote", "active"]
    )


def data(
    fee_rows: pd.DataFrame,
    proto_rows: pd.DataFrame,
    market_rows: pd.DataFrame,
    pool_rows: pd.DataFrame | None = None,
    parents: pd.DataFrame | None = None,
    fetched: datetime = NOW - timedelta(hours=1),
) -> ScreenData:
    return ScreenData(
        fees=fee_rows,
        protocols=proto_rows,
        parents=parents
        if parents is not None
        else pd.DataFrame(columns=["id", "gecko_id", "name"]),
        pools=pool_rows if pool_rows is not None else pools(),
        markets=market_rows,
        as_of={k: fetched for k in ("fees", "protocols", "pools", "markets")},
    )


LOOSE = ScreenParams(min_revenue_yield=0, min_holders_revenue=0, min_market_cap=0, min_volume=0)


def by_id(outcome) -> pd.DataFrame:
    return outcome.table.set_index("gecko_id")


def test_protocol_without_token_is_listed_as_unmapped_not_dropped_silently() -> None:
    d = data(
        fees(("morpho-blue", 1e6, 1e6), ("maker", 5e6, 5e6)),
        protocols(("morpho-blue", None, "-", None), ("maker", "maker", "MKR", None)),
        markets(("maker", "mkr", 1e9)),
    )
    out = screen(d, LOOSE, exchange("MKR"), NOW)
    assert out.unmapped == ("morpho-blue (Morpho-Blue)",)
    assert list(out.table["gecko_id"]) == ["maker"]


def test_token_of_several_protocols_sums_their_revenue_and_child_uses_parent_token() -> None:
    d = data(
        fees(
            ("aave-v3", 2e6, 1e6, "parent#aave"),
            ("aave-v2", 1e6, 1e6, "parent#aave"),
            ("aave-v1", None, None, "parent#aave", "protocol", True, True),
        ),
        protocols(("aave-v3", None, "AAVE", "parent#aave"), ("aave-v2", "aave", "AAVE", None)),
        markets(("aave", "aave", 1.2e9)),
        parents=pd.DataFrame([{"id": "parent#aave", "gecko_id": "aave", "name": "Aave"}]),
    )
    row = by_id(screen(d, LOOSE, exchange("AAVE"), NOW)).loc["aave"]
    assert row["holders_30d"] == 3e6
    assert row["protocols"] == "aave-v1, aave-v2, aave-v3" or row["protocols"] == "aave-v2, aave-v3"
    assert row["revenue_yield"] == pytest.approx(3e6 * 365 / 30 / 1.2e9)
    assert row["trend_30d"] == pytest.approx(3e6 / 2e6 - 1)
    assert row["passed"]


@pytest.mark.parametrize("holders", [0.0, -25_000.0])
def test_zero_or_negative_revenue_fails_with_reason(holders: float) -> None:
    d = data(fees(("uni", holders, 1e5)), protocols(("uni", "uniswap", "UNI", None)),
             markets(("uniswap", "uni", 4e9)))  # fmt: skip
    row = by_id(screen(d, LOOSE, exchange("UNI"), NOW)).loc["uniswap"]
    assert not row["passed"]
    assert "zero or negative" in row["reasons"]


def test_missing_market_cap_and_missing_market_data_fail_with_reasons() -> None:
    d = data(
        fees(("joe", 5e5, 4e5), ("nomarket", 5e5, 4e5)),
        protocols(("joe", "joe", "JOE", None), ("nomarket", "nomarket", "NOM", None)),
        markets(("joe", "joe", 0.0)),
    )
    table = by_id(screen(d, LOOSE, exchange("JOE", "NOM"), NOW))
    assert table.loc["joe", "reasons"] == "market cap unknown"
    assert table.loc["nomarket", "reasons"] == "no CoinGecko market data"


def test_duplicate_symbols_are_separate_tokens_and_ambiguous_on_exchanges() -> None:
    d = data(
        fees(("velodrome-v2", 3e6, 3e6), ("velo", 4e5, 4e5)),
        protocols(
            ("velodrome-v2", "velodrome-finance", "VELO", None), ("velo", "velo", "VELO", None)
        ),
        markets(("velodrome-finance", "velo", 1.5e8), ("velo", "velo", 9e7)),
    )
    table = by_id(screen(d, LOOSE, exchange("VELO"), NOW))
    assert table.loc["velodrome-finance", "holders_30d"] == 3e6  # not mixed with velo's 4e5
    assert table.loc["velo", "holders_30d"] == 4e5
    for gecko_id in ("velodrome-finance", "velo"):
        assert "symbol VELO is shared by velo, velodrome-finance" in table.loc[gecko_id, "reasons"]
    # Saying which token the exchange lists resolves it, for that token only.
    chosen = LOOSE.model_copy(update={"symbols": {"velodrome-finance": "VELO"}})
    table = by_id(screen(d, chosen, exchange("VELO"), NOW))
    assert table.loc["velodrome-finance", "passed"]
    assert not table.loc["velo", "passed"]
    assert "assigned to velodrome-finance" in table.loc["velo", "reasons"]


@pytest.mark.parametrize("require_tradable", [True, False])
def test_a_shared_symbol_keeps_both_tokens_out_of_the_basket_tradability_checked_or_not(
    require_tradable: bool,
) -> None:
    # Velodrome would top the basket at its 35 % cap; velo is a smaller token also called VELO.
    # Screened without accounts (`rotator signals`) the code still cannot tell them apart.
    d = data(
        fees(("velodrome-v2", 3e6, 3e6), ("velo", 4e5, 4e5), ("maker", 5e6, 5e6)),
        protocols(
            ("velodrome-v2", "velodrome-finance", "VELO", None),
            ("velo", "velo", "VELO", None),
            ("maker", "maker", "MKR", None),
        ),
        markets(("velodrome-finance", "velo", 1.5e8), ("velo", "velo", 9e7), ("maker", "mkr", 1e9)),
    )
    params = LOOSE.model_copy(update={"require_tradable": require_tradable})
    table = by_id(screen(d, params, exchange("VELO", "MKR"), NOW))
    shared = (
        "symbol VELO is shared by velo, velodrome-finance: set symbols: {gecko_id: CODE} to say "
        "which one your exchanges list"
    )
    for gecko_id in ("velodrome-finance", "velo"):
        row = table.loc[gecko_id]
        assert not row["passed"] and not row["in_basket"]
        assert row["reasons"] == row["code_conflict"] == shared
    basket = to_basket(table.reset_index())
    # MKR alone, held to the 35 % cap; the rest is cash, as max_weight designs it.
    assert basket == {"MKR": Decimal("0.35"), CASH_BUCKET: Decimal("0.65")}


def test_a_basket_never_merges_two_members_under_one_code() -> None:
    table = pd.DataFrame(
        {"symbol": ["VELO", "MKR", "VELO"], "weight": [0.35, 0.35, 0.30]},
        index=["velodrome-finance", "maker", "velo"],
    )
    with pytest.raises(ValueError, match="share the exchange code"):
        to_basket(table)


def test_chain_burn_counts_only_when_it_beats_issuance() -> None:
    d = data(
        fees(
            ("ethereum", 6e7, 6e7, None, "chain"),
            ("solana", 5e7, 5e7, None, "chain"),
            ("tron", 3e7, 3e7, None, "chain"),
        ),
        protocols(
            ("ethereum", "ethereum", "ETH", None),
            ("solana", "solana", "SOL", None),
            ("tron", "tron", "TRX", None),
        ),
        markets(
            ("ethereum", "eth", 2e11),
            ("solana", "sol", 1e10, 1e10, 5e8, 0.065),
            ("tron", "trx", 7.6e9, 7.6e9, 5e8, -0.01),
        ),
    )
    table = by_id(screen(d, LOOSE, exchange("ETH", "SOL", "TRX"), NOW))
    assert "supply growth is unknown" in table.loc["ethereum", "reasons"]
    # Solana burns 6.0 % of its cap a year but issues 6.5 %: the "yield" is inflation.
    assert "do not outpace issuance" in table.loc["solana", "reasons"]
    assert table.loc["tron", "passed"]
    assert table.loc["tron", "net_yield"] == pytest.approx(3e7 * 365 / 30 / 7.6e9 + 0.01)


def test_emission_share_from_staking_pools_only() -> None:
    d = data(
        fees(("curve-dex", 1.5e6, 1.5e6)),
        protocols(("curve-dex", "curve-dao-token", "CRV", None)),
        markets(("curve-dao-token", "crv", 6e8)),
        pools(("curve-dex", "CRV", 4e8, 2.0, 8.0), ("curve-dex", "ETH-STETH", 2e8, 1.8, None)),
    )
    row = by_id(screen(d, LOOSE, exchange("CRV"), NOW)).loc["curve-dao-token"]
    assert row["emission_share"] == pytest.approx(0.8)  # the LP pool is not a staking pool
    assert "emissions pay 80.0% of the staking APY" in row["reasons"]


def test_thresholds_trend_and_lists() -> None:
    d = data(
        fees(("a", 1e6, 1e6), ("b", 1e6, 3e6), ("c", 1e5, 1e5), ("d", 2e6, 2e6)),
        protocols(
            ("a", "a", "A", None),
            ("b", "b", "B", None),
            ("c", "c", "C", None),
            ("d", "d", "D", None),
        ),
        markets(("a", "a", 1e8), ("b", "b", 1e8), ("c", "c", 1e8), ("d", "d", 1e8, 9e8)),
    )
    params = ScreenParams(
        min_revenue_yield=0.05,
        min_holders_revenue=2e6,
        min_market_cap=5e7,
        min_volume=1e6,
        max_fdv_ratio=5,
        include=("c",),
        exclude=("a",),
    )
    table = by_id(screen(d, params, exchange("A", "B", "C", "D"), NOW))
    assert table.loc["a", "reasons"] == "in the exclude list"
    assert "-66.7% vs the previous 30 days" in table.loc["b", "reasons"]
    assert table.loc["c", "passed"]  # below the minimums, but in the include list
    assert "FDV is 9.0x the market cap" in table.loc["d", "reasons"]


def test_stale_source_and_stale_market_data_fail_everything_with_reasons() -> None:
    d = data(fees(("m", 5e6, 5e6)), protocols(("m", "maker", "MKR", None)),
             markets(("maker", "mkr", 1e9)), fetched=NOW - timedelta(days=3))  # fmt: skip
    out = screen(d, LOOSE, exchange("MKR"), NOW)
    assert {p.subject for p in out.problems} >= {"screen fees", "screen markets"}
    assert "data is 72 h old" in by_id(out).loc["maker", "reasons"]
    d = data(fees(("m", 5e6, 5e6)), protocols(("m", "maker", "MKR", None)),
             markets(("maker", "mkr", 1e9), updated=NOW - timedelta(days=4)))  # fmt: skip
    assert (
        "market data stale" in by_id(screen(d, LOOSE, exchange("MKR"), NOW)).loc["maker", "reasons"]
    )


def test_basket_weights_capped_redistributed_and_counted() -> None:
    tokens = [(f"t{i}", 10e6 / (i + 1)) for i in range(6)]
    d = data(
        fees(*[(g, h, h) for g, h in tokens]),
        protocols(*[(g, g, g.upper(), None) for g, _ in tokens]),
        markets(*[(g, g, 1e8) for g, _ in tokens]),
    )
    params = LOOSE.model_copy(update={"max_weight": 0.3, "max_count": 4})
    table = screen(d, params, exchange(*[g.upper() for g, _ in tokens]), NOW).table
    basket = table[table["in_basket"]].set_index("gecko_id")["weight"]
    assert list(basket.index) == ["t0", "t1", "t2", "t3"]  # ranked by revenue yield
    assert basket.sum() == pytest.approx(1.0)
    assert basket.max() == pytest.approx(0.3)
    # Uncapped members keep their revenue-yield proportions: t2 : t3 = (1/3) : (1/4).
    assert basket["t2"] / basket["t3"] == pytest.approx(4 / 3)
    equal = screen(
        d,
        params.model_copy(update={"weighting": "equal"}),
        exchange(*[g.upper() for g, _ in tokens]),
        NOW,
    ).table
    assert set(equal.loc[equal["in_basket"], "weight"].round(9)) == {0.25}


def test_params_are_validated() -> None:
    with pytest.raises(ValidationError, match="weighting"):
        ScreenParams(weighting="random")
    with pytest.raises(ValidationError, match="unknown figure"):
        ScreenParams(rank_by="score", score={"vibes": 1.0})
    with pytest.raises(ValidationError, match="extra"):
        ScreenParams(min_yield=0.1)
    with pytest.raises(ValidationError, match="one exchange code can name one token only"):
        ScreenParams(symbols={"velodrome-finance": "VELO", "velo": "velo"})
