"""`rotator check`: validate portfolio.yaml, say which credentials are set and how much history
the rule set has.

Imports neither ccxt nor pandas, so it answers at once.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC
from pathlib import Path
from typing import Any

import click

from rotator.cli.clock import session_clock
from rotator.cli.options import (
    config_option,
    db_option,
    format_option,
    now_option,
)
from rotator.config.env import settings
from rotator.config.paths import ruleset_label
from rotator.config.portfolio import (
    Portfolio,
    credential_status,
    default_config_path,
    load_portfolio,
)
from rotator.config.ruleset import default_regime_name, load_portfolio_ruleset
from rotator.core.rules.engine import RuleSet
from rotator.errors import ExitCode
from rotator.pipeline.chains_check import chain_wallet_lines
from rotator.pipeline.coverage import stored_coverage
from rotator.reports.json_document import render_document


@click.command()
@config_option
@db_option
@format_option("text", "json")
@now_option
def check(
    config_path: Path | None, db_url: str | None, output_format: str, now_text: str | None
) -> None:
    """Validate portfolio.yaml, list which credential variables are set or missing, and report
    the history coverage of the rule set.

    Chain wallets' addresses and xpubs are checked offline (checksums, network, script type)
    and the endpoints each would read are listed. History coverage is one line per series the
    rules read: days stored, first and last day, days the rules need (their declared lookback)
    and a status, ok / short / missing / stale, with the command that fills it
    (`rotator history fetch`). `--format json` prints the whole check as one JSON document.

    Exit codes: 0 valid and every credential variable set (whatever the history coverage),
    2 invalid file or a credential variable missing. Values of credentials are never printed.
    """
    path = config_path or default_config_path()
    portfolio = load_portfolio(path)
    lines = [f"{path}: valid (base currency {portfolio.base_currency})"]
    found: dict[str, Any] = {
        "config": str(path),
        "valid": True,
        "base_currency": portfolio.base_currency,
        "accounts": [],
        "wallets": [],
        "chain_wallets": [],
        "targets": None,
        "rules": None,
        "history": [],
        "missing_credentials": [],
    }
    missing: list[str] = found["missing_credentials"]
    for account in portfolio.accounts:
        status = credential_status(account, os.environ)
        wallets = ", ".join(account.wallets)
        lines.append(f"  account {account.name} ({account.exchange}; wallets: {wallets})")
        found["accounts"].append(
            {
                "name": account.name,
                "exchange": account.exchange,
                "wallets": list(account.wallets),
                "credentials": {env: "set" if ok else "missing" for env, ok in status.items()},
            }
        )
        if not status:
            lines.append("    no credentials configured (public data only)")
        for env, present in status.items():
            lines.append(f"    {env}: {'set' if present else 'MISSING'}")
            if not present:
                missing.append(env)
    for wallet in portfolio.manual_wallets:
        assets = ", ".join(f"{a} {q}" for a, q in wallet.holdings.items())
        lines.append(f"  wallet {wallet.name} (manual, never sold): {assets}")
        found["wallets"].append(
            {"name": wallet.name, "holdings": {a: str(q) for a, q in wallet.holdings.items()}}
        )
    for line, wallet_env in chain_wallet_lines(portfolio, os.environ):
        lines.append(line)
        found["chain_wallets"].append(line.strip())
        if wallet_env:
            missing.append(wallet_env)
    targets = portfolio.static_targets()
    if targets is not None:
        found["targets"] = {a: str(w) for a, w in targets.weights.items()}
    # A broken rule set is a ConfigError (exit 2) raised before anything is printed.
    ruleset = load_portfolio_ruleset(portfolio)
    lines.extend(_target_lines(portfolio, ruleset))
    if ruleset is not None:
        found["rules"] = {
            "name": ruleset.name,
            "rules": len(ruleset.rules),
            "regimes": [r.name for r in ruleset.regimes],
            "default_regime": default_regime_name(ruleset),
        }
        # `targets:` beside `rules:` are the default regime's targets (one meaning).
        found["targets_apply_to"] = (
            None if targets is None else f"default regime {default_regime_name(ruleset)}"
        )
        today = session_clock(now_text).now().astimezone(UTC).date()
        config = settings()
        origin = "--db" if db_url else "ROTATOR_DB_URL" if config.db_url_set else None
        coverage = stored_coverage(db_url or config.db_url, origin, ruleset, today)
        found["history"] = [c.as_json() for c in coverage]
        if coverage:
            lines.append("  history the rules read:")
            lines.extend(f"    {c.describe()}" for c in coverage)
    if output_format == "json":
        click.echo(render_document(found))
    else:
        for line in lines:
            click.echo(line)
    if missing:
        click.echo(
            f"missing credential variables: {', '.join(missing)} "
            "(set them in the environment; never in portfolio.yaml)",
            err=True,
        )
        sys.exit(ExitCode.CONFIG_ERROR)


def _target_lines(portfolio: Portfolio, ruleset: RuleSet | None) -> list[str]:
    """Which targets apply: the static ones, or the rule set's regimes (with `targets:` as
    the default regime's targets when both are given)."""
    targets = portfolio.static_targets()
    weights = (
        "" if targets is None else ", ".join(f"{a} {w:.1%}" for a, w in targets.weights.items())
    )
    if ruleset is None:
        return [f"  targets: {weights} (static: no `rules:`, used on every run)"]
    regimes = ", ".join(r.name for r in ruleset.regimes)
    default = default_regime_name(ruleset)
    lines = [
        f"  rules: {ruleset_label(ruleset.name)}: {len(ruleset.rules)} rules; regimes {regimes} "
        "(the first whose condition holds gives the targets)"
    ]
    if targets is None:
        lines.append(f"  targets: the rule set's own; default regime {default}")
    else:
        lines.append(
            f"  targets: {weights}: the default regime {default}'s targets (used when no "
            "other regime's condition holds)"
        )
    return lines
