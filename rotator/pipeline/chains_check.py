"""`rotator check` lines for chain wallets and oracles: what was validated, which endpoints.

The command line prints them (it imports no adapter; the key checks live in the chain adapter).

Addresses were already validated offline when portfolio.yaml was loaded (checksums, network,
script type); this says what they are and where they would be read, without any network call.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from rotator.config.chains import BITCOIN, SOLANA
from rotator.config.portfolio import Portfolio
from rotator.pipeline.chains import oracle_settings, wallet_settings
from rotator.redaction import shorten


def chain_wallet_lines(
    portfolio: Portfolio, environ: Mapping[str, str]
) -> Iterator[tuple[str, str | None]]:
    """(line, missing env var name or None) for each chain wallet, then the oracles."""
    from rotator.config.keys import (
        check_bitcoin_address,
        check_evm_address,
        check_solana_address,
        parse_hd,
    )

    for wallet in portfolio.chain_wallets:
        yield f"  wallet {wallet.name} (chain {wallet.chain}, read on chain, never sold)", None
        for address in wallet.addresses:
            if wallet.chain == BITCOIN:
                kind = check_bitcoin_address(address)
            elif wallet.chain == SOLANA:
                check_solana_address(address)
                kind = "solana address"
            else:
                check_evm_address(address)
                kind = "EIP-55 address"
            yield f"    {shorten(address)}: valid {kind}", None
        if wallet.xpub:
            hd = parse_hd(wallet.xpub, wallet.script)
            first = hd.address(0, 0)
            yield (
                f"    xpub {shorten(wallet.xpub)}: valid, {hd.label}, gap limit "
                f"{wallet.gap_limit}; first receive address {shorten(first)}",
                None,
            )
        env = wallet.rpc_url_env
        unset = bool(env) and not environ.get(env or "")
        # An unset variable still lets the rest be described; the endpoint line says MISSING.
        settings = wallet_settings(wallet, {env: "unset"} if env and unset else environ)
        api = "" if settings.api == "jsonrpc" else f" ({settings.api})"
        if unset:
            yield f"    endpoint{api}: ${env} MISSING", env
        else:
            secret = " (set)" if env else ""
            yield f"    endpoint{api}: {settings.endpoint_label}{secret}", None
        if settings.tokens and wallet.chain != SOLANA:
            mc = f"Multicall3 {shorten(settings.multicall)}" if settings.multicall else "batch"
            symbols = ", ".join(s for s, _ in settings.tokens)
            yield f"    tokens: {symbols} (balances via {mc})", None
        if settings.chain_id is not None:
            yield f"    chain id: {settings.chain_id}", None
    if portfolio.chain_wallets and portfolio.oracles.enabled:
        oracles = oracle_settings(portfolio.oracles, environ)
        yield (
            f"  oracles (assets no exchange quotes): {oracles.coingecko_url}, fallback "
            f"{oracles.defillama_url}",
            None,
        )
        if portfolio.oracles.api_key_env and not oracles.api_key:
            yield f"    {portfolio.oracles.api_key_env}: MISSING", portfolio.oracles.api_key_env
