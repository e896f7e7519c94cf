"""Read-only chain adapter: self-custody wallets read from Bitcoin, EVM chains and Solana.

Modules: `read` (one wallet -> AccountSnapshot; every wallet concurrently), `rpc` (the async
rate-limited JSON / JSON-RPC client), `bitcoin`, `evm`, `solana` (one chain each), `settings`
(the frozen settings they take), `oracle` (CoinGecko / DefiLlama prices for assets no exchange
quotes). Offline address and xpub checks and HD derivation are rotator.config.keys (validated
when portfolio.yaml loads; an xpub's derivation arrives in `ChainWalletSettings.hd`). Nothing is
imported here.
"""
