"""`rotator backtest` robustness through the real CLI on the demo history: the block bootstrap's
JSON keys, determinism with a seed, the table, bad options; walk-forward and the deflated Sharpe
ratio of a sweep."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from rotator.cli.app import cli

WINDOW = ("--demo", "--from", "2020-07-01", "--to", "2021-06-30")
INTERVAL = {"estimate", "ci95_low", "ci95_high", "p_positive"}


def invoke(*args: str):
    return CliRunner().invoke(cli, ["backtest", *args])


def report_of(*args: str) -> dict:
    result = invoke(*WINDOW, "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_robustness_keys_exactly_as_documented():
    report = report_of("--bootstrap-samples", "200", "--block-days", "20", "--seed", "3")
    assert set(report["robustness"]) == {"block_bootstrap"}
    boot = report["robustness"]["block_bootstrap"]
    assert set(boot) == {
        "block_days",
        "samples",
        "excess_cagr_vs_hodl_btc",
        "excess_cagr_vs_static",
    }
    assert (boot["block_days"], boot["samples"]) == (20, 200)
    for key in ("excess_cagr_vs_hodl_btc", "excess_cagr_vs_static"):
        x = {k: Decimal(v) for k, v in boot[key].items()}  # decimal strings
        assert set(x) == INTERVAL
        assert x["ci95_low"] <= x["ci95_high"] and 0 <= x["p_positive"] <= 1
    # The estimate is the replay's own CAGR difference.
    cagr = Decimal(report["metrics"]["cagr"])
    for name in ("hodl_btc", "static"):
        expected = cagr - Decimal(report["benchmarks"][name]["cagr"])
        assert abs(Decimal(boot[f"excess_cagr_vs_{name}"]["estimate"]) - expected) < Decimal("2e-6")


@pytest.mark.slow  # started first (see conftest.py)
def test_same_seed_same_intervals_other_seed_other_intervals():
    args = ("--bootstrap-samples", "200")
    first = report_of(*args, "--seed", "9")["robustness"]
    again = report_of(*args, "--seed", "9")["robustness"]
    other = report_of(*args, "--seed", "10")["robustness"]
    assert first == again
    key = "excess_cagr_vs_hodl_btc"
    assert first["block_bootstrap"][key] != other["block_bootstrap"][key]
    assert first["block_bootstrap"][key]["estimate"] == other["block_bootstrap"][key]["estimate"]


def test_table_shows_the_intervals():
    result = invoke(*WINDOW, "--bootstrap-samples", "200")
    assert result.exit_code == 0, result.output
    for text in ("How sure", "95 % interval", "hodl_btc", "static", "mean", "block 30 days"):
        assert text in result.output, text


def test_bad_robustness_options_exit_2_naming_the_option():
    for args, text in (
        (["--bootstrap-samples", "10"], "--bootstrap-samples: expected a count from 100"),
        (["--block-days", "0"], "--block-days: expected 1 to 365 days"),
        (["--seed", "-1"], "--seed: expected a whole number"),
        (["--walk-forward", "365:90"], "--walk-forward: only with --sweep"),
    ):
        result = invoke("--demo", *args)
        assert result.exit_code == 2, (args, result.output)
        assert text in result.output, (args, result.output)
        assert "Traceback" not in result.output


def _sweep_file(tmp_path: Path) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(
        "grid:\n  btc_above_prior_high.confirm_closes: [1, 5]\n  rotate.min_days: [0, 30]\n"
        "rank_by: sharpe\n",
        encoding="utf-8",
    )
    return path


def test_sweep_walk_forward_and_deflated_sharpe_json(tmp_path: Path):
    result = invoke(
        "--demo", "--from", "2020-10-01", "--to", "2021-03-31", "--sweep",
        str(_sweep_file(tmp_path)), "--workers", "1", "--walk-forward", "60:30",
        "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    wf = out["walk_forward"]
    assert (wf["train_days"], wf["test_days"]) == (60, 30)
    # 182 days: tests start on days 61, 91, 121, 151, 181 (the last 2 days long).
    assert [f["test_from"] for f in wf["folds"]] == [
        "2020-11-30", "2020-12-30", "2021-01-29", "2021-02-28", "2021-03-30",
    ]  # fmt: skip
    assert wf["folds"][-1]["test_to"] == "2021-03-31"
    points = [p["params"] for p in out["points"]]
    for fold in wf["folds"]:
        assert fold["params"] in points
        assert fold["train_to"] < fold["test_from"]
    oos = wf["out_of_sample"]
    assert (oos["from"], oos["to"]) == ("2020-11-30", "2021-03-31")
    assert {"total_return", "cagr", "sharpe", "max_drawdown"} <= set(oos)
    ds = out["deflated_sharpe"]
    assert ds["trials"] == 4 and ds["params"] == out["points"][0]["params"]
    assert 0 <= Decimal(ds["deflated_sharpe"]) <= 1
    assert ds["observations"] == 181


def test_sweep_walk_forward_table_and_bad_spec(tmp_path: Path):
    sweep = str(_sweep_file(tmp_path))
    base = ("--demo", "--from", "2020-10-01", "--to", "2021-03-31", "--sweep", sweep)
    result = invoke(*base, "--workers", "1", "--walk-forward", "90:45")
    assert result.exit_code == 0, result.output
    assert "Walk-forward 90:45" in result.output and "out-of-sample" in result.output
    assert "deflated Sharpe ratio of the best point" in result.output
    for spec, text in (("90", "expected TRAIN_DAYS:TEST_DAYS"), ("400:30", "too few")):
        bad = invoke(*base, "--workers", "1", "--walk-forward", spec)
        assert bad.exit_code == 2, bad.output
        assert text in bad.output and "Traceback" not in bad.output


def test_a_window_too_short_to_resample_says_so():
    result = invoke("--demo", "--from", "2021-01-01", "--to", "2021-01-02", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["robustness"] == {"block_bootstrap": None}


def test_every_option_and_output_field_is_documented():
    root = Path(__file__).resolve().parents[1]
    page = (root / "docs" / "backtest-robustness.md").read_text(encoding="utf-8")
    backtest_page = (root / "docs" / "backtest.md").read_text(encoding="utf-8")
    options = ("--bootstrap-samples", "--block-days", "--seed", "--walk-forward")
    fields = (
        "robustness.block_bootstrap", "block_days", "samples", "excess_cagr_vs_hodl_btc",
        "excess_cagr_vs_static", "estimate", "ci95_low", "ci95_high", "p_positive",
        "walk_forward.train_days", "walk_forward.test_days", "walk_forward.folds",
        "walk_forward.out_of_sample", "train_score", "deflated_sharpe", "sharpe_per_day",
        "trials", "sharpe_variance_per_day", "skew", "kurtosis", "observations",
        "expected_max_sharpe_per_day",
    )  # fmt: skip
    for name in options + fields:  # `name` or a path ending in .name
        assert re.search(rf"[`.]{re.escape(name)}\b", page), name
    for name in options:
        assert f"`{name}" in backtest_page, name
