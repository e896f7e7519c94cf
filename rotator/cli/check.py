"""`rotator check`: validate portfolio.yaml and say which credentials are set.

Imports neither ccxt nor pandas, so it answers at once.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from rotator.cli.options import config_option
from rotator.config.portfolio import credential_status, default_config_path, load_portfolio
from rotator.config.ruleset import load_portfolio_ruleset
from rotator.errors import ExitCode
from rotator.pipeline.chains_check import chain_wallet_lines


@click.command()
@config_option
def check(config_path: Path | None) -> None:
    """Validate portfolio.yaml and list which credential variables are set or missing.

    Chain wallets' addresses and xpubs are checked offline (checksums, network, script type)
    and the endpoints each would read are listed.

    Exit codes: 0 valid and every credential variable set, 2 invalid file or a credential
    variable missing. Values of credentials are never printed.
    """
    path = config_path or default_config_path()
    portfolio = load_portfolio(path)
    click.echo(f"{path}: valid (base currency {portfolio.base_currency})")
    missing: list[str] = []
    for account in portfolio.accounts:
        status = credential_status(account, os.environ)
        wallets = ", ".join(account.wallets)
        click.echo(f"  account {account.name} ({account.exchange}; wallets: {wallets})")
        if not status:
            click.echo("    no credentials configured (public data only)")
        for env, present in status.items():
            click.echo(f"    {env}: {'set' if present else 'MISSING'}")
            if not present:
                missing.append(env)
    for wallet in portfolio.manual_wallets:
        assets = ", ".join(f"{a} {q}" for a, q in wallet.holdings.items())
        click.echo(f"  wallet {wallet.name} (manual, never sold): {assets}")
    for line, wallet_env in chain_wallet_lines(portfolio, os.environ):
        click.echo(line)
        if wallet_env:
            missing.append(wallet_env)
    targets = portfolio.static_targets()
    if targets is not None:
        weights = ", ".join(f"{a} {w:.1%}" for a, w in targets.weights.items())
        click.echo(f"  targets: {weights}")
    if portfolio.rules is not None:
        ruleset = load_portfolio_ruleset(portfolio)  # a broken rule set: ConfigError, exit 2
        assert ruleset is not None
        regimes = ", ".join(r.name for r in ruleset.regimes)
        click.echo(f"  rules: {ruleset.name}: {len(ruleset.rules)} rules; regimes {regimes}")
    if missing:
        click.echo(
            f"missing credential variables: {', '.join(missing)} "
            "(set them in the environment; never in portfolio.yaml)",
            err=True,
        )
        sys.exit(ExitCode.CONFIG_ERROR)
