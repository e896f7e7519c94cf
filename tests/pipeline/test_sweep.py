"""Sweeps: the grid file, the same results on 1 process, 2 processes and a Dask cluster on
127.0.0.1, the ranked table and the overfitting warning through the CLI."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_backtest import CYCLE, HISTORY, POLICY

from rotator.cli.app import cli
from rotator.errors import ConfigError
from rotator.pipeline.backtest import BacktestSettings
from rotator.pipeline.sweep import apply_point, rank, run_dask, run_local

SETTINGS = BacktestSettings(date(2020, 10, 1), date(2021, 3, 31), policy=POLICY)
POINTS = [
    {"btc_above_prior_high.confirm_closes": c, "rotate.min_days": m}
    for c in (1, 5)
    for m in (0, 30)
]
SPLIT = date(2021, 1, 1)


@pytest.fixture(scope="module")
def local_rows():
    return run_local(CYCLE, HISTORY, SETTINGS, POINTS, split=SPLIT, workers=1)


def test_points_change_the_rule_set_and_bad_points_are_rejected():
    variant = apply_point(CYCLE, POINTS[3])
    spec = next(s for s in variant.rules if s.name == "btc_above_prior_high")
    assert spec.params.confirm_closes == 5
    assert next(r for r in variant.regimes if r.name == "rotate").min_days == 30
    with pytest.raises(ConfigError, match="has no 'confirm_clozes'"):
        apply_point(CYCLE, {"btc_above_prior_high.confirm_clozes": 2})
    with pytest.raises(ConfigError, match="confirm_closes"):
        apply_point(CYCLE, {"btc_above_prior_high.confirm_closes": 0})


def test_processes_give_the_same_rows_as_one_process(local_rows):
    assert run_local(CYCLE, HISTORY, SETTINGS, POINTS, split=SPLIT, workers=2) == local_rows
    assert len({json.dumps(r.in_sample, sort_keys=True) for r in local_rows}) > 1


@pytest.mark.slow  # started first (see conftest.py)
def test_dask_local_cluster_gives_the_same_rows(local_rows):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        rows = run_dask(CYCLE, HISTORY, SETTINGS, POINTS, address=address, split=SPLIT)
    assert rows == local_rows


def test_rank_orders_by_the_in_sample_metric(local_rows):
    ranked = rank(local_rows, "sharpe")
    values = [r.in_sample["sharpe"] for r in ranked]
    assert values == sorted(values, reverse=True)


@pytest.mark.slow  # started first (see conftest.py)
def test_cli_sweep_prints_a_ranked_table_and_warns(tmp_path: Path):
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        "grid:\n  btc_above_prior_high.confirm_closes: [1, 5]\n  rotate.min_days: [0, 30]\n"
    )
    args = ["backtest", "--demo", "--from", "2020-10-01", "--to", "2021-03-31"]
    result = CliRunner().invoke(
        cli, [*args, "--sweep", str(sweep), "--split", "2021-01-01", "--workers", "1",
              "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "in-sample ranking overfits" in result.output
    body = json.loads(result.output[result.output.index("{") : result.output.rindex("}") + 1])
    assert [p["rank"] for p in body["points"]] == [1, 2, 3, 4]
    assert body["points"][0]["out_of_sample"]["total_return"] is not None

    sweep.write_text("grid:\n  btc_above_prior_high.confirm_clozes: [1]\n")
    bad = CliRunner().invoke(cli, [*args, "--sweep", str(sweep)])
    assert bad.exit_code == 2 and "confirm_clozes" in bad.output
    sweep.write_text("grid: {}\nrank_by: luck\n")
    bad = CliRunner().invoke(cli, [*args, "--sweep", str(sweep)])
    assert bad.exit_code == 2 and "sweep.yaml:2: rank_by" in bad.output, bad.output
