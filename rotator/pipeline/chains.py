"""On-chain wallets and price oracles in a run (part of stage 2, rotator.pipeline.gather).

The gathering calls two functions: `gather_accounts` (exchange accounts and chain wallets
concurrently, in one event loop) and `oracle_quotes` (after both, for held assets no exchange
market connects to the base). portfolio.yaml's models become the chain adapters' frozen
settings here (`wallet_settings`, `oracle_settings`); the adapters read no environment.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from rotator.adapters.chains.settings import ChainWalletSettings, OracleSettings
from rotator.config.chains import (
    BITCOIN,
    BLOCKCHAIN_INFO_URL,
    COIN_IDS,
    DEFAULT_ENDPOINTS,
    EVM_CHAINS,
    EVM_TOKENS,
    SOLANA,
    SOLANA_TOKENS,
    ChainWallet,
    OraclesConfig,
    native_asset,
    wallet_assets,
)
from rotator.config.keys import parse_hd
from rotator.config.portfolio import Portfolio
from rotator.core.clock import Clock
from rotator.core.models import AccountSnapshot, OracleQuote
from rotator.errors import Problem, Severity
from rotator.redaction import register_secret, register_secret_url

if TYPE_CHECKING:  # the exchange adapter loads ccxt; `rotator check` imports this module
    from rotator.adapters.exchanges import AccountSettings


class MissingEndpoint(ValueError):
    """`rpc_url_env` names a variable that is not set."""


def wallet_settings(wallet: ChainWallet, environ: Mapping[str, str]) -> ChainWalletSettings:
    """The adapter settings of `wallet`; the endpoint read from `environ` when it is secret.

    Raises:
        MissingEndpoint: `rpc_url_env` is given but the variable is unset.
    """
    if wallet.rpc_url_env:
        endpoint = environ.get(wallet.rpc_url_env, "")
        if not endpoint:
            raise MissingEndpoint(f"environment variable {wallet.rpc_url_env} is not set")
        register_secret_url(endpoint)  # a key may sit in its path, userinfo or query
        label = f"${wallet.rpc_url_env}"
    else:
        default = DEFAULT_ENDPOINTS[wallet.chain]
        if wallet.chain == BITCOIN and wallet.api == "blockchain_info":
            default = BLOCKCHAIN_INFO_URL
        endpoint = wallet.rpc_url or default
        label = endpoint
    evm = EVM_CHAINS.get(wallet.chain)
    if wallet.chain == SOLANA:
        shipped: Mapping[str, str] = SOLANA_TOKENS
    else:
        shipped = EVM_TOKENS.get(wallet.chain, {})
    if evm is not None:
        tokens = tuple(
            (sym.upper(), contract or shipped[sym.upper()])
            for sym, contract in wallet.tokens.items()
        )
    else:  # solana: every known mint, plus the configured ones
        merged = {**shipped, **{s.upper(): m for s, m in wallet.tokens.items() if m}}
        tokens = tuple(merged.items())
    multicall: str | None
    if wallet.multicall is False or evm is None:
        multicall = None
    elif isinstance(wallet.multicall, str):
        multicall = wallet.multicall
    else:
        multicall = evm.multicall
    native = native_asset(wallet)
    return ChainWalletSettings(
        name=wallet.name,
        chain=wallet.chain,
        api=wallet.api if wallet.chain == BITCOIN else "jsonrpc",
        endpoint=endpoint.rstrip("/"),
        endpoint_label=label,
        addresses=wallet.addresses,
        xpub=wallet.xpub,
        script=wallet.script,
        gap_limit=wallet.gap_limit,
        change=wallet.change,
        tokens=tokens,
        native=native,
        chain_id=wallet.chain_id or (evm.chain_id if evm else None),
        multicall=multicall,
        requests_per_second=wallet.requests_per_second,
        timeout_seconds=wallet.timeout_seconds,
        retries=wallet.retries,
        hd=parse_hd(wallet.xpub, wallet.script) if wallet.xpub else None,
        max_addresses=wallet.max_addresses,
        deadline_seconds=wallet.deadline_seconds,
    )


def oracle_settings(config: OraclesConfig, environ: Mapping[str, str]) -> OracleSettings:
    """The oracle adapter settings: shipped id map overridden per asset by `oracles.assets`."""
    ids = dict(COIN_IDS)
    llama = {asset: f"coingecko:{cid}" for asset, cid in COIN_IDS.items()}
    underlying: dict[str, tuple[str, Decimal | None]] = {}
    for asset, spec in config.assets.items():
        if spec.coingecko:
            ids[asset] = spec.coingecko
            llama[asset] = f"coingecko:{spec.coingecko}"
        if spec.defillama:
            llama[asset] = spec.defillama
        if spec.underlying:
            ratio = spec.ratio if isinstance(spec.ratio, Decimal) else None
            underlying[asset] = (spec.underlying.upper(), ratio)
    key = environ.get(config.api_key_env) if config.api_key_env else None
    register_secret(key)
    return OracleSettings(
        coingecko_url=config.coingecko_url.rstrip("/"),
        defillama_url=config.defillama_url.rstrip("/"),
        api_key=key or None,
        ids=ids,
        defillama_ids=llama,
        underlying=underlying,
        timeout_seconds=config.timeout_seconds,
    )


def chain_assets(portfolio: Portfolio) -> frozenset[str]:
    """Assets the chain wallets may hold, so the exchanges are asked to quote them."""
    out: set[str] = set()
    for wallet in portfolio.chain_wallets:
        out |= wallet_assets(wallet)
    return frozenset(out)


async def _chain_wallets(
    portfolio: Portfolio, environ: Mapping[str, str], clock: Clock
) -> tuple[AccountSnapshot, ...]:
    if not portfolio.chain_wallets:
        return ()
    from rotator.adapters.chains.read import read_chain_wallet

    async def one(wallet: ChainWallet) -> AccountSnapshot:
        try:
            settings = wallet_settings(wallet, environ)
        except MissingEndpoint as exc:
            problem = Problem(Severity.ERROR, f"wallet {wallet.name} ({wallet.chain})", str(exc))
            return AccountSnapshot(
                wallet.name, f"chain:{wallet.chain}", problems=(problem,), fetched_at=clock.now()
            )
        return await read_chain_wallet(settings, clock)

    return tuple(await asyncio.gather(*(one(w) for w in portfolio.chain_wallets)))


def gather_accounts(
    portfolio: Portfolio,
    accounts: Sequence[AccountSettings],
    wanted: Iterable[str],
    *,
    environ: Mapping[str, str],
    clock: Clock,
    cache_dir: Path | None,
) -> tuple[AccountSnapshot, ...]:
    """Exchange accounts (as frozen adapter settings) and the portfolio's chain wallets, read
    concurrently in one event loop (asyncio.gather), on the run's `clock`."""
    from rotator.adapters.exchanges import fetch_accounts_async

    async def both() -> tuple[AccountSnapshot, ...]:
        exchanges, chains = await asyncio.gather(
            fetch_accounts_async(
                accounts,
                frozenset(wanted) | chain_assets(portfolio),
                environ=environ,
                clock=clock,
                cache_dir=cache_dir,
            ),
            _chain_wallets(portfolio, environ, clock),
        )
        return exchanges + chains

    if not accounts and not portfolio.chain_wallets:
        return ()
    return asyncio.run(both())


