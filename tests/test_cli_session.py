"""The command's session opens only what a command uses: the demo's replay server included."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from urllib.parse import urlsplit

from rotator.cli.backtest_sweep import config_env_names
from rotator.cli.session import open_session


def _threads() -> set[int]:
    return {t.ident for t in threading.enumerate() if t.ident is not None}


def test_demo_session_starts_its_replay_server_only_when_the_portfolio_is_read():
    before = _threads()
    with open_session(demo=True) as s:
        # What `backtest --demo` uses: the rule set, the demo policy and the database.
        s.ruleset(None)
        assert s.policy().min_order_value > 0
        s.engine()
        names = config_env_names(s.declared())  # what a backtest's sweep keeps out of files
        assert _threads() == before  # no server thread
        urls = [a.ccxt["urls"] for a in s.portfolio.accounts]
        assert len(_threads() - before) == 1  # now the server serves the demo exchanges
        assert all("127.0.0.1" in str(u) for u in urls)
        assert s.environ["ROTATOR_DEFILLAMA_API_URL"].startswith("http://127.0.0.1")
        # The declared portfolio names the same variables as the one pointed at the server.
        assert names == config_env_names(s.portfolio)
        assert {"BINANCE_API_KEY", "KRAKEN_SECRET"} <= set(names)
    assert _threads() == before  # stopped with the session


def test_the_demo_server_starts_for_the_sources_without_pointing_the_accounts():
    """`signals --demo` reads the screen's sources (environ, settings), not the accounts."""
    before = _threads()
    with open_session(demo=True) as s:
        assert s.environ["ROTATOR_DEFILLAMA_API_URL"].startswith("http://127.0.0.1")
        assert len(_threads() - before) == 1
        assert "portfolio" not in s._opened
        # Asked for later, the accounts are pointed at the same server.
        server = urlsplit(s.environ["ROTATOR_DEFILLAMA_API_URL"]).netloc
        assert all(f"http://{server}/" in str(a.ccxt["urls"]) for a in s.portfolio.accounts)
        assert len(_threads() - before) == 1


# Run in a fresh interpreter: which heavy packages a command imported.
PROBE = """
import json, sys
from rotator.cli.app import main
from rotator.cli.session import open_session

sys.argv = ["rotator", "backtest", "--demo", "--from", "2021-01-01", "--to", "2021-02-01",
            "--format", "json"]
try:
    main()
except SystemExit as exc:
    assert not exc.code, exc.code
after = {"backtest": "ccxt" in sys.modules}
with open_session(demo=True) as s:
    s.environ, s.settings  # what `signals --demo` reads: the sources, served
    s.policy()
after["sources"] = "ccxt" in sys.modules
from rotator.adapters.exchanges import AccountSettings
AccountSettings(name="a", exchange="binance")
after["settings"] = "ccxt" in sys.modules
from rotator.adapters.exchanges import fetch_accounts
after["fetch"] = "ccxt" in sys.modules
print("PROBE=" + json.dumps(after))
"""


def test_commands_that_read_no_exchange_never_import_ccxt(tmp_path):
    """Importing ccxt loads every exchange it ships (about 0.5 s): a backtest, the demo's
    sources and the adapter's settings go without it; the adapter's reading functions load it."""
    env = {**os.environ, "ROTATOR_DATA_DIR": str(tmp_path)}
    env.pop("ROTATOR_DB_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    [line] = [x for x in done.stdout.splitlines() if x.startswith("PROBE=")]
    assert json.loads(line.removeprefix("PROBE=")) == {
        "backtest": False,
        "sources": False,
        "settings": False,
        "fetch": True,
    }
