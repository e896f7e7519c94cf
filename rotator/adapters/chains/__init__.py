"""Read-only chain adapter: self-custody wallets read from Bitcoin, EVM chains and Solana.

Modules: `read` (one wallet -> AccountSnapshot; every wallet concurrently), `rpc` (the async
rate-limited JSON / JSON-RPC client), `bitcoin`, `evm`, `solana` (one chain each), `keys`
(offline address and xpub checks, HD derivation; light enough for `rotator check`), `oracle`
(CoinGecko / DefiLlama prices for assets no exchange quotes). Nothing is imported here, so
`rotator check` can validate keys without loading the HTTP client.
"""
