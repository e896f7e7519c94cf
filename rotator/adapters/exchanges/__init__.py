"""Read-only exchange adapter: ccxt -> AccountSnapshot (holdings, markets, quotes).

Public interface:
    fetch_accounts(...)          read every account concurrently (sync; runs its own loop)
    fetch_accounts_async(...)    the same, awaitable
    open_readonly_exchange(...)  a guarded ccxt instance (e.g. for fetch_ohlcv)
    ReadOnlyExchange             the guard: only read calls pass
    AccountSettings              one account's frozen settings (credentials by variable NAME)

Importing ccxt loads every exchange class it ships (about half a second). The names that need
ccxt are therefore resolved on first use (PEP 562), so that a command reading no exchange
(`backtest`, `history`, `signals`) never imports it; `AccountSettings` is plain data.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from rotator.adapters.exchanges.settings import AccountSettings

if TYPE_CHECKING:
    from rotator.adapters.exchanges.fetch import fetch_accounts, fetch_accounts_async
    from rotator.adapters.exchanges.guard import ReadOnlyExchange, is_allowed
    from rotator.adapters.exchanges.session import (
        MissingCredentials,
        exchange_settings,
        open_readonly_exchange,
    )

# name -> the module of this package defining it, imported when the name is first asked for
_ON_FIRST_USE = {
    "fetch_accounts": "fetch",
    "fetch_accounts_async": "fetch",
    "ReadOnlyExchange": "guard",
    "is_allowed": "guard",
    "MissingCredentials": "session",
    "exchange_settings": "session",
    "open_readonly_exchange": "session",
}

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


def __getattr__(name: str) -> Any:
    module = _ON_FIRST_USE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # resolved once
    return value
