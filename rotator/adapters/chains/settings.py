"""Frozen settings the chain adapters take (built by rotator.pipeline.chains from portfolio.yaml).

The adapters never see the configuration models nor the environment: an endpoint given by
environment variable name arrives here already resolved, with a label that hides it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

BITCOIN = "bitcoin"
SOLANA = "solana"


class HdAddresses(Protocol):
    """An xpub's address derivation (rotator.config.keys.HdWallet, built with embit when the
    file was validated): the chains it has and the mainnet addresses on them."""

    @property
    def branches(self) -> int: ...

    def addresses(self, branch: int, start: int, count: int) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class ChainWalletSettings:
    """One chain wallet as the adapters take it: endpoint resolved, tokens resolved."""

    name: str
    chain: str
    api: str  # bitcoin: esplora / blockchain_info; "jsonrpc" for EVM and Solana
    endpoint: str
    endpoint_label: str  # shown in messages: the URL, or "$VAR" when it is a secret
    addresses: tuple[str, ...]
    xpub: str | None
    script: str | None
    gap_limit: int
    change: bool
    tokens: tuple[tuple[str, str], ...]  # (symbol, contract or mint)
    native: str
    chain_id: int | None
    multicall: str | None
    requests_per_second: float
    timeout_seconds: float
    retries: int
    hd: HdAddresses | None = None  # the xpub's derivation (bitcoin wallets with `xpub:`)
    max_addresses: int = 1000  # xpub scan: at most this many addresses per chain
    deadline_seconds: float = 120.0  # the whole wallet's read, retries included


@dataclass(frozen=True, slots=True)
class OracleSettings:
    """Price-oracle settings: endpoints, key (value, from the environment) and id map."""

    coingecko_url: str
    defillama_url: str
    api_key: str | None
    ids: Mapping[str, str]  # asset -> coingecko id
    defillama_ids: Mapping[str, str]  # asset -> DefiLlama coin key
    underlying: Mapping[str, tuple[str, Decimal | None]]  # asset -> (underlying, ratio|None)
    timeout_seconds: float
