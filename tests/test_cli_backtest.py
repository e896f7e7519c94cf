"""`rotator backtest` through the real CLI: the demo's JSON, options, errors and exit codes."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner

from rotator.cli.app import cli


def invoke(*args: str):
    return CliRunner().invoke(cli, ["backtest", *args])


def test_demo_json_over_2021_with_a_named_benchmark():
    result = invoke(
        "--demo", "--from", "2021-01-01", "--to", "2021-06-30", "--format", "json",
        "--benchmark", "BTC=0.6,ETH=0.4", "--every", "2",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    start = result.output.index("{")
    report = json.loads(result.output[start : result.output.rindex("}") + 1])
    assert report["from"] == "2021-01-01" and report["to"] == "2021-06-30"
    assert report["start_value"] == "10000"  # decimal strings (docs/json-output.md)
    assert set(report["benchmarks"]) == {"hodl_btc", "static", "BTC=0.6,ETH=0.4"}
    assert len(report["equity"]) == 181
    assert report["regimes"][0]["regime"] in {"rotate", "ride_btc", "accumulate"}
    assert report["metrics"]["trades"] > 0 and Decimal(report["metrics"]["fees"]) > 0


def test_demo_table_prints_metrics_against_benchmarks():
    result = invoke("--demo", "--from", "2020-06-01", "--to", "2021-03-31")
    assert result.exit_code == 0, result.output
    for text in ("rule set", "hodl_btc", "static", "max drawdown", "regime switches", "365"):
        assert text in result.output
    assert "[dim]" not in result.output  # a style, not markup printed as it is


def test_bad_input_exits_2_naming_the_option():
    for args, text in (
        (["--from", "2021-13-01"], "--from: expected a date"),
        (["--fee-rate", "lots"], "--fee-rate: expected a number"),
        (["--every", "0"], "--every: expected at least 1 day"),
        (["--benchmark", "BTC"], "--benchmark 'BTC': expected ASSET=WEIGHT"),
        (["--from", "2021-06-01", "--to", "2021-01-01"], "is after --to"),
    ):
        result = invoke("--demo", *args)
        assert result.exit_code == 2, (args, result.output)
        assert text in result.output, (args, result.output)
        assert "Traceback" not in result.output


def test_empty_history_exits_3(tmp_path: Path):
    result = invoke("--db", f"sqlite:///{tmp_path / 'empty.sqlite3'}", "--rules",
                    str(Path(__file__).resolve().parents[1] / "rules" / "cycle.yaml"))  # fmt: skip
    assert result.exit_code == 3, result.output
    assert "no BTC closes in the market history" in result.output
