"""`rotator check` and the cheap start-up of `--help` / `check`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from rotator.cli.app import cli

REPO = Path(__file__).resolve().parents[1]


def test_check_reports_credentials_without_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BINANCE_API_KEY", "sentinel-key-value")
    monkeypatch.setenv("BINANCE_SECRET", "sentinel-secret-value")
    monkeypatch.delenv("KRAKEN_API_KEY", raising=False)
    monkeypatch.delenv("KRAKEN_SECRET", raising=False)
    result = CliRunner().invoke(cli, ["check", "--config", str(REPO / "portfolio.yaml")])
    assert result.exit_code == 2
    assert "BINANCE_API_KEY: set" in result.output
    assert "KRAKEN_SECRET: MISSING" in result.output
    assert "sentinel" not in result.output


def test_check_passes_when_all_credentials_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BINANCE_API_KEY", "BINANCE_SECRET", "KRAKEN_API_KEY", "KRAKEN_SECRET"):
        monkeypatch.setenv(name, "x" * 12)
    result = CliRunner().invoke(cli, ["check", "--config", str(REPO / "portfolio.yaml")])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


@pytest.mark.parametrize("args", [["--help"], ["check", "--config", "portfolio.yaml"]])
def test_help_and_check_do_not_import_ccxt_or_pandas(args: list[str]) -> None:
    probe = (
        "import sys\n"
        "from rotator.cli.app import main\n"
        f"sys.argv = ['rotator', *{args!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted(m for m in ('ccxt', 'pandas', 'sqlalchemy') if m in sys.modules)\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    assert "HEAVY=\n" in out, out
