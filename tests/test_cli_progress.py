"""Progress on stderr: shown on a terminal (a real pseudo-terminal here), never in a pipe or
with --quiet, and never on stdout."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from rotator.adapters.runlock import run_lock
from rotator.cli.app import cli

WAIT = 240  # a hang guard for the subprocess, not a speed claim
BACKTEST = ["backtest", "--demo", "--from", "2021-01-01", "--to", "2021-03-01"]


def _on_a_terminal(
    args: list[str], tmp_path: Path, extra: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """Run rotator with stderr on a pseudo-terminal; (exit code, stdout, what the terminal got)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROTATOR_")}
    env |= extra or {}
    env |= {
        "ROTATOR_DATA_DIR": str(tmp_path / "data"),
        "ROTATOR_CACHE_DIR": str(tmp_path / "cache"),
        "COLUMNS": "120",
        "TERM": "xterm",
    }
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "rotator", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=secondary,
        text=True,
    )
    os.close(secondary)
    seen = bytearray()
    while True:
        ready, _, _ = select.select([primary], [], [], WAIT)
        if not ready:
            proc.kill()
            break
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the terminal's other end closed: the process is done
            break
        if not chunk:
            break
        seen += chunk
    out, _ = proc.communicate(timeout=WAIT)
    os.close(primary)
    return proc.returncode, out, seen.decode(errors="replace")


@pytest.mark.slow  # started first (see conftest.py)
def test_backtest_shows_progress_on_a_terminal_and_not_with_quiet(tmp_path: Path) -> None:
    code, out, terminal = _on_a_terminal(BACKTEST, tmp_path)
    assert code == 0, terminal
    assert "replay rule set" in terminal and "replay static" in terminal
    assert "replay" not in out and "Backtest 2021-01-01" in out

    code, out, terminal = _on_a_terminal([*BACKTEST, "--quiet"], tmp_path)
    assert code == 0, terminal
    assert "replay" not in terminal and "replay" not in out


def test_no_progress_when_stderr_is_not_a_terminal() -> None:
    result = CliRunner().invoke(cli, BACKTEST)
    assert result.exit_code == 0, result.output
    assert "replay" not in result.stderr and "replay" not in result.stdout


def test_waiting_for_a_held_report_lock_is_announced(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "demo-reports"
    with run_lock(folder, 0):
        code, out, terminal = _on_a_terminal(["report", "--demo", "--wait", "0.5"], tmp_path)
    assert code == 4, terminal
    assert "waiting up to 0.5 s for another rotator run to finish" in terminal
    assert "rotator.lock" in terminal
    assert "waiting" not in out


@pytest.mark.slow  # started first (see conftest.py)
def test_a_source_retry_is_announced_while_the_screen_waits(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    # DefiLlama's protocol list answers 503 once (retried after the back-off), then 404s.
    httpserver.expect_oneshot_request("/llama/protocols").respond_with_data("busy", status=503)
    httpserver.expect_request(re.compile(".*")).respond_with_data("gone", status=404)
    (tmp_path / "rules.yaml").write_text(
        "rules:\n  basket: {kind: revenue_screen}\n"
        "regimes:\n  - name: hold\n    targets: {BTC: 1.0}\n"
    )
    config = tmp_path / "portfolio.yaml"
    config.write_text("wallets:\n  - {name: cold, holdings: {BTC: 1}}\nrules: rules.yaml\n")
    sources = {
        "ROTATOR_DEFILLAMA_API_URL": httpserver.url_for("/llama"),
        "ROTATOR_DEFILLAMA_YIELDS_URL": httpserver.url_for("/yields"),
        "ROTATOR_COINGECKO_URL": httpserver.url_for("/cg"),
        "ROTATOR_COINGECKO_CALLS_PER_MINUTE": "0",
    }
    args = ["screen", "--config", str(config), "--format", "json"]
    code, out, terminal = _on_a_terminal(args, tmp_path, sources)
    assert code == 3, terminal  # the 404s leave the screen incomplete
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal)
    assert "GET /protocols: HTTP 503; retrying in 2 s (attempt 2 of 3)" in plain, plain
    assert "retrying" not in out
    httpserver.expect_oneshot_request("/llama/protocols").respond_with_data("busy", status=503)
    quiet = _on_a_terminal([*args, "--quiet"], tmp_path, sources)[2]
    assert [status for _, status in _protocol_calls(httpserver)] == [503, 404, 503, 404]
    assert "retrying" not in quiet


def _protocol_calls(server: HTTPServer) -> list[tuple[str, int]]:
    return [(r.path, resp.status_code) for r, resp in server.log if r.path == "/llama/protocols"]


def test_a_sweep_shows_its_points_done_on_a_terminal(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("grid:\n  btc_above_prior_high.confirm_closes: [1, 5]\n")
    args = ["backtest", "--demo", "--from", "2021-01-01", "--to", "2021-02-01"]
    code, out, terminal = _on_a_terminal(
        [*args, "--sweep", str(sweep), "--workers", "1", "--format", "json"], tmp_path
    )
    assert code == 0, terminal
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal)
    assert "sweep of 2 points" in plain and "2/2" in plain, plain
    assert "sweep of" not in out
