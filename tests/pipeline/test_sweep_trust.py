"""A sweep hands no secret to its workers, and a Dask cluster must be trusted.

A Dask scheduler and its workers return pickled results, which run code inside rotator's
process: `backtest --dask` refuses a scheduler that is neither loopback nor TLS unless the user
passes --trust-cluster. Local worker processes start with a scrubbed environment: no ROTATOR_*
variable, no variable the configuration names, nothing that looks like a credential.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner

from rotator.cli.app import cli
from rotator.errors import ConfigError
from rotator.pipeline.sweep import _init_worker, check_dask_address, scrub_environment


@pytest.mark.parametrize(
    "address",
    [
        "tcp://10.0.0.5:8786",
        "10.0.0.5:8786",
        "tcp://scheduler.example:8786",
        "ws://[2001:db8::1]:8786",
    ],
)
def test_remote_plain_schedulers_are_refused(address: str) -> None:
    with pytest.raises(ConfigError, match=r"run code inside rotator's process") as caught:
        check_dask_address(address)
    assert "--trust-cluster" in str(caught.value) and "tls://" in str(caught.value)
    check_dask_address(address, trust=True)  # the user's explicit choice


@pytest.mark.parametrize(
    "address",
    [
        "tcp://127.0.0.1:8786",
        "localhost:8786",
        "tcp://[::1]:8786",
        "tls://10.0.0.5:8786",
        "127.0.0.2",
    ],
)
def test_loopback_and_tls_schedulers_are_accepted(address: str) -> None:
    check_dask_address(address)


def test_cli_refuses_a_remote_scheduler_before_connecting(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("grid:\n  rotate.min_days: [0, 30]\n")
    args = ["backtest", "--demo", "--from", "2020-10-01", "--to", "2021-03-31", "--sweep"]
    result = CliRunner().invoke(cli, [*args, str(sweep), "--dask", "tcp://10.0.0.5:8786"])
    assert result.exit_code == 2, result.output
    assert "refusing a scheduler on another machine" in result.output
    assert "Traceback" not in result.output
    assert "--trust-cluster" in CliRunner().invoke(cli, ["backtest", "--help"]).output


def test_scrub_environment_removes_credentials_and_keeps_the_rest() -> None:
    env = {
        "PATH": "/usr/bin",
        "HOME": "/home/u",
        "ROTATOR_DB_URL": "postgresql://u:p@db/rotator",
        "BINANCE_API_KEY": "k" * 20,
        "KRAKEN_SECRET": "s" * 20,
        "MY_EXCHANGE_THING": "named by portfolio.yaml",
        "ETH_RPC": "https://rpc.example/v2/key",
        "SLACK_WEBHOOK": "https://hooks.slack.com/services/x",
    }
    gone = scrub_environment(["MY_EXCHANGE_THING"], env)
    assert env == {"PATH": "/usr/bin", "HOME": "/home/u"}
    assert "BINANCE_API_KEY" in gone and "MY_EXCHANGE_THING" in gone


def _environment() -> dict[str, str]:
    return dict(os.environ)


def test_local_sweep_workers_start_without_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BINANCE_API_KEY", "sentinel-key-value-0123456789")
    monkeypatch.setenv("PORTFOLIO_NAMED_VAR", "sentinel-named-value")
    with ProcessPoolExecutor(
        max_workers=1,
        initializer=_init_worker,
        initargs=(None, {}, None, None, ("PORTFOLIO_NAMED_VAR",)),
    ) as pool:
        seen = pool.submit(_environment).result()
    assert "BINANCE_API_KEY" not in seen and "PORTFOLIO_NAMED_VAR" not in seen
    assert seen.get("PATH") == os.environ.get("PATH")
    assert os.environ["BINANCE_API_KEY"] == "sentinel-key-value-0123456789"  # ours untouched
