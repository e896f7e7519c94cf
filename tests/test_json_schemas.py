"""Every `--format json` output against its published schema (docs/schemas, docs/json-output.md).

The documents come from the real CLI in demo mode; the schemas are checked as Draft 2020-12
schemas and applied with the format checker (date-time, date), so a float where a decimal
string belongs, a time that is not ISO 8601 UTC or an unexpected key fails here.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from test_cli_plan import recorded_routes, write_portfolio
from test_cli_plan import run as run_plan

from rotator.cli.app import cli
from rotator.demo.replay import ReplayServer
from rotator.reports.json_document import float_text, render_document, typed

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "docs" / "schemas"
PAGE = ROOT / "docs" / "json-output.md"
NAMES = (
    "plan",
    "check",
    "signals",
    "screen",
    "history-show",
    "history-list",
    "history-diff",
    "backtest",
    "backtest-sweep",
)


def schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(schema(name), format_checker=Draft202012Validator.FORMAT_CHECKER)


def run_json(*args: str, env: dict[str, str] | None = None, code: int = 0) -> Any:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)


def valid(name: str, document: Any) -> None:
    found = validator(name).iter_errors(document)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in found]
    assert not errors, "\n".join(errors[:10])


def rejects(name: str, document: Any, path: tuple[str | int, ...], value: Any) -> None:
    """`document` with `path` set to `value` fails the schema."""
    bad = copy.deepcopy(document)
    target = bad
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ValidationError):
        validator(name).validate(bad)


def floated(text: str) -> float:
    """A decimal string as the float a careless renderer would write (never integral, so the
    schema's `integer` cannot accept it either)."""
    number = float(Decimal(text))
    return number + 0.5 if number.is_integer() else number


@pytest.mark.parametrize("name", NAMES)
def test_every_schema_is_a_valid_draft_2020_12_schema_linked_from_the_docs(name: str) -> None:
    document = schema(name)
    Draft202012Validator.check_schema(document)
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert document["$defs"]["decimal"]["pattern"] == r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?$"
    assert f"schemas/{name}.schema.json" in PAGE.read_text(encoding="utf-8")


def test_every_command_printing_json_has_a_schema() -> None:
    """A new `--format json` command needs its schema (and a row in docs/json-output.md)."""
    found = []

    def walk(command: click.Command, path: tuple[str, ...]) -> None:
        if isinstance(command, click.Group):  # lazily loaded: ask the group
            context = click.Context(command)
            for name in command.list_commands(context):
                sub = command.get_command(context, name)
                assert sub is not None
                walk(sub, (*path, name))
            return
        for param in command.params:
            if param.name == "output_format" and "json" in getattr(param.type, "choices", ()):
                found.append("-".join(path))

    walk(cli, ())
    assert sorted(found) == sorted(n for n in NAMES if n != "backtest-sweep")


def test_the_decimal_and_time_definitions_hold_the_convention() -> None:
    decimal = Draft202012Validator({"$ref": "#/$defs/decimal", "$defs": schema("plan")["$defs"]})
    for good in ("0", "-0.14719", "158324.129241676", "0.00000157", "10000"):
        assert decimal.is_valid(good), good
    for bad in (0.5, 10000, "1E-8", "1e+16", "+1", ".5", "01", "NaN", "Infinity", "1,000", None):
        assert not decimal.is_valid(bad), bad
    defs = schema("plan")["$defs"]
    moment = Draft202012Validator(
        {"$ref": "#/$defs/utc_time", "$defs": defs},
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    assert moment.is_valid("2026-12-06T04:47:12.345678+00:00")
    assert moment.is_valid("2026-12-06T04:47:12Z")
    for bad in (
        "2026-12-06T05:47:12+01:00",  # not UTC
        "2026-12-06 04:47:12+00:00",  # not ISO 8601's T
        "2026-12-06T04:47:12",  # no offset
        "2026-13-06T04:47:12+00:00",  # no 13th month (the format checker)
        1765000000,
    ):
        assert not moment.is_valid(bad), bad


def test_floats_and_decimals_are_written_as_plain_decimal_strings() -> None:
    assert float_text(1.4366e-05) == "0.000014366"
    assert float_text(1e16) == "10000000000000000"
    assert float_text(-0.14719) == "-0.14719"
    assert float_text(10000.0) == "10000"
    assert float_text(math.nan) is None and float_text(math.inf) is None
    assert typed(Decimal("-0.00")) == "0" and typed(Decimal("1E-8")) == "0.00000001"
    mixed = {"n": 3, "ok": True, "x": [0.35, None]}
    assert typed(mixed) == {"n": 3, "ok": True, "x": ["0.35", None]}
    assert json.loads(render_document({"v": Decimal("2.50")})) == {"v": "2.5"}


def test_plan_json_matches_its_schema() -> None:
    plan = run_json("plan", "--demo", "--no-save", "--format", "json")
    valid("plan", plan)
    assert plan["orders"] and plan["details"]["rules"]
    rejects("plan", plan, ("total_value",), floated(plan["total_value"]))
    rejects("plan", plan, ("orders", 0, "amount"), floated(plan["orders"][0]["amount"]))
    rejects("plan", plan, ("before", 0, "weight"), 0.0124)
    rejects("plan", plan, ("as_of",), plan["as_of"].replace("+00:00", "+02:00"))
    rejects("plan", plan, ("surprise",), 1)
    inputs = next(r["inputs"] for r in plan["details"]["rules"] if "close" in r["inputs"])
    assert Decimal(inputs["close"]) > 0  # a rule input is a decimal string too
    rejects("plan", plan, ("details", "rules", 0, "inputs", "close"), floated(inputs["close"]))


@pytest.fixture
def exchanges() -> Iterator[ReplayServer]:
    """The recorded Binance and Kraken responses, as tests/test_cli_plan.py serves them."""
    binance, kraken = recorded_routes()
    with ReplayServer() as replay:
        replay.mount("/b", binance)
        replay.mount("/k", kraken)
        yield replay


def test_incomplete_and_static_plans_match_the_plan_schema(
    tmp_path: Path, exchanges: ReplayServer
) -> None:
    """Recorded exchanges on 127.0.0.1: static targets (no rule set, empty `details`), then an
    account failing (incomplete: `total_value` null, no orders)."""
    config = write_portfolio(tmp_path, exchanges, ignore_assets=["LTC"])
    complete = run_plan(config, "--format", "json", "--no-save")
    assert complete.exit_code == 0, complete.output
    plan = json.loads(complete.stdout)
    valid("plan", plan)
    assert plan["details"] == {} and plan["regime"] is None and plan["orders"]
    exchanges.fault("POST /k/0/private/BalanceEx", status=429, headers={"Retry-After": "0"})
    failed = run_plan(config, "--format", "json", "--no-save")
    assert failed.exit_code == 3, failed.output
    incomplete = json.loads(failed.stdout)
    valid("plan", incomplete)
    assert incomplete["complete"] is False and incomplete["orders"] == []
    assert any(p["severity"] == "error" for p in incomplete["problems"])


def test_stored_run_json_matches_the_history_schemas() -> None:
    saved = run_json("plan", "--demo", "--format", "json")
    valid("plan", saved)
    show = run_json("history", "show", "1", "--demo", "--format", "json")
    valid("history-show", show)
    assert show["run"]["total_value"] == saved["total_value"]  # the same text in both
    rejects("history-show", show, ("run", "total_value"), floated(show["run"]["total_value"]))
    price = show["holdings"][0]["price"]
    rejects("history-show", show, ("holdings", 0, "price", "in_base"), floated(price["in_base"]))
    runs = run_json("history", "list", "--demo", "--format", "json")
    valid("history-list", runs)
    assert [r["id"] for r in runs] == [1]
    rejects("history-list", runs, (0, "total_value"), floated(runs[0]["total_value"]))
    diff = run_json("history", "diff", "1", "1", "--demo", "--format", "json")
    valid("history-diff", diff)
    assert diff["value_change"] == "0" and diff["assets"]
    rejects("history-diff", diff, ("assets", 0, "weight_change_pp"), 0.5)


def test_check_json_matches_its_schema() -> None:
    env = {
        name: "placeholder"
        for name in ("BINANCE_API_KEY", "BINANCE_SECRET", "KRAKEN_API_KEY", "KRAKEN_SECRET")
    }
    found = run_json("check", "--config", str(ROOT / "portfolio.yaml"), "--format", "json", env=env)
    valid("check", found)
    assert found["targets"]["BTC"] == "0.6" and found["history"]
    rejects("check", found, ("targets", "BTC"), 0.6)
    rejects("check", found, ("wallets", 0, "holdings", "BTC"), 0.75)
    rejects("check", found, ("history", 0, "stored_days"), 1.5)


def test_signals_json_matches_its_schema() -> None:
    report = run_json("signals", "--demo", "--format", "json")
    valid("signals", report)
    rejects("signals", report, ("targets", "BTC"), 0.55)
    first = report["rules"][0]
    key = next(k for k, v in first["inputs"].items() if isinstance(v, str) and "." in v)
    rejects("signals", report, ("rules", 0, "inputs", key), floated(first["inputs"][key]))


def test_screen_json_matches_its_schema() -> None:
    report = run_json("screen", "--demo", "--format", "json")
    valid("screen", report)
    knc = next(i for i, c in enumerate(report["candidates"]) if c["symbol"] == "KNC")
    assert report["candidates"][knc]["market_cap"] == "54000000"
    rejects("screen", report, ("candidates", knc, "revenue_yield"), 0.067593)
    rejects("screen", report, ("basket", "KNC"), 0.35)


def test_backtest_json_matches_its_schema() -> None:
    report = run_json(
        "backtest", "--demo", "--from", "2021-01-01", "--to", "2021-03-31",
        "--bootstrap-samples", "100", "--format", "json",
    )  # fmt: skip
    valid("backtest", report)
    assert report["metrics"]["trades"] > 0 and Decimal(report["metrics"]["fees"]) > 0
    rejects("backtest", report, ("metrics", "sharpe"), floated(report["metrics"]["sharpe"]))
    rejects("backtest", report, ("equity", 0, "value"), floated(report["equity"][0]["value"]))
    rejects("backtest", report, ("start_value",), 10000.5)
    interval = report["robustness"]["block_bootstrap"]["excess_cagr_vs_hodl_btc"]
    rejects(
        "backtest",
        report,
        ("robustness", "block_bootstrap", "excess_cagr_vs_hodl_btc", "estimate"),
        floated(interval["estimate"]),
    )


def test_backtest_sweep_json_matches_its_schema(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("grid:\n  btc_above_prior_high.confirm_closes: [1, 5]\n", encoding="utf-8")
    report = run_json(
        "backtest", "--demo", "--from", "2020-10-01", "--to", "2021-03-31", "--sweep",
        str(sweep), "--workers", "1", "--split", "2021-01-01", "--walk-forward", "60:30",
        "--format", "json",
    )  # fmt: skip
    valid("backtest-sweep", report)
    best = report["points"][0]
    assert best["params"]["btc_above_prior_high.confirm_closes"] in (1, 5)
    rejects("backtest-sweep", report, ("points", 0, "in_sample", "sharpe"), 1.25)
    rejects("backtest-sweep", report, ("deflated_sharpe", "deflated_sharpe"), 0.99)
