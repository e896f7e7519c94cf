"""Broken and hostile configuration files, through the real CLI's entry point.

Each case is a family of broken files met in practice: bad bytes, bad YAML, unbounded YAML
(alias bombs, deep nesting, huge files, devices), numbers that are not numbers, repeated
keys, secrets written where names belong, schema mistakes. Every one must end in a clear
message naming the file (and line where there is one) with exit 2 (or 0 for the valid
controls), never a traceback, and promptly: a hang is a failure (`HANG_SECONDS`).

A case runs `rotator.cli.app:main` (the console script's function) in the test's process, on
its own environment, working folder and argv. The unbounded inputs, and one case per
command and exit code, run it in a subprocess (`Case.process`): there a hang or a runaway
parse is stopped by the timeout, and the exit code is the process's own. Starting Python
and importing the CLI costs about half a second of CPU per process: 80 cases in
subprocesses were a sixth of the whole test command's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from entry_point import run_main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Far above any config error; only a hang or a runaway parse reaches it (the test command runs
# one worker per core, on busy CI machines a Python start alone can take several seconds).
HANG_SECONDS = 60

HEX_SECRET = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
BASE64_SECRET = (
    "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
)
PASTED_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
RULES = """\
rules:
  up: {kind: prior_high_break, asset: BTC, level: 60000}
regimes:
  - name: rotate
    when: up
    targets: {BTC: 0.5, CASH: 0.5}
  - name: hold
    targets: {BTC: 0.8, CASH: 0.2}
