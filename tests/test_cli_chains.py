"""Chain wallets through the real CLI: config errors, `check`, plans, faults -> exit 3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from rotator.cli.app import cli
from rotator.demo.chains import DEMO_ZPUB, EvmState, esplora_routes
from rotator.demo.replay import ReplayServer

BIP84_RECEIVE0 = "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"
VITALIK = "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045"
NOW = "2026-06-01T12:00:00+00:00"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "portfolio.yaml"
    path.write_text(text)
    return path


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env=env or {}, catch_exceptions=False)


@pytest.mark.parametrize(
    ("wallet", "expected"),
    [
        (
            "{name: w, chain: bitcoin, addresses: [bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyv]}",
            "portfolio.yaml:3: wallets[0]: Value error, addresses[0] bc1qcr…306fyv is not a valid",
        ),
        (
            f"{{name: w, chain: ethereum, addresses: [{VITALIK}]}}",
            "must be quoted in YAML",
        ),
        (
            "{name: w, chain: ethereum, addresses: ['0xd8DA6BF26964aF9D7eEd9e03E53415D37aA96045']}",
            "EIP-55 checksum",
        ),
        (
            "{name: w, chain: ethereum, addresses: ['0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045'],"
            " rpc_url: 'https://mainnet.infura.io/v3/0123456789abcdef0123456789abcdef'}",
            "embeds an API key",
        ),
        ("{name: w, chain: dogecoin, addresses: [x]}", "must be one of bitcoin"),
        (
            "{name: w, chain: bitcoin, xpub: tpubD6NzVbkrYhZ4WaWSyoBvQwbpLkojyoTZPRsgXELWz3Pop"
            "b3qkjcJyJUGLnL4qHHoQvao8ESaAstxYSnhyswJ76uZPStJRJCTKvosUCJZL5B}",
            "testnet",
        ),
        (
            "{name: w, chain: ethereum, addresses: ['0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045'],"
            " tokens: [NOPE]}",
            "tokens.NOPE: no shipped contract on ethereum",
        ),
        ("{name: w, chain: bitcoin, gap_limit: 0, xpub: x}", "wallets[0].gap_limit"),
    ],
)
def test_bad_chain_wallets_are_config_errors(tmp_path, wallet, expected):
    path = write(tmp_path, f"targets: {{BTC: 1}}\nwallets:\n  - {wallet}\n")
    result = CliRunner().invoke(cli, ["check", "--config", str(path)])
    assert result.exit_code == 2, result.output
    assert expected.replace("Value error, ", "") in result.output
    assert "Traceback" not in result.output and "kind:" not in result.output


def test_check_validates_offline_and_names_the_endpoints(tmp_path):
    path = write(
        tmp_path,
        f"""targets: {{BTC: 1}}
wallets:
  - {{name: vault, chain: bitcoin, xpub: {DEMO_ZPUB}, gap_limit: 30}}
  - {{name: hot, chain: ethereum, addresses: ['{VITALIK}'], tokens: [USDC], rpc_url_env: ETH_RPC}}
  - {{name: sol, chain: solana, addresses: [7pFGok3zuvacRP797Ke3bUZqbq24PbVQNLvwopfErvih]}}
