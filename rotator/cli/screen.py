"""`rotator screen`: every candidate of the revenue screen with its figures, pass/fail and why.

Reads the `revenue_screen` rule of the portfolio's rule set (or the screen's defaults when the
rule set has none), fetches the screen's inputs (DefiLlama, CoinGecko; cached in the database)
and the accounts' markets (tradability), and prints the table, JSON or CSV. `--demo` runs
offline on bundled data and the demo accounts' markets.
"""

from __future__ import annotations

import os
import sys
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from rotator.cli.options import config_option
from rotator.config.portfolio import default_config_path, load_portfolio
from rotator.errors import ConfigError, ExitCode, Severity
from rotator.redaction import install_logging
from rotator.reports.screen import print_screen, render_screen


@click.command()
@config_option("portfolio.yaml to read (default: ./portfolio.yaml or $ROTATOR_CONFIG).")
@click.option("--demo", is_flag=True, help="Run on bundled data: no keys, no network.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
)
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None)
@click.option("--rule", "rule_name", default=None, help="Which revenue_screen rule to run.")
@click.option("--refresh", is_flag=True, help="Ignore cached DefiLlama/CoinGecko data.")
@click.option("--db", "db_url", default=None, metavar="URL", help="Database for the cache.")
@click.option("--now", "now_text", default=None, hidden=True, help="Clock override (tests).")
def screen(
    config_path: Path | None,
    demo: bool,
    output_format: str,
    output: Path | None,
    rule_name: str | None,
    refresh: bool,
    db_url: str | None,
    now_text: str | None,
) -> None:
    """Screen tokens for real, revenue-backed yield and show the basket it would build.

    Exit codes: 0 done, 2 configuration error, 3 a source could not be read or is stale (every
    token then fails, with the reason).
    """
    install_logging()
    from rotator.cli.options import parse_now
    from rotator.core.screen.screening import markets_frame
    from rotator.core.screen.screening import screen as run_screen
    from rotator.pipeline.rules import load_portfolio_ruleset
    from rotator.pipeline.run import gather_snapshot
    from rotator.pipeline.screen import prepare_screen, screen_params

    now = parse_now(now_text) if now_text else datetime.now(UTC)
    with ExitStack() as stack:
        if demo:
            from rotator.demo import demo_session

            portfolio, environ = stack.enter_context(demo_session())
        else:
            portfolio = load_portfolio(config_path or default_config_path())
            environ = dict(os.environ)
        ruleset = load_portfolio_ruleset(portfolio)
        params_by_rule = screen_params(ruleset)
        name, params = _pick(params_by_rule, rule_name)
        engine = None
        if not demo:
            from rotator.adapters.storage.db import open_engine

            engine = open_engine(db_url)
        prepared = prepare_screen(
            _single(ruleset, name, params), environ=environ, now=lambda: now, engine=engine,
            refresh=refresh,
        )  # fmt: skip
        assert prepared is not None
        # Accounts report markets only between assets asked for: ask for every candidate.
        snapshot = gather_snapshot(
            portfolio,
            environ=environ,
            now=lambda: now,
            extra_assets=prepared.candidates,
            cache_markets=not demo,
        )
    outcome = run_screen(prepared.data, params, markets_frame(snapshot.markets), now)
    account_problems = [p for p in snapshot.all_problems if p.severity is Severity.ERROR]
    text = render_screen(outcome, output_format, name, now, account_problems)
    if output:
        output.write_text(text, encoding="utf-8")
    elif output_format == "table":
        print_screen(outcome, name, now, account_problems)
    else:
        click.echo(text, nl=False)
    if any(p.severity is Severity.ERROR for p in outcome.problems):
        click.echo("screen incomplete: a source could not be read or is stale (exit 3)", err=True)
        sys.exit(ExitCode.INCOMPLETE)


def _pick(params_by_rule: dict[str, Any], rule_name: str | None) -> tuple[str, Any]:
    from rotator.core.screen.params import ScreenParams

    if rule_name is not None:
        if rule_name not in params_by_rule:
            known = ", ".join(params_by_rule) or "none"
            raise ConfigError(
                f"--rule {rule_name}: no revenue_screen rule of that name (rule set has: {known})"
            )
        return rule_name, params_by_rule[rule_name]
    if params_by_rule:
        return next(iter(params_by_rule.items()))
    return "revenue_screen (defaults)", ScreenParams()


def _single(ruleset: Any, name: str, params: Any) -> Any:
    """A one-rule set holding just the screen, so `prepare_screen` fetches for it alone."""
    from rotator.core.rules.engine import RuleSet, RuleSpec
    from rotator.core.rules.registry import default_registry

    return RuleSet(
        name=getattr(ruleset, "name", "screen"),
        rules=(RuleSpec(name=name, kind="revenue_screen", params=params),),
        regimes=(),
        registry=default_registry(),
    )
