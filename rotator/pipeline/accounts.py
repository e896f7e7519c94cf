"""The exchange accounts, chain wallets and declared wallets of a run, read once (stage 2).

Exchange accounts go to the read-only exchange adapter as frozen `AccountSettings`; they are
asked about every asset the run may need (see `wanted_assets`), so whatever the rules choose
has a market price.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from rotator.adapters.exchanges import AccountSettings
from rotator.config.portfolio import ExchangeAccount, Portfolio
from rotator.core.clock import Clock
from rotator.core.models import CASH_BUCKET, AccountSnapshot, Holding, Snapshot, WalletKind
from rotator.core.rules.engine import RuleSet
from rotator.pipeline.chains import gather_accounts


def account_settings(account: ExchangeAccount) -> AccountSettings:
    """portfolio.yaml's account as the exchange adapter's frozen settings."""
    return AccountSettings(
        name=account.name,
        exchange=account.exchange,
        wallets=tuple(account.wallets),
        ccxt=dict(account.ccxt),
        api_key_env=account.api_key_env,
        secret_env=account.secret_env,
        password_env=account.password_env,
    )


def manual_wallets(portfolio: Portfolio, now: datetime) -> tuple[AccountSnapshot, ...]:
    """Declared wallets as account snapshots; their holdings are never sellable."""
    return tuple(
        AccountSnapshot(
            name=wallet.name,
            exchange="manual",
            holdings=tuple(
                Holding(
                    account=wallet.name,
                    asset=asset,
                    total=Decimal(amount),
                    free=Decimal(0),
                    wallet=WalletKind.MANUAL,
                )
                for asset, amount in wallet.holdings.items()
            ),
            fetched_at=now,
        )
        for wallet in portfolio.manual_wallets
    )


def wanted_assets(portfolio: Portfolio, ruleset: RuleSet | None) -> frozenset[str]:
    """Assets the run must be able to price and trade, besides whatever is held.

    The base currency, quote/bridge/cash assets, declared wallets' assets, the static targets
    and every regime's targets (the regime is chosen after the accounts are read).
    """
    policy = portfolio.policy()
    assets = {portfolio.base_currency, *policy.quote_preference, *policy.bridge_assets}
    assets |= set(policy.cash_assets)
    targets = portfolio.static_targets()
    if targets is not None:
        assets |= set(targets.weights)
    if ruleset is not None:
        for regime in ruleset.regimes:
            assets |= set(regime.targets)
    for wallet in portfolio.manual_wallets:
        assets |= set(wallet.holdings)
    return frozenset(assets - set(policy.ignore_assets) - {CASH_BUCKET})


def read_accounts(
    portfolio: Portfolio,
    *,
    environ: Mapping[str, str],
    clock: Clock,
    extra_assets: frozenset[str] = frozenset(),
    ruleset: RuleSet | None = None,
    market_cache: Path | None = None,
) -> Snapshot:
    """Fetch every exchange account and chain wallet concurrently; add the declared wallets.

    Args:
        market_cache: folder for cached market definitions (None: no cache; the demo's local
            server moves to a new port every run).
    """
    as_of = clock.now()
    read = gather_accounts(
        portfolio,
        [account_settings(a) for a in portfolio.accounts],
        wanted_assets(portfolio, ruleset) | extra_assets,
        environ=environ,
        clock=clock,
        cache_dir=market_cache,
    )
    return Snapshot(
        as_of=as_of,
        base_currency=portfolio.base_currency,
        accounts=read + manual_wallets(portfolio, as_of),
    )
