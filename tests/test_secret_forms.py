"""Secrets echoed by an exchange in any encoding never reach stdout, the database or the report.

A Kraken account's balance request fails with an error whose text echoes the credentials in
one form per case (raw, JSON-escaped with `\\/` and \\uXXXX, URL-encoded, base64) or the
request's signature headers (API-Sign) inside escaped JSON or a Python repr. `rotator plan`
(stored in a SQLite file) and `rotator report` run through the real CLI; no form of any
registered secret and no echoed signature may appear in their output, the database file or
the report files, while the echo itself (the error) does reach the user.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
import yaml
from click.testing import CliRunner

from rotator.cli.app import cli
from rotator.demo.replay import RecordedRequest, ReplayServer, api_urls_for
from rotator.redaction import redact, register_secret

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "exchanges" / "kraken"
# Kraken keys are base64 text: '/', '+' and '=' change under JSON and URL encoding.
KEY = "SENTINEL/kraken+Key/forms0042=="
SECRET = "U0VOVElORUwvc2VjcmV0K2Zvcm1zLzQy"  # valid base64 (Kraken signs with it)
PASSWORD = "Sentinel-pässwort-42"  # registered (configured), non-ASCII: \\u00e4 in JSON
ENV = {"KRAKEN_API_KEY": KEY, "KRAKEN_SECRET": SECRET, "KRAKEN_PASSWORD": PASSWORD}
SECRETS = (KEY, SECRET, PASSWORD)


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def _b64url(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def _json_slash(value: str) -> str:
    return json.dumps(value)[1:-1].replace("/", "\\/")


def _lower_percent(value: str) -> str:  # %2f rather than %2F, as some encoders write it
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(value, safe=""))


FORMS: dict[str, Callable[[str], str]] = {
    "raw": lambda v: v,
    "json-slash": _json_slash,
    # echoed as is: the exchange's JSON encoder writes the non-ASCII character as \u00e4
    "json-unicode": lambda v: v,
    "url-encoded": lambda v: quote(v, safe=""),
    "url-encoded-lower": _lower_percent,
    "url-plus": quote_plus,
    "base64": _b64,
    "base64-urlsafe": _b64url,
}


def _echo_secrets(encode: Callable[[str], str]) -> Callable[[RecordedRequest], bytes]:
    def body(request: RecordedRequest) -> bytes:
        echoed = " ".join(f"{name}={encode(v)}" for name, v in zip("kspw", SECRETS, strict=False))
        return json.dumps({"error": ["EAPI:Invalid key", f"echo {echoed}"]}).encode()

    return body


def _echo_headers(style: str) -> Callable[[RecordedRequest], bytes]:
    def body(request: RecordedRequest) -> bytes:
        headers = dict(request.headers)
        text = json.dumps(json.dumps(headers)) if style == "escaped-json" else repr(headers)
        return json.dumps({"error": ["EAPI:Invalid key", f"headers {text}"]}).encode()

    return body


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as replay:
        replay.mount(
            "/k",
            {
                "GET /0/public/AssetPairs": (FIXTURES / "0_public_AssetPairs.json").read_bytes(),
                "GET /0/public/Ticker": (FIXTURES / "0_public_Ticker.json").read_bytes(),
            },
        )
        yield replay


def _portfolio(tmp_path: Path, server: ReplayServer) -> Path:
    data: dict[str, Any] = {
        "base_currency": "USDT",
        "accounts": [
            {
                "name": "kraken",
                "exchange": "kraken",
                "api_key_env": "KRAKEN_API_KEY",
                "secret_env": "KRAKEN_SECRET",
                "password_env": "KRAKEN_PASSWORD",
                "ccxt": {"urls": api_urls_for("kraken", server.url + "/k"), "rateLimit": 1},
            }
        ],
        "wallets": [{"name": "cold", "holdings": {"BTC": 1}}],
        "targets": {"BTC": 0.5, "CASH": 0.5},
    }
    path = tmp_path / "portfolio.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _run_everything(tmp_path: Path, server: ReplayServer) -> tuple[str, list[Path]]:
    config = _portfolio(tmp_path, server)
    db = f"sqlite:///{tmp_path / 'runs.sqlite3'}"
    out = tmp_path / "reports"
    runner = CliRunner()
    plan = runner.invoke(cli, ["plan", "--config", str(config), "--db", db, "--explain"], env=ENV)
    as_json = runner.invoke(
        cli, ["plan", "--config", str(config), "--db", db, "--format", "json"], env=ENV
    )
    report = runner.invoke(
        cli, ["report", "--config", str(config), "--db", db, "--out", str(out), "--no-deliver"],
        env=ENV,
    )  # fmt: skip
    assert plan.exit_code == as_json.exit_code == report.exit_code == 3, plan.output
    streams = "\n".join(r.stdout + r.stderr for r in (plan, as_json, report))
    assert "authentication failed" in streams  # the exchange's echo reached the user...
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p != config]
    assert tmp_path / "runs.sqlite3" in files and list(out.glob("report-*.html"))
    return streams, files


def _assert_absent(needles: set[str], streams: str, files: list[Path]) -> None:
    """No needle, nor the needle JSON-escaped once or twice, in the streams or files."""
    once = {json.dumps(n)[1:-1] for n in needles}
    for needle in needles | once | {json.dumps(n)[1:-1] for n in once}:
        assert needle not in streams, needle
        for path in files:
            assert needle.encode() not in path.read_bytes(), (needle, path)


@pytest.mark.parametrize("form", sorted(FORMS))
def test_secret_forms_never_reach_outputs(tmp_path: Path, server: ReplayServer, form: str) -> None:
    encode = FORMS[form]
    server.fault("POST /k/0/private/BalanceEx", body=_echo_secrets(encode))
    streams, files = _run_everything(tmp_path, server)
    assert "echo k=***" in streams  # ...masked
    _assert_absent({encode(s) for s in SECRETS}, streams, files)


@pytest.mark.parametrize("style", ["escaped-json", "python-repr"])
def test_signature_headers_are_masked_in_any_quoting(
    tmp_path: Path, server: ReplayServer, style: str
) -> None:
    server.fault("POST /k/0/private/BalanceEx", body=_echo_headers(style))
    streams, files = _run_everything(tmp_path, server)
    signatures = {r.headers["API-Sign"] for r in server.requests if "API-Sign" in r.headers}
    assert signatures and "API-Sign" in streams
    _assert_absent(signatures | set(SECRETS), streams, files)


def test_secrets_are_masked_only_as_whole_tokens() -> None:
    register_secret("looks")  # too short to be a credential: ordinary words stay readable
    register_secret("redential")
    message = "portfolio.yaml:3: accounts[0].ccxt.apiKey: looks like a credential"
    assert redact(message) == message
    assert redact("key=redential&x=1") == "key=***&x=1"
    assert redact('{"k": "redential"}') == '{"k": "***"}'
