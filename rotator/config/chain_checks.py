"""Offline checks of a chain wallet's addresses and keys (checksums, network, script type).

Called by the `ChainWallet` validator, so a typo in an address or an xpub is a config error
(exit 2) naming the field, before anything is read from a chain.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rotator.config.chains import BITCOIN, EVM_CHAINS, EVM_TOKENS, SOLANA, SOLANA_TOKENS
from rotator.redaction import shorten

if TYPE_CHECKING:
    from rotator.config.chains import ChainWallet


def check_wallet(wallet: ChainWallet) -> None:
    """Raise ValueError naming the bad field when an address, key or token is invalid."""
    from rotator.config.keys import (
        KeyError_,
        check_bitcoin_address,
        check_evm_address,
        check_solana_address,
        parse_hd,
    )

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
