"""Outputs are somebody's input: server text never leaks a secret, drives the terminal, runs
in a Markdown viewer or becomes a spreadsheet formula.

Everything runs through the real CLI against loopback servers. A hostile Ethereum endpoint
(its key in the URL path, given by `rpc_url_env`) answers with a JSON-RPC error that echoes
the key with and without the scheme, terminal escapes (ESC sequences, OSC 52 clipboard write,
OSC 8 link, clear-screen, C1 controls), rich markup and HTML; a Slack-style webhook answers 500
echoing its secret path. Nothing secret and no control byte may reach stdout, stderr, the
SQLite file or either report, while the (escaped) server message still reaches the user.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from click.testing import CliRunner
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from rotator.cli.app import cli
from rotator.demo.chains import DEMO_ZPUB, EvmState, esplora_routes
from rotator.demo.replay import ReplayServer
from rotator.reports.escape import csv_cell, markdown, strip_controls

BIP84_RECEIVE0 = "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"
VITALIK = "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045"
NOW = "2026-06-01T12:00:00+00:00"
RPC_KEY = "Alch3myK3yInThePath0123456789xyz"
SLACK_PATH = ("T0SENTINEL", "B0SENTINEL", "SlackTokenSentinel0123456789")
HOSTILE = (
    "[/] [bold red]markup[/] <script>alert(1)</script><img src=x onerror=alert(2)>"
    "\x1b[2J\x1b[H"  # clear screen, cursor home
    "\x1b]52;c;ZWNobw==\x07"  # OSC 52: write to the clipboard
    "\x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\"  # OSC 8 link
    "\x9b31m\x07\x08"  # C1 CSI, bell, backspace
)
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _serve_hostile_chain(server: ReplayServer, key_path: str) -> None:
    from rotator.config.keys import parse_hd

    hd = parse_hd(DEMO_ZPUB)
    unused = [a for b in (0, 1) for a in hd.addresses(b, 0, 40) if a != BIP84_RECEIVE0]
    server.mount("/btc", esplora_routes({BIP84_RECEIVE0: 50_000_000}, unused, 900000))
    echo = f"no such key: {server.url.split('//')[1]}{key_path} {HOSTILE}"

    def rpc_error(request: object) -> bytes:
        return json.dumps(
            {"jsonrpc": "2.0", "id": 1, "error": {"code": -32000, "message": echo}}
        ).encode()

    server.add_route(f"POST {key_path}", rpc_error)
    server.add_route("POST /eth", EvmState(block=77, native={VITALIK.lower(): 10**18}).body())

    def prices(request):  # type: ignore[no-untyped-def]
        ids = request.query["ids"][0].split(",")
        table = {"bitcoin": 60000, "ethereum": 3000}
        return json.dumps({i: {"usd": table[i]} for i in ids if i in table}).encode()

    server.add_route("GET /cg/simple/price", prices)


def _webhook(httpserver: HTTPServer) -> str:
    path = "/services/" + "/".join(SLACK_PATH)

    def echo_500(request: Request) -> Response:
        text = f"invalid_token for hooks.local{request.path} {request.url} {HOSTILE}"
        return Response(text, status=500)

    httpserver.expect_request(path, method="POST").respond_with_handler(echo_500)
    return httpserver.url_for(path)


def _portfolio(tmp_path: Path, server: ReplayServer) -> Path:
    path = tmp_path / "portfolio.yaml"
    path.write_text(
        f"""base_currency: USD
targets: {{BTC: 0.5, ETH: 0.5}}
wallets:
  - name: vault
    chain: bitcoin
    xpub: {DEMO_ZPUB}
    rpc_url: {server.url}/btc
    requests_per_second: 1000
  - name: hot
    chain: ethereum
    addresses: ['{VITALIK}']
    rpc_url_env: ETH_RPC
    retries: 0
oracles:
  coingecko_url: {server.url}/cg
  defillama_url: {server.url}/llama
delivery:
  webhooks: [{{format: slack, url_env: SLACK_URL}}]
  retry_delay_seconds: 0