""",
    )
    result = CliRunner().invoke(cli, ["check", "--config", str(path)], env={})
    out = result.output
    assert "xpub zpub6r…GutZYs: valid, BIP84 p2wpkh, receive and change, gap limit 30" in out
    assert "first receive address bc1qcr…306fyu" in out
    assert "endpoint (esplora): https://blockstream.info/api" in out
    assert "endpoint: $ETH_RPC MISSING" in out and result.exit_code == 2
    assert "Multicall3" in out and "https://api.mainnet-beta.solana.com" in out
    assert DEMO_ZPUB not in out and VITALIK not in out  # private: shortened
    secret = "https://eth.example/v3/" + "f" * 32
    ok = CliRunner().invoke(cli, ["check", "--config", str(path)], env={"ETH_RPC": secret})
    assert ok.exit_code == 0 and "$ETH_RPC (set)" in ok.output and secret not in ok.output


def serve_wallets(server: ReplayServer) -> None:
    from rotator.config.keys import parse_hd

    hd = parse_hd(DEMO_ZPUB)
    unused = [a for b in (0, 1) for a in hd.addresses(b, 0, 40) if a != BIP84_RECEIVE0]
    server.mount("/btc", esplora_routes({BIP84_RECEIVE0: 50_000_000}, unused, 900000))
    state = EvmState(block=77, native={VITALIK.lower(): 10**18})
    server.add_route("POST /eth", state.body())

    def prices(request):
        ids = request.query["ids"][0].split(",")
        table = {"bitcoin": 60000, "ethereum": 3000}
        return json.dumps({i: {"usd": table[i]} for i in ids if i in table}).encode()

    server.add_route("GET /cg/simple/price", prices)


def portfolio(tmp_path: Path, server: ReplayServer, extra: str = "") -> Path:
    return write(
        tmp_path,
        f"""base_currency: USD
targets: {{BTC: 0.5, ETH: 0.5}}
wallets:
  - name: vault
    chain: bitcoin
    xpub: {DEMO_ZPUB}
    rpc_url: {server.url}/btc
    requests_per_second: 1000
    {extra}
  - name: hot
    chain: ethereum
    addresses: ['{VITALIK}']
    rpc_url: {server.url}/eth
oracles:
  coingecko_url: {server.url}/cg
  defillama_url: {server.url}/llama
