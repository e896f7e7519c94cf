"""On-chain wallets and price oracles in a run: read chains alongside the exchanges, then ask
the oracles for what no exchange prices.

Kept apart from run.py so the snapshot gathering only calls two functions:
`gather_accounts` (exchange accounts and chain wallets concurrently, in one event loop) and
`oracle_quotes` (after both, for held assets no exchange market connects to the base).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

from rotator.config.chains import (
    ChainWallet,
    MissingEndpoint,
    oracle_settings,
    wallet_assets,
    wallet_settings,
)
from rotator.config.portfolio import Portfolio
from rotator.core.models import AccountSnapshot, OracleQuote
from rotator.errors import Problem, Severity


def chain_assets(portfolio: Portfolio) -> frozenset[str]:
    """Assets the chain wallets may hold, so the exchanges are asked to quote them."""
    out: set[str] = set()
    for wallet in portfolio.chain_wallets:
        out |= wallet_assets(wallet)
    return frozenset(out)


def fetch_chain_wallets(
    portfolio: Portfolio, environ: Mapping[str, str], now: Callable[[], datetime]
) -> tuple[AccountSnapshot, ...]:
    """Every chain wallet of the portfolio as an account snapshot (sync, own event loop).

    For a gathering step that reads the exchanges on its own; `gather_accounts` reads both
    in one event loop.
    """
    return asyncio.run(_chain_wallets(portfolio, environ, now))


async def _chain_wallets(
    portfolio: Portfolio, environ: Mapping[str, str], now: Callable[[], datetime]
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
                wallet.name, f"chain:{wallet.chain}", problems=(problem,), fetched_at=now()
            )
        return await read_chain_wallet(settings, now)

    return tuple(await asyncio.gather(*(one(w) for w in portfolio.chain_wallets)))


def gather_accounts(
    portfolio: Portfolio,
    wanted: Iterable[str],
    *,
    environ: Mapping[str, str],
    now: Callable[[], datetime],
    cache_dir: Path | None,
) -> tuple[AccountSnapshot, ...]:
    """Exchange accounts and chain wallets, read concurrently (asyncio.gather)."""
    from rotator.adapters.exchanges import fetch_accounts_async

    async def both() -> tuple[AccountSnapshot, ...]:
        exchanges, chains = await asyncio.gather(
            fetch_accounts_async(
                portfolio.accounts,
                frozenset(wanted) | chain_assets(portfolio),
                environ=environ,
                now=now,
                cache_dir=cache_dir,
            ),
            _chain_wallets(portfolio, environ, now),
        )
        return exchanges + chains

    if not portfolio.accounts and not portfolio.chain_wallets:
        return ()
    return asyncio.run(both())


def oracle_quotes(
    portfolio: Portfolio,
    accounts: Sequence[AccountSnapshot],
    *,
    as_of: datetime,
    environ: Mapping[str, str],
) -> tuple[tuple[OracleQuote, ...], tuple[Problem, ...]]:
    """Oracle prices for held assets that no exchange market connects to the base currency."""
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
    )