""",
    )
    return path


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _dump(db: Path) -> str:
    """Every text value of every table of the SQLite file."""
    with sqlite3.connect(db) as connection:
        tables = [
            r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        values = [
            value
            for table in tables
            for row in connection.execute(f'SELECT * FROM "{table}"')
            for value in row
            if isinstance(value, str)
        ]
    return "\n".join(values)


def test_secrets_in_urls_and_hostile_server_text_never_reach_any_output(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.txt").write_text("keep me")
    before = _tree(outside)
    key_path = f"/eth/v2/{RPC_KEY}"
    with ReplayServer() as server:
        _serve_hostile_chain(server, key_path)
        config = _portfolio(work, server)
        env = {
            "ETH_RPC": f"{server.url}{key_path}",
            "SLACK_URL": _webhook(httpserver),
            "ROTATOR_DATA_DIR": str(work / "data"),
            "ROTATOR_CACHE_DIR": str(work / "cache"),
            "COLUMNS": "2000",  # one line per message: the assertions read whole phrases
        }
        db = work / "data" / "runs.sqlite3"
        db.parent.mkdir()  # a SQLite file --db names goes only into an existing folder
        args = ["--config", str(config), "--db", f"sqlite:///{db}", "--now", NOW]
        runner = CliRunner()
        plan = runner.invoke(cli, ["plan", *args], env=env, catch_exceptions=False)
        report = runner.invoke(
            cli, ["report", *args, "--out", str(work / "reports")], env=env, catch_exceptions=False
        )
    assert plan.exit_code == 3, plan.output
    assert report.exit_code == 3, report.output  # incomplete wins over the failed delivery
    assert "PLAN INCOMPLETE" in plan.stdout and "no such key" in plan.stdout
    assert "[/] [bold red]markup[/]" in plan.stdout  # shown literally, not parsed
    assert "\\x1b]52;c;" in plan.stdout  # the escape is visible, not executed
    assert "HTTP 500" in report.stderr and "services/***/***/***" in report.stderr
    files = _tree(work)
    md = next(v for k, v in files.items() if k.endswith(".md")).decode()
    assert "no such key" in md and "<script>" not in md and "<img" not in md
    html = next(v for k, v in files.items() if k.endswith(".html")).decode()
    assert "<script>alert" not in html
    stored = _dump(db)
    assert "no such key" in stored
    outputs = {
        "plan stdout": plan.stdout,
        "plan stderr": plan.stderr,
        "report stdout": report.stdout,
        "report stderr": report.stderr,
        "database tables": stored,
        **{name: data.decode("utf-8", "replace") for name, data in files.items()},
    }
    secrets = (RPC_KEY, *SLACK_PATH)
    for name, text in outputs.items():
        for secret in secrets:
            assert secret not in text, (name, secret)
        if not name.endswith(".sqlite3"):
            assert not CONTROL.search(text), (name, repr(text))
    assert _tree(outside) == before


def test_plan_and_screen_csv_cells_never_become_formulas() -> None:
    for hostile in ('=HYPERLINK("https://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)"):
        assert csv_cell(hostile).startswith("'"), hostile
    assert csv_cell("\tx") == "'\tx" and csv_cell("\rx") == "'\\x0dx"
    for number in ("-12.5", "-0.00000001", "+3", "1e-8", "-1E+30"):
        assert csv_cell(number) == number
    assert csv_cell(None) is None and csv_cell(-1.5) == -1.5


def test_markdown_and_terminal_escapes() -> None:
    assert markdown("<script>x</script> 12 < 50 | a") == "&lt;script>x&lt;/script> 12 < 50 \\| a"
    assert strip_controls("a\x1b[31mb\x9bc\u202ed\n\te") == "a\\x1b[31mb\\x9bc\\u202ed\n\te"


def test_secret_url_parts_mask_each_secret_component_and_keep_words() -> None:
    from rotator.redaction import redact, register_secret_url, secret_url_parts

    discord = "https://discord.com/api/webhooks/123456789012345678/Tok_en-abcdefghijklmnopqrstuv"
    parts = secret_url_parts(discord)
    assert {"123456789012345678", "Tok_en-abcdefghijklmnopqrstuv"} <= parts
    assert not {"api", "webhooks", "discord.com"} & parts
    userinfo = "https://rdr:Pa55word-x@rpc.example.org/path?apikey=QueryValue99&chain=1"
    register_secret_url(userinfo)
    echoed = "rpc.example.org/path?apikey=QueryValue99 as rdr:Pa55word-x failed"
    masked = redact(echoed)
    assert "QueryValue99" not in masked and "Pa55word-x" not in masked
    assert "rpc.example.org/path" in masked  # the host and plain words stay readable
    # user:password: the password is the secret, the user name (a database role) stays readable;
    # a user name alone may be a key
    assert "dbrole" not in secret_url_parts("postgresql://dbrole:Pa55word-x@db.example/x")
    assert "KeyAsUser123" in secret_url_parts("https://KeyAsUser123@rpc.example.org/")
    telegram = secret_url_parts("https://api.telegram.org/bot123456:AAE-Telegram-Token_xyz/send")
    assert "AAE-Telegram-Token_xyz" in telegram