"""
ACCOUNT = "accounts:\n  - name: main\n    exchange: binance\n"
TARGETS = "targets: {BTC: 0.5, CASH: 0.5}\n"


def alias_bomb(levels: int = 12) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n" + TARGETS


def deep_block(depth: int) -> str:
    return "".join(f"{' ' * i}k{i}:\n" for i in range(depth)) + " " * depth + "v: 1\n"


def many_wallets(size: int) -> str:
    lines = [TARGETS.strip(), "wallets:"]
    length = sum(len(line) + 1 for line in lines)  # kept as it grows: summing again is O(n²)
    while length < size:
        lines.append(f"  - name: cold{len(lines) - 2}\n    holdings: {{BTC: 0.001, ETH: 0.5}}")
        length += len(lines[-1]) + 1
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Case:
    name: str
    portfolio: str | bytes
    expect: str  # a fragment of the output
    code: int = 2
    command: str = "check"
    files: dict[str, str | bytes] = field(default_factory=dict)
    line: int | None = None  # the portfolio.yaml line the message must name
    absent: str | None = None  # a value that must never be printed
    process: bool = False  # in a subprocess with a timeout (unbounded input; the exit path)


CASES = [
    # bytes that are not UTF-8 text
    Case(
        "latin1", f"{TARGETS}wallets:\n  - name: caf\xe9\n".encode("latin-1"), "not UTF-8", line=3
    ),
    Case("utf16", TARGETS.encode("utf-16"), "UTF-16", line=1),
    Case("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file", process=True),
    Case("control-char", f"{TARGETS}base_currency: US\x07D\n", "control characters", line=2),
    Case("utf8-bom-is-fine", "\ufeff" + TARGETS, "valid", code=0, process=True),
    # empty and wrongly shaped
    Case("empty", "", "the file is empty"),
    Case("empty-plan", "", "the file is empty", command="plan", process=True),
    Case("comments-only", "# nothing here\n", "the file is empty"),
    Case("top-level-list", "- BTC\n- ETH\n", "expected a mapping of settings", line=1),
    Case("top-level-scalar", "just words\n", "expected a mapping of settings"),
    Case("two-documents", f"{TARGETS}---\n{TARGETS}", "invalid YAML"),
    Case("unclosed-bracket", "targets: {BTC: 0.5, CASH: 0.5\n", "invalid YAML"),
    Case("tab-indent", "targets:\n\tBTC: 1\n", "invalid YAML", line=2),
    Case("python-tag", f"{TARGETS}x: !!python/object:os.system {{}}\n", "invalid YAML", line=2),
    Case("unknown-anchor", f"{TARGETS}x: *nowhere\n", "refers to no anchor", line=2),
    # unbounded input
    Case("alias-bomb", alias_bomb(), "expands to more than", process=True),
    Case("alias-bomb-plan", alias_bomb(), "expands to more than", command="plan", process=True),
    Case(
        "many-aliases",
        "a: &a 1\nb: [" + ", ".join(["*a"] * 1500) + "]\n" + TARGETS,
        "more than 1000 aliases",
        process=True,
    ),
    Case("deep-flow", "x: " + "[" * 20000 + "]" * 20000 + "\n" + TARGETS, "nest", process=True),
    Case("deep-flow-maps", "x: " + "{a: " * 20000 + "1" + "}" * 20000 + "\n", "nest", process=True),
    Case("deep-block", deep_block(200), "nested more than", process=True),
    Case(
        "too-large",
        "# " + "x" * (3 * 1024 * 1024) + "\n" + TARGETS,
        "more than a settings",
        process=True,
    ),
    Case("large-but-fine", many_wallets(1_600_000), "valid", code=0, process=True),
    # numbers that are not numbers
    Case("targets-nan", "targets: {BTC: .nan, CASH: 0.5}\n", "finite number", line=1),
    Case("targets-inf", "targets:\n  BTC: -.inf\n  CASH: 1\n", "finite number", line=2),
    Case("targets-nan-string", "targets: {BTC: 'NaN', CASH: 0.5}\n", "finite number"),
    Case("drift-inf", f"{TARGETS}rebalance: {{drift_abs: .inf}}\n", "finite number", line=2),
    Case("targets-percent", "targets: {BTC: 50, CASH: 50}\n", "did you mean 0.5"),
    Case("targets-sum", "targets: {BTC: 0.5, CASH: 0.4}\n", "must sum to 1"),
    Case("targets-negative", "targets: {BTC: -0.5, CASH: 1.5}\n", "between 0 and 1"),
    Case("targets-words", "targets: {BTC: lots, CASH: 0.5}\n", "targets.BTC"),
    Case(
        "ruleset-nan",
        "rules: r.yaml\n",
        "r.yaml:6: .nan is not a number",
        files={"r.yaml": RULES.replace("{BTC: 0.5, CASH: 0.5}", "{BTC: .nan, CASH: 0.5}")},
    ),
    Case(
        "ruleset-nan-string",
        "rules: r.yaml\n",
        "r.yaml:6: regimes[0].targets.BTC: expected a number",
        files={"r.yaml": RULES.replace("{BTC: 0.5, CASH: 0.5}", "{BTC: 'NaN', CASH: 0.5}")},
    ),
    Case(
        "rule-param-nan-string",
        "rules: r.yaml\n",
        "rules.dom.min_change_pp: Input should be a finite number",
        files={
            "r.yaml": RULES.replace(
                "rules:\n",
                "rules:\n  dom: {kind: dominance, test: change, window: 30,"
                " min_change_pp: 'NaN'}\n",
            )
        },
    ),
    Case(
        "ruleset-nan-plan",
        "rules: r.yaml\n",
        "finite number",
        command="plan",
        files={"r.yaml": RULES.replace("{BTC: 0.5, CASH: 0.5}", "{BTC: .nan, CASH: 0.5}")},
    ),
    # keys written twice
    Case("dup-asset-case", "targets:\n  ETH: 0.1\n  eth: 0.1\n  CASH: 0.8\n", "line 2", line=3),
    Case(
        "dup-asset-case-plan",
        "targets:\n  ETH: 0.1\n  eth: 0.1\n  CASH: 0.8\n",
        "'ETH' of line 2",
        command="plan",
        line=3,
    ),
    Case("dup-exact-key", f"base_currency: USD\n{TARGETS}base_currency: EUR\n", "twice", line=3),
    Case(
        "dup-holdings",
        f"{TARGETS}wallets:\n  - name: cold\n    holdings:\n      BTC: 1\n      btc: 2\n",
        "'BTC' of line 5",
        line=6,
    ),
    Case(
        "dup-token-case",
        f"{TARGETS}wallets:\n  - name: hot\n    chain: ethereum\n"
        "    addresses: ['0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045']\n"
        "    tokens:\n      USDC: null\n      usdc: null\n",
        "'USDC' of line 7",
        line=8,
    ),
    Case(
        "dup-token-list",
        f"{TARGETS}wallets:\n  - name: hot\n    chain: ethereum\n"
        "    addresses: ['0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045']\n"
        "    tokens: [USDC, usdc]\n",
        "the token USDC is listed twice",
        line=6,
    ),
    Case(
        "dup-oracle-asset",
        f"{TARGETS}oracles:\n  assets:\n    STETH: {{underlying: ETH, ratio: 1}}\n"
        "    steth: {coingecko: staked-ether}\n",
        "'STETH' of line 4",
        line=5,
    ),
    Case(
        "dup-account-name",
        f"{TARGETS}{ACCOUNT}  - {{name: main, exchange: kraken}}\n",
        "accounts[1].name: the name 'main' is already used",
        line=5,
    ),
    Case(
        "dup-wallet-account-name",
        f"{TARGETS}{ACCOUNT}wallets:\n  - {{name: main, holdings: {{BTC: 1}}}}\n",
        "wallets[0].name",
        line=6,
    ),
    Case(
        "ruleset-dup-target",
        "rules: r.yaml\n",
        "r.yaml:7: regimes[0].targets.btc",
        files={"r.yaml": RULES.replace("{BTC: 0.5, CASH: 0.5}", "{BTC: 0.5, CASH: 0.5,\n btc: 0}")},
    ),
    Case(
        "ruleset-dup-rule",
        "rules: r.yaml\n",
        "r.yaml:3: rules.up: key 'up' is written twice",
        files={"r.yaml": RULES.replace("rules:\n", "rules:\n  up: {kind: dominance}\n")},
    ),
    # the rule-set path
    Case(
        "rules-dev-zero",
        f"{TARGETS}rules: /dev/zero\n",
        "rules: /dev/zero is not a regular",
        process=True,
    ),
    Case("rules-dir", f"{TARGETS}rules: /tmp\n", "rules: /tmp is a directory", line=2),
    Case("rules-dir-plan", f"{TARGETS}rules: /tmp\n", "is a directory", command="plan", line=2),
    Case("rules-missing", "rules: nowhere.yaml\n", "rules: rule-set file", line=1),
    Case(
        "rules-file-latin1",
        "rules: r.yaml\n",
        "r.yaml:1:",
        files={"r.yaml": "description: caf\xe9\n".encode("latin-1")},
    ),
    Case(
        "rules-file-bomb", "rules: r.yaml\n", "expands to more than", files={"r.yaml": alias_bomb()}
    ),
    Case("rules-file-empty", "rules: r.yaml\n", "r.yaml: the file is empty", files={"r.yaml": ""}),
    Case(
        "rules-file-deep",
        "rules: r.yaml\n",
        "nest",
        files={"r.yaml": "rules: " + "[" * 5000 + "]" * 5000 + "\n"},
    ),
    # secrets where they do not belong
    Case("apikey-in-file", f"{TARGETS}{ACCOUNT}    apiKey: abc123\n", "credential field"),
    Case(
        "secret-in-ccxt",
        f"{TARGETS}{ACCOUNT}    ccxt: {{options: {{secret: abc}}}}\n",
        "accounts[0].ccxt.options.secret (a credential field)",
    ),
    Case(
        "pasted-key-as-env",
        f"{TARGETS}{ACCOUNT}    api_key_env: {PASTED_KEY}\n",
        "looks like a key",
        absent=PASTED_KEY,
    ),
    Case(
        "pasted-hex-secret-as-env",
        f"{TARGETS}{ACCOUNT}    secret_env: {HEX_SECRET}\n",
        "looks like a key",
        absent="9f86d081884c7d659a2feaa0c55ad015",
    ),
    Case(
        "base64-secret-as-env",
        f"{TARGETS}{ACCOUNT}    secret_env: {BASE64_SECRET}\n",
        "NAME of an environment variable",
        absent="kQH5HW",
    ),
    Case(
        "slack-url",
        f"{TARGETS}delivery:\n  webhooks:\n    - url: https://hooks.slack.com/services/T0/B0/XYZ\n",
        "embeds a secret",
        absent="XYZ",
    ),
    Case(
        "slack-url-uppercase",
        f"{TARGETS}delivery:\n  webhooks:\n    - url: https://HOOKS.SLACK.COM/services/T0/B0/XYZ\n",
        "embeds a secret",
        absent="XYZ",
    ),
    Case(
        "discord-url-mixed-case",
        f"{TARGETS}delivery:\n  webhooks:\n    - url: https://Discord.com/api/webhooks/1/XYZ\n",
        "embeds a secret",
    ),
    Case(
        "telegram-url",
        f"{TARGETS}delivery:\n  webhooks:\n    - url: https://api.telegram.org/bot123:XYZ/send\n",
        "embeds a secret",
    ),
    Case(
        "url-userinfo",
        f"{TARGETS}delivery:\n  webhooks:\n    - url: https://me:hunter2@relay.local/hook\n",
        "user:password@",
        absent="hunter2",
    ),
    Case(
        "url-token-query",
        f"{TARGETS}delivery:\n  webhooks:\n    - url: https://relay.local/hook?Token=s3cr3t\n",
        "query carries a credential",
        absent="s3cr3t",
    ),
    Case(
        "url-api-key-query",
        f"{TARGETS}delivery:\n  webhooks:\n    - url: https://relay.local/hook?api-key=s3cr3t\n",
        "query carries a credential",
        absent="s3cr3t",
    ),
    Case(
        "email-password-pasted",
        f"{TARGETS}delivery:\n  email: {{host: smtp.local, sender: a@b.c, to: [a@b.c], "
        f"password_env: {PASTED_KEY}}}\n",
        "looks like a key",
        absent=PASTED_KEY,
    ),
    Case(
        "plain-url-is-fine",
        f"{TARGETS}delivery:\n  webhooks:\n    - url: http://127.0.0.1:8080/hook?channel=daily\n",
        "valid",
        code=0,
    ),
    Case(
        "long-env-name-is-fine",
        f"{TARGETS}accounts:\n  - name: main\n    exchange: binance\n"
        "    api_key_env: BINANCE_MAIN_ACCOUNT_READ_ONLY_API_KEY_2024\n",
        "BINANCE_MAIN_ACCOUNT_READ_ONLY_API_KEY_2024: MISSING",
    ),
    # schema mistakes
    Case("no-targets-no-rules", "base_currency: USD\n", "targets: required field is missing"),
    Case(
        "no-targets-no-rules-plan",
        "base_currency: USD\n",
        "portfolio.yaml: targets: required field is missing",
        command="plan",
    ),
    Case("unknown-field", f"{TARGETS}acounts: []\n", "acounts: unknown field", line=2),
    Case(
        "unknown-exchange",
        f"{TARGETS}accounts:\n  - {{name: a, exchange: binanse}}\n",
        "did you mean",
    ),
    Case("wallet-twice", f"{TARGETS}{ACCOUNT}    wallets: [spot, spot]\n", "lists a wallet twice"),
    Case("wallet-unknown", f"{TARGETS}{ACCOUNT}    wallets: [margin]\n", "wallets[0]"),
    Case("accounts-mapping", f"{TARGETS}accounts: {{main: binance}}\n", "accounts", line=2),
    Case(
        "holding-negative", f"{TARGETS}wallets:\n  - {{name: c, holdings: {{BTC: -1}}}}\n", ">= 0"
    ),
    Case("holdings-empty", f"{TARGETS}wallets:\n  - {{name: c, holdings: {{}}}}\n", "at least one"),
    Case("base-currency-number", f"{TARGETS}base_currency: 5\n", "base_currency", line=2),
    Case("complex-key", f"{TARGETS}? [a, b]\n: 1\n", "portfolio.yaml"),
    Case("fee-rate", f"{TARGETS}rebalance: {{fee_rate: 0.5}}\n", "rebalance.fee_rate", line=2),
    Case(
        "email-port",
        f"{TARGETS}delivery:\n  email: {{host: h, port: 70000, sender: a@b.c, to: [a@b.c]}}\n",
        "delivery.email.port",
    ),
    Case(
        "override-unknown-rule",
        "rules: {file: r.yaml, overrides: {nope: {level: 1}}}\n",
        "no rule named 'nope'",
        files={"r.yaml": RULES},
    ),
    Case(
        "rule-kind-unknown",
        "rules: r.yaml\n",
        "unknown rule kind",
        files={"r.yaml": RULES.replace("prior_high_break", "moon_phase")},
    ),
]


def _in_subprocess(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    result = subprocess.run(
        [sys.executable, "-m", "rotator", *args],
        capture_output=True,
        text=True,
        timeout=HANG_SECONDS,
        env={k: v for k, v in os.environ.items() if not k.startswith(CLEARED)} | env,
        cwd=cwd,
    )
    return result.returncode, result.stdout + result.stderr


CLEARED = ("ROTATOR_", "BINANCE_")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_broken_config(
    case: Case,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "portfolio.yaml"
    body = case.portfolio
    config.write_bytes(body if isinstance(body, bytes) else body.encode("utf-8"))
    for name, content in case.files.items():
        target = tmp_path / name
        target.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    env = {"ROTATOR_DATA_DIR": str(tmp_path / "data"), "ROTATOR_CACHE_DIR": str(tmp_path / "cache")}
    args = [case.command, "--config", str(config)]
    if case.command == "plan":
        args.append("--no-save")
    started = time.monotonic()
    if case.process:
        code, output = _in_subprocess(args, env, tmp_path)
    else:
        code, output = run_main(
            args, env=env, monkeypatch=monkeypatch, capfd=capfd, cwd=tmp_path, cleared=CLEARED
        )
    elapsed = time.monotonic() - started
    assert "Traceback" not in output, output
    assert code == case.code, output[-2000:]
    assert case.expect in output, output[-2000:]
    if case.code == 2:
        assert str(config) in output or any(n in output for n in case.files), output[-2000:]
    if case.line is not None:
        assert f"{config}:{case.line}" in output, output[-2000:]
    if case.absent is not None:
        assert case.absent not in output
    assert elapsed < HANG_SECONDS


# -- any bytes, any YAML: a settings error or a portfolio, nothing else ------------------------

YAML_SCALARS = st.one_of(
    st.sampled_from([".nan", ".inf", "-.inf", "~", "null", "yes", "0x1f", "1e400", "'NaN'", "*a"]),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
)
YAML_VALUES = st.recursive(
    YAML_SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
        st.dictionaries(
            st.sampled_from(["targets", "BTC", "btc", "rules", "accounts", "name", "apiKey"]),
            children,
            max_size=4,
        ).map(lambda d: "{" + ", ".join(f"{k}: {v}" for k, v in d.items()) + "}"),
        children.map(lambda v: f"&a {v}"),
    ),
    max_leaves=20,
)


def _load_or_config_error(path: Path) -> None:
    from rotator.config.portfolio import load_portfolio
    from rotator.errors import ConfigError

    try:
        load_portfolio(path)
    except ConfigError as exc:
        assert str(path) in str(exc)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=600))
def test_any_bytes_give_a_portfolio_or_a_config_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "portfolio.yaml"
    path.write_bytes(data)
    _load_or_config_error(path)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(top=st.dictionaries(st.sampled_from(["targets", "wallets", "rebalance", "x"]), YAML_VALUES))
def test_any_yaml_gives_a_portfolio_or_a_config_error(tmp_path: Path, top: dict[str, str]) -> None:
    path = tmp_path / "portfolio.yaml"
    path.write_text("".join(f"{k}: {v}\n" for k, v in top.items()), encoding="utf-8")
    _load_or_config_error(path)


def test_asset_codes_equal_in_capitals_never_merge_in_the_model() -> None:
    # Behind the YAML check (which names both lines), the models refuse the merge too.
    from pydantic import ValidationError

    from rotator.config.portfolio import Portfolio

    for data in (
        {"targets": {"ETH": 0.1, "eth": 0.1, "CASH": 0.8}},
        {"targets": {"BTC": 1}, "wallets": [{"name": "c", "holdings": {"BTC": 1, "btc": 2}}]},
        {
            "targets": {"BTC": 1},
            "wallets": [
                {
                    "name": "c",
                    "chain": "ethereum",
                    "addresses": ["0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045"],
                    "tokens": {"USDC": None, "usdc": None},
                }
            ],
        },
        {"targets": {"BTC": 1}, "oracles": {"assets": {"LDO": {}, "ldo": {}}}},
    ):
        with pytest.raises(ValidationError, match="listed twice"):
            Portfolio.model_validate(data)
