"""On-chain wallets and price oracles in portfolio.yaml: models, shipped defaults, settings.

A `wallets[]` entry with `chain:` is a `ChainWallet` (an entry with `holdings:` stays a
declared `ManualWallet`). Validation here is offline and cheap (no network, no heavy library at
import): addresses and xpubs are checked with embit / eth-utils / solders, imported inside the
validators. rotator.pipeline.chains turns the models into the frozen settings the chain
adapters take (rotator.adapters.chains.settings), resolving endpoints (public defaults,
`rpc_url`, or a secret URL named by `rpc_url_env`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rotator.config.keys import (
    KeyError_,
    check_bitcoin_address,
    check_evm_address,
    check_solana_address,
    parse_hd,
)
from rotator.redaction import shorten

BITCOIN = "bitcoin"
SOLANA = "solana"


@dataclass(frozen=True, slots=True)
class EvmChain:
    """A shipped EVM chain: id, native asset, public endpoint, Multicall3 deployment."""

    chain_id: int
    native: str
    rpc_url: str
    multicall: str | None = "0xcA11bde05977b3631167028862bE2a173976CA11"


# Public endpoints without keys (they throttle: see `requests_per_second`).
EVM_CHAINS: Mapping[str, EvmChain] = {
    "ethereum": EvmChain(1, "ETH", "https://ethereum-rpc.publicnode.com"),
    "arbitrum": EvmChain(42161, "ETH", "https://arbitrum-one-rpc.publicnode.com"),
    "optimism": EvmChain(10, "ETH", "https://optimism-rpc.publicnode.com"),
    "base": EvmChain(8453, "ETH", "https://base-rpc.publicnode.com"),
    "polygon": EvmChain(137, "POL", "https://polygon-bor-rpc.publicnode.com"),
    "bsc": EvmChain(56, "BNB", "https://bsc-rpc.publicnode.com"),
    "avalanche": EvmChain(43114, "AVAX", "https://avalanche-c-chain-rpc.publicnode.com"),
}
# Native coin of EVM chains that may be read through a named chain's settings with `chain_id`
# (chainlist.org / each chain's docs). Another chain id needs `native:` in portfolio.yaml.
EVM_NATIVE_BY_CHAIN_ID: Mapping[int, str] = {
    **{chain.chain_id: chain.native for chain in EVM_CHAINS.values()},
    100: "XDAI",  # Gnosis
    250: "FTM",  # Fantom
    25: "CRO",  # Cronos
    42220: "CELO",  # Celo
    5000: "MNT",  # Mantle
    1284: "GLMR",  # Moonbeam
    59144: "ETH",  # Linea
    324: "ETH",  # zkSync Era
    534352: "ETH",  # Scroll
    81457: "ETH",  # Blast
}
DEFAULT_ENDPOINTS: Mapping[str, str] = {
    BITCOIN: "https://blockstream.info/api",  # Esplora REST
    SOLANA: "https://api.mainnet-beta.solana.com",
    **{name: chain.rpc_url for name, chain in EVM_CHAINS.items()},
}
CHAINS = tuple(DEFAULT_ENDPOINTS)
BLOCKCHAIN_INFO_URL = "https://blockchain.info"  # multiaddr: many addresses per request

# Common ERC-20 contracts per chain (symbol -> contract); `tokens:` may add or override.
EVM_TOKENS: Mapping[str, Mapping[str, str]] = {
    "ethereum": {
        "USDC": "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
        "USDT": "0xdAC17F958D2ee523a2206206994597C13D831ec7",
        "DAI": "0x6B175474E89094C44Da98b954EedeAC495271d0F",
        "WBTC": "0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599",
        "WETH": "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2",
        "LINK": "0x514910771AF9Ca656af840dff83E8264EcF986CA",
        "UNI": "0x1f9840a85d5aF5bf1D1762F925BDADdC4201F984",
        "AAVE": "0x7Fc66500c84A76Ad7e9c93437bFc5Ac33E2DDaE9",
        "LDO": "0x5A98FcBEA516Cf06857215779Fd812CA3beF1B32",
        "STETH": "0xae7ab96520DE3A18E5e111B5EaAb095312D7fE84",
        "WSTETH": "0x7f39C581F595B53c5cb19bD0b3f8dA6c935E2Ca0",
        "RETH": "0xae78736Cd615f374D3085123A210448E74Fc6393",
        "PYUSD": "0x6c3ea9036406852006290770BEdFcAbA0e23A0e8",
    },
    "arbitrum": {
        "USDC": "0xaf88d065e77c8cC2239327C5EDb3A432268e5831",
        "USDT": "0xFd086bC7CD5C481DCC9C85ebE478A1C0b69FCbb9",
        "ARB": "0x912CE59144191C1204E64559FE8253a0e49E6548",
        "WETH": "0x82aF49447D8a07e3bd95BD0d56f35241523fBab1",
    },
    "optimism": {
        "USDC": "0x0b2C639c533813f4Aa9D7837CAf62653d097Ff85",
        "OP": "0x4200000000000000000000000000000000000042",
    },
    "base": {"USDC": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"},
    "polygon": {
        "USDC": "0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359",
        "USDT": "0xc2132D05D31c914a87C6611C10748AEb04B58e8F",
    },
    "bsc": {
        "USDT": "0x55d398326f99059fF775485246999027B3197955",
        "USDC": "0x8AC76a51cc950d9822D68b83fE1Ad97B32Cd580d",
    },
    "avalanche": {},
}
# Common SPL mints (symbol -> mint); token accounts of other mints are reported, not counted.
SOLANA_TOKENS: Mapping[str, str] = {
    "USDC": "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
    "USDT": "Es9vMFrzaCERmJrfF4H2FYD4KCoNkY11McCe8BenwNYB",
    "JITOSOL": "J1toso1uCk3RLmjorhTtrVwY9HJ7X8V9yYac6Y7kGCPn",
    "MSOL": "mSoLzYCxHdYgdzU16g5QSh3i5K3z3KZK7ytfqcJm7So",
    "PYUSD": "2b1kV6DkPAnxd5ixfnxCpjxmKwqjjaYmCZfHsFu24GXo",
    "BONK": "DezXAZ8z7PnrnRJjz3wXBoRgixCa6xjnB7YaB1pPB263",
    "JUP": "JUPyiwrYJFskUPiHa7hkeR8VUtAeFoSYbKedZNsDvCN",
}
# Asset symbol -> CoinGecko coin id (DefiLlama takes the same id as "coingecko:<id>").
COIN_IDS: Mapping[str, str] = {
    "BTC": "bitcoin",
    "ETH": "ethereum",
    "SOL": "solana",
    "BNB": "binancecoin",
    "POL": "polygon-ecosystem-token",
    "AVAX": "avalanche-2",
    "USDT": "tether",
    "USDC": "usd-coin",
    "DAI": "dai",
    "PYUSD": "paypal-usd",
    "WBTC": "wrapped-bitcoin",
    "WETH": "weth",
    "LINK": "chainlink",
    "UNI": "uniswap",
    "AAVE": "aave",
    "LDO": "lido-dao",
    "ARB": "arbitrum",
    "OP": "optimism",
    "STETH": "staked-ether",
    "WSTETH": "wrapped-steth",
    "RETH": "rocket-pool-eth",
    "JITOSOL": "jito-staked-sol",
    "MSOL": "msol",
    "BONK": "bonk",
    "JUP": "jupiter-exchange-solana",
    "XDAI": "xdai",
    "FTM": "fantom",
    "CRO": "crypto-com-chain",
    "CELO": "celo",
    "MNT": "mantle",
    "GLMR": "moonbeam",
}
COINGECKO_URL = "https://api.coingecko.com/api/v3"
DEFILLAMA_URL = "https://coins.llama.fi"

# Query parameters and path parts that carry an RPC provider's key.
_KEYED_URL = re.compile(
    r"[?&](api[-_]?key|apikey|key|token|access[-_]?token|auth)=|"
    r"/v\d+/[0-9a-f]{24,}|/[0-9a-f]{32,}(/|$)|/[A-Za-z0-9_-]{32,}(/|$)|//[^/@]+@",
    re.IGNORECASE,
)


def url_embeds_key(url: str) -> bool:
    """Whether `url` looks like it carries an API key (query key, long token path, user:pass)."""
    return bool(_KEYED_URL.search(url))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _env_name(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        raise ValueError(
            "must be the NAME of an environment variable (letters, digits, _), not the URL"
        )
    return value


def _quoted(value: Any) -> None:
    """YAML reads an unquoted 0x... as a number: ask for quotes rather than guess digits."""
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(
            "an 0x address must be quoted in YAML ('0x...'): unquoted, YAML reads it as a number"
        )


class ChainWallet(_Strict):
    """A self-custody wallet read from its chain: counted, never sold.

    bitcoin: `addresses:` and/or `xpub:` (xpub/ypub/zpub or an output descriptor);
    EVM chains: `addresses:` with native balance plus `tokens:`; solana: `addresses:` with SOL
    plus every SPL token account (both token programs) of a known mint.
    """

    name: str = Field(min_length=1)
    chain: str
    addresses: tuple[str, ...] = ()
    xpub: str | None = None
    script: Literal["p2pkh", "p2sh-p2wpkh", "p2wpkh", "p2tr"] | None = None
    api: Literal["esplora", "blockchain_info"] = "esplora"
    gap_limit: int = Field(20, ge=1, le=1000)
    change: bool = True
    tokens: dict[str, str | None] = Field(default_factory=dict)
    rpc_url: str | None = None
    rpc_url_env: str | None = None
    chain_id: int | None = Field(None, gt=0)
    native: str | None = Field(None, pattern=r"^[A-Za-z0-9]{1,15}$")
    multicall: str | bool | None = None
    requests_per_second: float = Field(5.0, gt=0, le=1000)
    timeout_seconds: float = Field(15.0, gt=0, le=300)
    retries: int = Field(2, ge=0, le=10)
    deadline_seconds: float = Field(120.0, gt=0, le=3600)
    max_addresses: int = Field(1000, ge=1, le=100_000)
    note: str | None = None

    @field_validator("chain")
    @classmethod
    def _known_chain(cls, value: str) -> str:
        value = value.lower()
        if value not in CHAINS:
            raise ValueError(f"must be one of {', '.join(CHAINS)}, got {value!r}")
        return value

    @field_validator("rpc_url_env")
    @classmethod
    def _env(cls, value: str | None) -> str | None:
        return _env_name(value)

    @field_validator("rpc_url")
    @classmethod
    def _no_key(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"https?://", value):
            raise ValueError("must be an http(s) URL")
        if url_embeds_key(value):
            raise ValueError(
                "this URL embeds an API key: put the URL in an environment variable and name "
                "that variable with rpc_url_env"
            )
        return value

    @field_validator("tokens", mode="before")
    @classmethod
    def _token_list(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):  # [USDC, {MINE: '0x..'}] -> {USDC: None, MINE: ..}
            pairs: list[tuple[Any, Any]] = []
            for item in value:
                if isinstance(item, dict):
                    pairs += item.items()
                else:
                    pairs.append((item, None))
        elif isinstance(value, dict):
            pairs = list(value.items())
        else:
            return value
        seen: set[str] = set()
        for symbol, contract in pairs:
            _quoted(contract)
            if isinstance(symbol, str):
                if symbol.upper() in seen:
                    raise ValueError(
                        f"{symbol}: the token {symbol.upper()} is listed twice (asset codes are "
                        "compared in capitals); list each token once"
                    )
                seen.add(symbol.upper())
        return dict(pairs)

    @field_validator("addresses", mode="before")
    @classmethod
    def _addresses_quoted(cls, value: Any) -> Any:
        for item in value if isinstance(value, list | tuple) else ():
            _quoted(item)
        return value

    @model_validator(mode="after")
    def _by_chain(self) -> ChainWallet:
        _check_wallet(self)
        evm = EVM_CHAINS.get(self.chain)
        if self.native is not None and evm is None:
            raise ValueError("native: is for EVM chains (bitcoin is BTC, solana SOL)")
        if (
            evm is not None
            and self.chain_id not in (None, evm.chain_id)
            and self.native is None
            and self.chain_id not in EVM_NATIVE_BY_CHAIN_ID
        ):
            raise ValueError(
                f"chain_id {self.chain_id} is not {self.chain} ({evm.chain_id}) nor a chain "
                f"rotator knows the native coin of: set native: (its symbol, e.g. XDAI), so it "
                f"is not counted as {evm.native}"
            )
        if self.max_addresses < self.gap_limit:
            raise ValueError(
                f"max_addresses ({self.max_addresses}) must be at least gap_limit "
                f"({self.gap_limit}): the scan reads gap_limit addresses at a time"
            )
        return self


def _check_wallet(wallet: ChainWallet) -> None:
    """Raise ValueError naming the bad field when an address, key or token is invalid.

    Offline checks (checksums, network, script type), so a typo in an address or an xpub is a
    config error (exit 2) naming the field, before anything is read from a chain.
    """
    if not wallet.addresses and not wallet.xpub:
        raise ValueError("give `addresses:` (or, for bitcoin, `xpub:`)")
    if wallet.chain != BITCOIN and (wallet.xpub or wallet.script):
        raise ValueError(f"xpub/script are for bitcoin wallets, not {wallet.chain}")
    if wallet.chain != BITCOIN and wallet.api != "esplora":
        raise ValueError("api is for bitcoin wallets (esplora or blockchain_info)")
    if wallet.chain == BITCOIN and wallet.tokens:
        raise ValueError("bitcoin wallets have no tokens")
    if wallet.multicall is not None and wallet.chain not in EVM_CHAINS:
        raise ValueError("multicall is for EVM chains")
    check = {BITCOIN: check_bitcoin_address, SOLANA: check_solana_address}.get(
        wallet.chain, check_evm_address
    )
    for index, address in enumerate(wallet.addresses):
        try:
            check(address)
        except KeyError_ as exc:
            raise ValueError(f"addresses[{index}] {shorten(address)} {exc}") from None
    if wallet.xpub:
        try:
            parse_hd(wallet.xpub, wallet.script)
        except KeyError_ as exc:
            raise ValueError(f"xpub {shorten(wallet.xpub)} {exc}") from None
    shipped = SOLANA_TOKENS if wallet.chain == SOLANA else EVM_TOKENS.get(wallet.chain, {})
    for symbol, contract in wallet.tokens.items():
        if contract is None and symbol.upper() not in shipped:
            known = ", ".join(sorted(shipped)) or "none"
            raise ValueError(
                f"tokens.{symbol}: no shipped contract on {wallet.chain} (known: {known}); "
                f"give it as `{symbol}: <contract address>`"
            )
        if contract is not None:
            try:
                (check_solana_address if wallet.chain == SOLANA else check_evm_address)(contract)
            except KeyError_ as exc:
                raise ValueError(f"tokens.{symbol} {exc}") from None
    if isinstance(wallet.multicall, str):
        try:
            check_evm_address(wallet.multicall)
        except KeyError_ as exc:
            raise ValueError(f"multicall {exc}") from None


class OracleAsset(_Strict):
    """`oracles.assets.<SYMBOL>`: which oracle id values an asset, or its underlying and ratio.

    `ratio:` is a number (declared, e.g. 1 for a rebasing stETH) or `oracle` (the oracle's
    price of the asset divided by its price of the underlying, read together).
    """

    coingecko: str | None = None
    defillama: str | None = None
    underlying: str | None = None
    ratio: Decimal | Literal["oracle"] | None = None

    @model_validator(mode="after")
    def _ratio_needs_underlying(self) -> OracleAsset:
        if (self.underlying is None) != (self.ratio is None):
            raise ValueError("underlying and ratio go together (ratio: a number or `oracle`)")
        if isinstance(self.ratio, Decimal) and self.ratio <= 0:
            raise ValueError(f"ratio must be > 0, got {self.ratio}")
        return self


class OraclesConfig(_Strict):
    """`oracles:`: price oracles for assets no configured exchange quotes (valuation only)."""

    enabled: bool = True
    coingecko_url: str = COINGECKO_URL
    defillama_url: str = DEFILLAMA_URL
    api_key_env: str | None = None  # CoinGecko demo/pro key, sent as a header
    assets: dict[str, OracleAsset] = Field(default_factory=dict)
    timeout_seconds: float = Field(15.0, gt=0, le=300)

    _env = field_validator("api_key_env")(lambda v: _env_name(v))

    @field_validator("assets")
    @classmethod
    def _upper(cls, value: dict[str, OracleAsset]) -> dict[str, OracleAsset]:
        out: dict[str, OracleAsset] = {}
        for asset, oracle in value.items():
            if asset.upper() in out:
                raise ValueError(f"{asset}: the asset {asset.upper()} is listed twice")
            out[asset.upper()] = oracle
        return out


def native_asset(wallet: ChainWallet) -> str:
    """The wallet's native coin: BTC, SOL, or the EVM chain's (by `native:`, else chain id)."""
    fixed = {BITCOIN: "BTC", SOLANA: "SOL"}.get(wallet.chain)
    if fixed is not None:
        return fixed
    if wallet.native:
        return wallet.native.upper()
    evm = EVM_CHAINS[wallet.chain]
    return EVM_NATIVE_BY_CHAIN_ID.get(wallet.chain_id or evm.chain_id, evm.native)


def wallet_assets(wallet: ChainWallet) -> frozenset[str]:
    """Assets the wallet may hold (native + tokens), so exchanges are asked to quote them."""
    native = native_asset(wallet)
    tokens = {t.upper() for t in wallet.tokens}
    if wallet.chain == SOLANA:
        tokens |= set(SOLANA_TOKENS)
    return frozenset({native, *tokens})
