"""The `rotator` command line: the only module that prints to the terminal or exits.

Commands are imported lazily so `rotator --help` and `rotator check` start without importing
ccxt or pandas (about half a second each). Each command lives in `rotator/cli/<name>.py`.
Failures that stop a run (`RotatorError`) become one clean message and a documented exit code.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from rotator import __version__
from rotator.cli.output import echo
from rotator.errors import ExitCode, RotatorError
from rotator.redaction import print_redacted_traceback

# command name -> "module:attribute"; nested groups use the same table shape.
COMMANDS: dict[str, str] = {
    "plan": "rotator.cli.plan:plan",
    "screen": "rotator.cli.screen:screen",
    "check": "rotator.cli.check:check",
    "report": "rotator.cli.report:report",
    "schedule": "rotator.cli.schedule:schedule",
    "signals": "rotator.cli.signals:signals",
    "backtest": "rotator.cli.backtest:backtest",
}
HISTORY_COMMANDS: dict[str, str] = {
    "list": "rotator.cli.history_runs:list_runs",
    "show": "rotator.cli.history_runs:show_run",
    "diff": "rotator.cli.history_runs:diff_runs",
    "fetch": "rotator.cli.history_market:fetch",
    "import": "rotator.cli.history_market:import_file",
}


class LazyGroup(click.Group):
    """A Click group whose subcommands are imported only when invoked (or listed in help)."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module_name, attr = self.lazy[cmd_name].split(":")
            return getattr(importlib.import_module(module_name), attr)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RotatorError as exc:
            echo(f"error: {exc}", err=True)
            ctx.exit(int(exc.exit_code))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Listing help text would import every command module (and so ccxt/pandas): show the
        # short help recorded here instead.
        rows = [(name, COMMAND_HELP.get(name, "")) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


COMMAND_HELP: dict[str, str] = {
    "plan": "Suggest dry-run rebalance orders (never executed).",
    "screen": "Revenue-backed yield screen: every candidate, its figures, pass/fail, basket.",
    "check": "Validate portfolio.yaml and report which credentials are set.",
    "history": "Market history and past runs.",
    "report": "Run, store the run, and write today's HTML + Markdown report.",
    "schedule": "Print a crontab line or systemd units that run the daily report.",
    "list": "List stored runs: date, value, regime, number of orders.",
    "show": "Show one stored run: holdings, allocation, orders, problems.",
    "diff": "Compare two stored runs: holdings and weights.",
    "signals": "Evaluate the rule set: each rule's value, inputs, freshness; the regime.",
    "backtest": "Replay the rule set day by day: metrics vs HODL BTC and static targets.",
    "fetch": "Backfill/update daily OHLCV (exchange) and BTC dominance (CoinGecko).",
    "import": "Import daily prices or BTC dominance from a CSV file.",
}


@click.group(cls=LazyGroup, lazy=COMMANDS)
@click.version_option(__version__, prog_name="rotator")
def cli() -> None:
    """rotator: read-only crypto portfolio rotation planner.

    Reads holdings from exchanges (read-only API keys from environment variables) and declared
    wallets, evaluates your rules, and prints suggested rebalance orders. It never places an order.
    """


@cli.group(cls=LazyGroup, lazy=HISTORY_COMMANDS)
def history() -> None:
    """Market history (fetch, import) and past runs (list, show, diff)."""


def main() -> None:
    """Console entry point: run the CLI, mapping RotatorError to its exit code."""
    try:
        # With standalone_mode=False click *returns* the code of ctx.exit(code) (e.g. the 2 of a
        # ConfigError) instead of exiting: pass it on, or every error would exit 0.
        code = cli.main(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(ExitCode.INTERNAL_ERROR)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except SystemExit:
        raise
    except BaseException:
        print_redacted_traceback()
        sys.exit(ExitCode.INTERNAL_ERROR)
