"""`ccxt:` settings rotator knows are validated at `check` time: file, line, field, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from rotator.cli.app import cli

HEADER = """\
base_currency: USD
accounts:
  - name: main
    exchange: {exchange}
    api_key_env: API_KEY
    secret_env: API_SECRET
    ccxt:
"""
FOOTER = "targets: {BTC: 1}\n"

# (exchange, ccxt lines, line of the error, field path, message)
CASES = [
    ("binance", "      timeout: soon\n", 8, "ccxt.timeout", "must be a positive whole number"),
    ("binance", "      timeout: -5\n", 8, "ccxt.timeout", "must be a positive whole number"),
    ("binance", "      timeout: 2.5\n", 8, "ccxt.timeout", "must be a positive whole number"),
    ("binance", "      rateLimit: fast\n", 8, "ccxt.rateLimit", "must be a positive number"),
    (
        "binance",
        "      enableRateLimit: false\n",
        8,
        "ccxt.enableRateLimit",
        "rate limiting cannot be turned off",
    ),
    ("binance", "      urls: broken\n", 8, "ccxt.urls", "must be a mapping of URLs"),
    ("binance", "      options: [1, 2]\n", 8, "ccxt.options", "must be a mapping"),
    ("binance", "      hostname: http://x/y\n", 8, "ccxt.hostname", "must be a host name"),
    (
        "binance",
        "      headers:\n        X-HTTP-Method-Override: DELETE\n",
        8,
        "ccxt.headers",
        "headers cannot be set",
    ),
    (
        "binance",
        "      urls:\n        api:\n          sapi: http://127.0.0.1:9/sapi/v1/capital/withdraw/apply#\n",
        10,
        "ccxt.urls.api.sapi",
        "must not contain a query (?...) or fragment",
    ),
    (
        "kraken",
        "      urls:\n        api:\n          private: http://127.0.0.1:9/0/private/CancelAll?x=\n",
        10,
        "ccxt.urls.api.private",
        "must not contain a query (?...) or fragment",
    ),
    (
        "binance",
        "      urls:\n        api:\n          sapi: http://127.0.0.1:9/sapi/v1/capital/withdraw/apply\n",
        10,
        "ccxt.urls.api.sapi",
        "must keep ccxt's path /sapi/v1 at its end",
    ),
    (
        "binance",
        "      urls:\n        api:\n          sapi: ftp://127.0.0.1:9/sapi/v1\n",
        10,
        "ccxt.urls.api.sapi",
        "must be an absolute http(s) URL",
    ),
    (
        "binance",
        "      urls:\n        api:\n          sapi: http://127.0.0.1:9/x/../sapi/v1\n",
        10,
        "ccxt.urls.api.sapi",
        "must not contain '..'",
    ),
    (
        "binance",
        "      urls:\n        api:\n          nosuchapi: http://127.0.0.1:9/sapi/v1\n",
        10,
        "ccxt.urls.api.nosuchapi",
        "is not an API of ccxt's binance",
    ),
]


@pytest.mark.parametrize(("exchange", "lines", "line", "field", "message"), CASES)
def test_bad_ccxt_settings_fail_check_with_file_line_and_field(
    tmp_path: Path, exchange: str, lines: str, line: int, field: str, message: str
) -> None:
    config = tmp_path / "portfolio.yaml"
    config.write_text(HEADER.format(exchange=exchange) + lines + FOOTER)
    result = CliRunner().invoke(cli, ["check", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert f"{config}:{line}: accounts[0].{field}: {message}" in result.output
    assert "Traceback" not in result.output


def test_a_path_prefix_and_another_host_are_accepted(tmp_path: Path) -> None:
    config = tmp_path / "portfolio.yaml"
    lines = (
        "      timeout: 5000\n      rateLimit: 50\n      options: {recvWindow: 10000}\n"
        "      urls:\n        api:\n          sapi: http://127.0.0.1:8080/proxy/sapi/v1\n"
        "          public: https://eu.example.org/binance/api/v3\n"
    )
    config.write_text(HEADER.format(exchange="binance") + lines + FOOTER)
    result = CliRunner(env={"API_KEY": "x" * 12, "API_SECRET": "y" * 12}).invoke(
        cli, ["check", "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
