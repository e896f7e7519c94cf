"""Progress on stderr: shown on a terminal (a real pseudo-terminal here), never in a pipe or
with --quiet, and never on stdout."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from rotator.adapters.runlock import run_lock
from rotator.cli.app import cli

WAIT = 240  # a hang guard for the subprocess, not a speed claim
BACKTEST = ["backtest", "--demo", "--from", "2021-01-01", "--to", "2021-03-01"]


def _on_a_terminal(args: list[str], tmp_path: Path) -> tuple[int, str, str]:
    """Run rotator with stderr on a pseudo-terminal; (exit code, stdout, what the terminal got)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROTATOR_")}
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
