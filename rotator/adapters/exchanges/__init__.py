"""Read-only exchange adapter: ccxt -> AccountSnapshot (holdings, markets, quotes).

Public interface:
    fetch_accounts(...)          read every account concurrently (sync; runs its own loop)
    fetch_accounts_async(...)    the same, awaitable
    open_readonly_exchange(...)  a guarded ccxt instance (e.g. for fetch_ohlcv)
    ReadOnlyExchange             the guard: only read calls pass
    AccountSettings              one account's frozen settings (credentials by variable NAME)
"""

from rotator.adapters.exchanges.fetch import fetch_accounts, fetch_accounts_async
from rotator.adapters.exchanges.guard import ReadOnlyExchange, is_allowed
from rotator.adapters.exchanges.session import (
    AccountSettings,
    MissingCredentials,
    exchange_settings,
    open_readonly_exchange,
)

__all__ = [
    "AccountSettings",
    "MissingCredentials",
    "ReadOnlyExchange",
    "exchange_settings",
    "fetch_accounts",
    "fetch_accounts_async",
    "is_allowed",
    "open_readonly_exchange",
]
