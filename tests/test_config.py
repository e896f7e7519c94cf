"""portfolio.yaml validation: a table of broken files, each with its message and exit code 2."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from rotator.cli.app import cli
from rotator.config.portfolio import load_portfolio
from rotator.core.models import CASH_BUCKET
from rotator.errors import ConfigError

VALID = """\
base_currency: usd
accounts:
  - name: main
    exchange: binance
    api_key_env: BINANCE_KEY
    secret_env: BINANCE_SECRET
    ccxt: {timeout: 5000, options: {defaultType: spot}}
wallets:
  - name: cold
    holdings: {btc: 0.5}
targets: {BTC: 0.7, ETH: 0.1, USDT: 0.1, USDC: 0.1}
"""

BROKEN = [
    pytest.param(
        "targets: {BTC: 0.6, ETH: 0.3}\n",
        ["targets", "must sum to 1", "0.9"],
        id="weights-not-summing-to-one",
    ),
    pytest.param(
        "targets: {BTC: 60, CASH: 40}\n",
        ["targets", "fraction between 0 and 1", "did you mean 0.6"],
        id="percent-instead-of-fraction",
    ),
    pytest.param(
        "accounts:\n  - name: a\n    exchange: binanse\n",
        ["accounts[0].exchange", "ccxt exchange id", "binanse"],
        id="unknown-exchange",
    ),
    pytest.param(
        "accounts:\n  - name: a\n    exchange: kraken\n    ccxt: {apiKey: abcdef123}\n",
        ["accounts[0].ccxt.apiKey", "secrets must not be written", "api_key_env"],
        id="secret-inside-ccxt",
    ),
    pytest.param(
        "accounts:\n  - name: a\n    exchange: kraken\n    secret: hunter22\n",
        ["accounts[0].secret", "secrets must not be written"],
        id="secret-at-account-level",
    ),
    pytest.param(
        "accounts:\n  - name: a\n    exchange: kraken\n    api_key_env: 'sk-live 123'\n",
        ["accounts[0].api_key_env", "NAME of an environment variable"],
        id="key-value-instead-of-env-name",
    ),
    pytest.param(
        "acounts: []\n",
        ["acounts", "unknown field"],
        id="misspelt-top-level-key",
    ),
    pytest.param(
        "rebalance: {drift_abs: 1.5}\n",
        ["rebalance.drift_abs", "less than or equal to 1"],
        id="drift-out-of-range",
    ),
    pytest.param(
        "wallets:\n  - name: cold\n    holdings: {BTC: -1}\n",
        ["wallets[0].holdings", "must be >= 0"],
        id="negative-wallet-amount",
    ),
    pytest.param(
        "accounts:\n  - name: x\n    exchange: kraken\nwallets:\n  - name: x\n"
        "    holdings: {BTC: 1}\n",
        ["names must be unique", "'x'"],
        id="duplicate-names",
    ),
    pytest.param(
        "targets: {BTC: 0.5\n",
        ["invalid YAML"],
        id="yaml-syntax",
    ),
    pytest.param("- just\n- a list\n", ["expected a mapping"], id="not-a-mapping"),
]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "portfolio.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_valid_file_parses_into_typed_models(tmp_path: Path) -> None:
    portfolio = load_portfolio(write(tmp_path, VALID))
    assert portfolio.base_currency == "USD"
    assert portfolio.accounts[0].ccxt == {"timeout": 5000, "options": {"defaultType": "spot"}}
    assert portfolio.wallets[0].holdings == {"BTC": Decimal("0.5")}
    targets = portfolio.static_targets()
    assert targets is not None
    # USDT and USDC fold into the cash bucket.
    assert targets.weights == {
        "BTC": Decimal("0.7"),
        "ETH": Decimal("0.1"),
        CASH_BUCKET: Decimal("0.2"),
    }


@pytest.mark.parametrize(("text", "expected"), BROKEN)
def test_broken_file_gives_one_clear_message(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_portfolio(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in expected:
        assert fragment in message


@pytest.mark.parametrize(("text", "expected"), BROKEN)
def test_broken_file_exits_2_through_the_cli(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    path = write(tmp_path, text)
    for command in ("check", "plan"):
        result = CliRunner().invoke(cli, [command, "--config", str(path)])
        assert result.exit_code == 2, result.output
        assert expected[0] in result.output
        assert "Traceback" not in result.output


def test_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "base_currency: USD\ntargets:\n  BTC: 0.5\n  ETH: 0.2\nfoo: 1\n")
    with pytest.raises(ConfigError) as info:
        load_portfolio(path)
    assert f"{path}:5: foo: unknown field" in str(info.value)


def test_secret_value_is_not_echoed(tmp_path: Path) -> None:
    path = write(
        tmp_path, "accounts:\n  - name: a\n    exchange: kraken\n    ccxt: {secret: S3NT1NEL}\n"
    )
    result = CliRunner().invoke(cli, ["check", "--config", str(path)])
    assert result.exit_code == 2
    assert "S3NT1NEL" not in result.output


def test_missing_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["check", "--config", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "file not found" in result.output
