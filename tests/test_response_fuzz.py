"""Every response parser, fed arbitrary JSON: a result or the project's own error, never another.

Each parser below is the function that turns one decoded answer (exchange structures as ccxt
hands them over, Esplora, multiaddr, JSON-RPC replies, EVM quantities, Solana accounts,
oracle prices, DefiLlama, CoinGecko, FRED and FiscalData pages) into records. Hypothesis
feeds each one JSON values of every shape, with hostile numbers mixed in (huge integers,
1e308, negative and fractional amounts, NaN and Infinity as JSON allows them to be decoded)
and, for the transport, raw bytes.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from fake_clock import FakeClock
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rotator.adapters.chains import bitcoin, evm, solana
from rotator.adapters.chains.oracle import parse_llama_prices, parse_simple_price
from rotator.adapters.chains.rpc import ChainReadError, Endpoint, _match_replies, decode_json
from rotator.adapters.exchanges.normalize import (
    ShapeError,
    balance_holdings,
    market_info,
    quote_of,
)
from rotator.adapters.sources import (
    coingecko,
    coingecko_history,
    coingecko_markets,
    defillama,
    fiscaldata,
    fred,
    livecoinwatch,
    yahoo,
)
from rotator.adapters.sources.http import SourceError
from rotator.adapters.sources.http import decode_json as decode_source_json
from rotator.core.models import WalletKind

NOW = datetime(2026, 6, 1, tzinfo=UTC)
ADDRESS = "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"

numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**300), max_value=2**300),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1e308, 1e-300, 2**256, 10**30, 0.5]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    numbers,
    st.text(max_size=12),
    st.sampled_from(["0x", "0x1", "lots", "NaN", "1e400", "-5", "0xffffffffffffffff"]),
)
keys = st.one_of(
    st.text(max_size=8),
    st.sampled_from(
        [
            "chain_stats", "mempool_stats", "funded_txo_sum", "spent_txo_sum", "tx_count",
            "addresses", "address", "final_balance", "n_tx", "info", "latest_block", "height",
            "jsonrpc", "id", "result", "error", "value", "context", "slot", "lamports",
            "account", "data", "parsed", "tokenAmount", "amount", "decimals", "mint",
            "bitcoin", "usd", "coins", "price", "total", "free", "used", "symbol", "base",
            "quote", "precision", "limits", "timestamp", "bid", "ask", "last", "protocols",
            "observations", "date", "meta", "total-pages", "market_cap", "market_caps",
            "prices", "totalDataChart", "parentProtocols", "name", "slug", "tvl",
            ADDRESS, "coingecko:bitcoin",
        ]
    ),
)  # fmt: skip
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=6)
    ),
    max_leaves=25,
)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def endpoint() -> Endpoint:
    return Endpoint("http://127.0.0.1:9", label="fuzz", clock=FakeClock().clock)


@FUZZ
@given(json_values)
def test_esplora_and_multiaddr(data):
    try:
        state = bitcoin.parse_esplora("fuzz", ADDRESS, data)
        assert 0 <= state.balance_sats <= bitcoin.MAX_SATS
    except ChainReadError:
        pass
    try:
        states, height = bitcoin.parse_multiaddr("fuzz", [ADDRESS], data)
        assert all(0 <= s.balance_sats <= bitcoin.MAX_SATS for s in states)
        assert height is None or 0 <= height <= 10**10
    except ChainReadError:
        pass


@FUZZ
@given(json_values)
def test_jsonrpc_replies(data):
    requests = [
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
        {"jsonrpc": "2.0", "id": 2, "method": "eth_blockNumber", "params": []},
    ]
    for asked in (requests, requests[:1]):
        try:
            results = _match_replies("fuzz", asked, data)
            assert len(results) == len(asked)
        except ChainReadError:
            pass


@FUZZ
@given(json_values)
def test_evm_quantities(data):
    for method in ("eth_blockNumber", "eth_chainId", "eth_getBalance"):
        try:
            number = evm._hex_int(endpoint(), method, data)
            assert number >= 0
        except ChainReadError:
            pass
    with contextlib.suppress(ChainReadError):
        evm._hex_bytes(data)


@FUZZ
@given(json_values)
def test_solana_accounts(data):
    ep = endpoint()
    try:
        for account in solana._accounts(ep, ["a"], data):
            if account is not None:
                assert 0 <= solana._lamports(ep, account) <= solana.MAX_U64
    except ChainReadError:
        pass
    try:
        rows = solana._value(ep, "getTokenAccountsByOwner", data)
        for row in rows:
            token = solana._token_account(ep, "owner", row)
            assert 0 <= token.raw <= solana.MAX_U64
            assert token.decimals is None or 0 <= token.decimals <= solana.MAX_DECIMALS
    except ChainReadError:
        pass
    slot = solana._slot(data)
    assert slot is None or isinstance(slot, int)


@FUZZ
@given(json_values)
def test_oracle_prices(data):
    for parse in (
        lambda d: parse_simple_price(d, {"BTC": "bitcoin"}, "usd"),
        lambda d: parse_llama_prices(d, {"BTC": "coingecko:bitcoin"}),
    ):
        try:
            for price, _source in parse(data).values():
                assert price.is_finite() and price > 0
        except SourceError:
            pass


@FUZZ
@given(json_values)
def test_exchange_normalisation(data):
    for parse in (
        lambda d: balance_holdings("acct", d, WalletKind.SPOT),
        lambda d: market_info("acct", d, 2),
        lambda d: quote_of("acct", d, NOW),
    ):
        with contextlib.suppress(ShapeError):
            parse(data)


@FUZZ
@given(json_values)
def test_source_parsers(data):
    parsers = (
        defillama.parse_fees_overview,
        defillama.parse_protocols,
        defillama.parse_chains,
        defillama.parse_parents,
        defillama.parse_pools,
        lambda d: defillama.parse_summary("aave", d),
        lambda d: coingecko.parse_global(d, NOW),
        lambda d: coingecko.parse_markets_dominance(d, NOW),
        coingecko_markets.parse_markets,
        lambda d: coingecko_markets.supply_growth(d, 30),
        lambda d: fred.parse_observations("WALCL", d),
        fiscaldata.parse_page,
        lambda d: coingecko_history.parse_market_chart(d, "bitcoin", NOW.date()),
        lambda d: livecoinwatch.parse_history(d, NOW.date()),
        lambda d: yahoo.parse_chart(d, "SPX", NOW.date()),
    )
    for parse in parsers:
        with contextlib.suppress(SourceError):
            parse(data)


@FUZZ
@given(st.text(max_size=300))
def test_fredgraph_csv(text):
    with contextlib.suppress(SourceError):
        fred.parse_fredgraph_csv("DGS10", "DATE,DGS10\n" + text)


@FUZZ
@given(st.one_of(st.binary(max_size=200), json_values.map(lambda v: repr(v).encode())))
def test_decoders_take_any_bytes(payload):
    with contextlib.suppress(ChainReadError):
        decode_json("fuzz", payload)
    with contextlib.suppress(SourceError):
        decode_source_json("fuzz", payload)


@pytest.mark.parametrize("depth", [10_000, 100_000])
def test_decoders_refuse_deep_nesting(depth):
    payload = b"[" * depth + b"]" * depth
    with pytest.raises(ChainReadError, match="nested too deeply"):
        decode_json("fuzz", payload)
    with pytest.raises(SourceError, match="nested too deeply"):
        decode_source_json("fuzz", payload)
