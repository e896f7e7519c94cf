"""The command's session opens only what a command uses: the demo's replay server included."""

from __future__ import annotations

import threading

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
        assert _threads() == before  # no server thread
        urls = [a.ccxt["urls"] for a in s.portfolio.accounts]
        assert len(_threads() - before) == 1  # now the server serves the demo exchanges
        assert all("127.0.0.1" in str(u) for u in urls)
        assert s.environ["ROTATOR_DEFILLAMA_API_URL"].startswith("http://127.0.0.1")
    assert _threads() == before  # stopped with the session