""",
    )


def plan_json(path: Path):
    result = invoke("plan", "--config", str(path), "--format", "json", "--no-save", "--now", NOW)
    out = result.stdout
    return result, (json.loads(out) if out.startswith("{") else None)


def test_plan_counts_chain_wallets_with_source_and_oracle_marks(tmp_path):
    with ReplayServer() as server:
        serve_wallets(server)
        result, plan = plan_json(portfolio(tmp_path, server))
    assert result.exit_code == 0, result.output
    assert plan["complete"] and plan["total_value"] == "33000"
    rows = {r["asset"]: r for r in plan["onchain"]}
    assert rows["BTC"]["address"] == "zpub6r…GutZYs" and rows["BTC"]["block"] == 900000
    assert rows["ETH"]["address"] == "0xd8dA…A96045" and rows["ETH"]["block"] == 77
    assert rows["BTC"]["price_source"] == "oracle" and rows["BTC"]["read_at"].startswith(
        "2026-06-01"
    )
    assert {p["asset"] for p in plan["oracle_prices"]} == {"BTC", "ETH"}
    assert all(p["oracle"] for p in plan["oracle_prices"])
    assert plan["orders"] == []  # on-chain holdings are never sold
    assert DEMO_ZPUB not in result.output and VITALIK not in result.output


def test_429_with_retry_after_is_retried_to_a_complete_plan(tmp_path):
    # The wait itself (Retry-After: 7 -> one wait of 7 s on the run's clock) is asserted on a
    # fake clock in tests/chains/test_chain_bitcoin.py; here the command retries and completes.
    with ReplayServer() as server:
        serve_wallets(server)
        server.fault(
            "GET /btc/blocks/tip/height", status=429, headers={"Retry-After": "0"}, times=1
        )
        result, plan = plan_json(portfolio(tmp_path, server, "retries: 1"))
        asked = len(server.requests_to("GET /btc/blocks/tip/height"))
    assert result.exit_code == 0, result.output
    assert plan["complete"] and asked == 2


@pytest.mark.parametrize(
    ("fault", "extra", "message"),
    [
        ({"status": 429, "headers": {"Retry-After": "0"}}, "retries: 1", "HTTP 429 (2 attempts)"),
        ({"hang": 3.0}, "timeout_seconds: 0.3", "timed out"),
        ({"malformed": True}, "", "response is not JSON"),
    ],
)
def test_chain_faults_leave_the_plan_incomplete(tmp_path, fault, extra, message):
    with ReplayServer() as server:
        serve_wallets(server)
        server.fault("/btc/address/", **fault)
        result, plan = plan_json(portfolio(tmp_path, server, extra))
    assert result.exit_code == 3, result.output
    assert not plan["complete"] and plan["orders"] == []
    assert any(message in p["message"] and "vault" in p["message"] for p in plan["problems"])
    assert "Traceback" not in result.output


def test_jsonrpc_error_object_leaves_the_plan_incomplete(tmp_path):
    recorded = Path(__file__).parent / "fixtures" / "chains"
    body = (recorded / "rpc.error.missing_trie_node.eth_getBalance.publicnode.json").read_bytes()
    with ReplayServer() as server:
        serve_wallets(server)
        server.add_route("POST /eth", body)
        result = invoke(
            "plan", "--config", str(portfolio(tmp_path, server)), "--no-save", "--now", NOW
        )
    assert result.exit_code == 3
    assert "missing trie node" in result.output and "PLAN INCOMPLETE" in result.output
    assert "Traceback" not in result.output


def test_missing_rpc_url_variable_leaves_the_plan_incomplete(tmp_path):
    with ReplayServer() as server:
        serve_wallets(server)
        path = portfolio(tmp_path, server)
        path.write_text(
            path.read_text().replace(f"rpc_url: {server.url}/eth", "rpc_url_env: MY_RPC")
        )
        result, plan = plan_json(path)
    assert result.exit_code == 3
    assert any("MY_RPC is not set" in p["message"] for p in plan["problems"])


def test_demo_plan_and_report_show_chain_wallets(tmp_path):
    result = invoke("plan", "--demo", "--format", "json", "--no-save")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    rows = {(r["wallet"], r["asset"]): r for r in plan["onchain"]}
    assert rows[("btc-vault", "BTC")]["amount"] == "0.155"
    assert rows[("btc-vault", "BTC")]["addresses"] == 3
    assert rows[("eth-wallet", "STETH")]["price_source"] == "oracle"
    [steth] = plan["oracle_prices"]
    assert "ETH per STETH" in steth["source"]
    report = invoke("report", "--demo")
    assert report.exit_code == 0, report.output
    md = next(
        Path(line.split(":", 1)[1].strip())
        for line in report.output.splitlines()
        if "markdown:" in line
    )
    text = md.read_text()
    assert "On-chain wallets" in text and "zpub6r…GutZYs" in text and "(oracle)" in text


def test_check_of_chain_wallets_stays_light():
    """Offline validation needs embit/eth-utils/solders, not the HTTP client, ccxt or pandas."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from rotator.cli.app import main\n"
        "sys.argv = ['rotator', 'check', '--config', 'rotator/demo/portfolio.yaml']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('ccxt', 'pandas', 'sqlalchemy', 'httpx', 'eth_abi')\n"
        "print('HEAVY=' + ','.join(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    repo = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=repo, capture_output=True, text=True, check=True
    ).stdout
    assert "HEAVY=\n" in out, out


def test_secret_rpc_url_never_shows(tmp_path):
    key = "0123456789abcdef" * 2
    with ReplayServer() as server:
        serve_wallets(server)
        server.add_route(f"POST /eth/v3/{key}", EvmState().body())
        server.fault(f"POST /eth/v3/{key}", status=503)
        path = portfolio(tmp_path, server)
        path.write_text(
            path.read_text().replace(f"rpc_url: {server.url}/eth", "rpc_url_env: ETH_RPC")
        )
        env = {"ETH_RPC": f"{server.url}/eth/v3/{key}"}
        result = invoke("plan", "--config", str(path), "--no-save", "--now", NOW, env=env)
        asked = len(server.requests_to(f"POST /eth/v3/{key}"))
    assert result.exit_code == 3 and asked == 3  # first try + 2 retries
    assert "$ETH_RPC" in result.output and "HTTP 503" in result.output
    assert key not in result.output
