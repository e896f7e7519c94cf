"""Helpers for the chain tests: a replay server on 127.0.0.1, wallet settings, a fixed clock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fake_clock import FakeClock

from rotator.adapters.chains.read import fetch_chain_wallets
from rotator.config.chains import ChainWallet
from rotator.core.clock import Clock
from rotator.core.models import AccountSnapshot
from rotator.demo.replay import ReplayServer
from rotator.pipeline.chains import wallet_settings

FIXTURES = Path(__file__).parent.parent / "fixtures" / "chains"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def result_of(name: str) -> Any:
    """The `result` of a recorded JSON-RPC answer."""
    return json.loads(fixture(name))["result"]


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as srv:
        yield srv


def read(
    server: ReplayServer, prefix: str, clock: Clock | None = None, **wallet: Any
) -> AccountSnapshot:
    """Read one chain wallet whose endpoint is `server` + `prefix`, on `clock` (default: a fake
    one at NOW whose waits are recorded, never slept)."""
    wallet.setdefault("name", "w")
    wallet.setdefault("requests_per_second", 1000)
    wallet.setdefault("retries", 0)
    config = ChainWallet(rpc_url=f"{server.url}{prefix}", **wallet)
    [snap] = fetch_chain_wallets(
        [wallet_settings(config, {})], clock or FakeClock(NOW, frozen=True).clock
    )
    return snap