def oracle_quotes(
    portfolio: Portfolio,
    accounts: Sequence[AccountSnapshot],
    *,
    as_of: datetime,
    environ: Mapping[str, str],
    clock: Clock,
) -> tuple[tuple[OracleQuote, ...], tuple[Problem, ...]]:
    """Oracle prices for held assets that no exchange market connects to the base currency,
    stamped `as_of`; the oracle's retries wait on `clock`."""
    if not portfolio.oracles.enabled:
        return (), ()
    from rotator.core.valuation import price_assets

    policy = portfolio.policy()
    quotes = tuple(q for a in accounts for q in a.quotes)
    held = sorted({h.asset for a in accounts for h in a.holdings} - set(policy.ignore_assets))
    _prices, problems = price_assets(
        quotes,
        held,
        portfolio.base_currency,
        now=as_of,
        max_age_seconds=policy.max_price_age_seconds,
    )
    unquoted = [
        p.subject.split(" ", 1)[1].split("/")[0]
        for p in problems
        if p.message.startswith("unpriceable")
    ]
    if not unquoted:
        return (), ()
    from rotator.adapters.chains.oracle import fetch_oracle_quotes

    return fetch_oracle_quotes(
        unquoted,
        portfolio.base_currency,
        oracle_settings(portfolio.oracles, environ),
        now=as_of,
        clock=clock,
    )
