"""Opening a ccxt exchange for one account: settings, credentials, read-only guard, market cache.

Settings are layered: rotator's defaults (rate limiting on, with bursts within the exchange's
budget; a 10 s timeout; market loading that asks for spot markets only, see `lean_settings`)
under the account's `ccxt:` mapping from portfolio.yaml, which wins and is passed verbatim to
the ccxt constructor (urls, options, hostname, timeout, proxies...). Credentials
come only from the environment variables the account names and are registered with the
redaction module the moment they are read.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import ccxt
import ccxt.async_support as ccxt_async

from rotator.adapters.exchanges.guard import ReadOnlyExchange
from rotator.adapters.exchanges.settings import AccountSettings
from rotator.redaction import RedactingFilter, redact, register_secret

log = logging.getLogger(__name__)

# ccxt logs every request with its headers (API keys) at DEBUG. Hand ccxt a logger of ours
# whose filter redacts each record before any handler sees it.


CCXT_LOG = logging.getLogger("rotator.ccxt")
if not any(isinstance(f, RedactingFilter) for f in CCXT_LOG.filters):
    CCXT_LOG.addFilter(RedactingFilter())

DEFAULT_TIMEOUT_MS = 10_000
# Rate limiting stays on, with ccxt's rolling-window limiter instead of its default leaky
# bucket (which lets no two requests out together): within any BURST_WINDOW_MS, at most
# BURST_WINDOW_MS / rateLimit cost units go out (ccxt's per-request costs and rateLimit encode
# the exchange's published weight limits), so one account's wallets can be read at once and
# no minute ever carries more than the exchange's per-minute budget. Binance: 100 units (500
# of its 6,000 request weight a minute) in any 5 s; a warm plan uses about 50.
BURST_WINDOW_MS = 5_000
PRUNE_AFTER_SECONDS = 24 * 3600

# ccxt option flags that make `load_markets` ask for more than the spot market list (margin
# pairs, option chains, expired options, a server-time request, fee tables from all tickers).
# Each is switched off where the exchange defines it, at the top level of `options` or inside
# `options.fetchMarkets`; rotator needs markets, balances and tickers only.
EXTRA_REQUEST_FLAGS = frozenset(
    {
        "fetchMargins",
        "fetchCurrencies",
        "loadAllOptions",
        "loadExpiredOptions",
        "adjustForTimeDifference",
        "fetchTickersFees",
    }
)


class MissingCredentials(Exception):
    """A credential environment variable named in portfolio.yaml is not set."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(", ".join(names))
        self.names = names


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`override` merged into a copy of `base`, recursing into nested mappings."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def exchange_settings(account: AccountSettings) -> dict[str, Any]:
    """The ccxt constructor settings for `account`, without credentials."""
    base = {
        "enableRateLimit": True,
        "timeout": DEFAULT_TIMEOUT_MS,
        "rateLimiterAlgorithm": "rollingWindow",
        "rollingWindowSize": BURST_WINDOW_MS,
    }
    defaults = deep_merge(base, lean_settings(account.exchange))
    settings = deep_merge(defaults, account.ccxt)
    settings["enableRateLimit"] = settings.get("enableRateLimit", True)
    return settings


def lean_settings(exchange_id: str) -> dict[str, Any]:
    """ccxt settings that keep `exchange_id` to the requests a plan needs.

    Derived from what ccxt declares for the exchange, not per exchange by hand:
    - `has.fetchCurrencies` off: `load_markets` would otherwise first fetch the currency list
      (a signed request on Binance, OKX and Bybit). ccxt derives the currencies rotator uses
      (codes) from the markets instead.
    - `options.fetchMarkets` types narrowed to spot where the exchange lets us choose.
    - every flag of EXTRA_REQUEST_FLAGS that is on, at the top of `options` or inside
      `options.fetchMarkets`, turned off.
    """
    has, options = _described(exchange_id)
    lean: dict[str, Any] = {}
    if has.get("fetchCurrencies"):
        lean["has"] = {"fetchCurrencies": False}
    lean_options: dict[str, Any] = {
        key: False for key in EXTRA_REQUEST_FLAGS if options.get(key) is True
    }
    fetch_markets = options.get("fetchMarkets")
    if isinstance(fetch_markets, dict):
        narrowed: dict[str, Any] = {
            key: False for key in EXTRA_REQUEST_FLAGS if fetch_markets.get(key) is True
        }
        if "types" in fetch_markets:
            narrowed["types"] = ["spot"]
        if narrowed:
            lean_options["fetchMarkets"] = narrowed
    elif isinstance(fetch_markets, list):
        lean_options["fetchMarkets"] = ["spot"]
    if lean_options:
        lean["options"] = lean_options
    return lean


@cache
def _described(exchange_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(has, options) of an exchange as ccxt declares them."""
    # The sync class describes itself without an event loop; nothing is requested.
    described = getattr(ccxt, exchange_id)()
    return dict(described.has), copy.deepcopy(dict(described.options))


def read_credentials(account: AccountSettings, environ: Mapping[str, str]) -> dict[str, str]:
    """ccxt credential fields read from the environment; each value is registered for redaction.

    Raises:
        MissingCredentials: naming the variables that are configured but unset (never values).
    """
    found: dict[str, str] = {}
    missing: list[str] = []
    for name, env in account.credential_envs().items():
        value = environ.get(env)
        if value:
            register_secret(value)
            found[name] = value
        else:
            missing.append(env)
    if missing:
        raise MissingCredentials(missing)
    return found


async def open_readonly_exchange(
    account: AccountSettings, environ: Mapping[str, str], *, with_credentials: bool = True
) -> ReadOnlyExchange:
    """A guarded async ccxt instance for `account`; the caller must `await ex.close()`.

    Args:
        with_credentials: False for public data only (candles, tickers): no keys are read.

    Raises:
        MissingCredentials: when a configured credential variable is unset.
    """
    settings = exchange_settings(account)
    if with_credentials:
        settings.update(read_credentials(account, environ))
    settings["logger"] = CCXT_LOG
    if settings.pop("verbose", False):
        # ccxt's verbose mode print()s every request with its API-key headers to stdout,
        # past any log filter. Its DEBUG log carries the same, with secrets masked.
        log.warning(
            "account %s: ccxt `verbose` ignored (it prints API keys); "
            "DEBUG logging shows requests with secrets masked",
            account.name,
        )
    exchange = getattr(ccxt_async, account.exchange)(settings)
    return ReadOnlyExchange(exchange)


def credential_hint(account: AccountSettings) -> str:
    """'KRAKEN_API_KEY/KRAKEN_SECRET' (variable names only) for messages."""
    names = list(account.credential_envs().values())
    return "/".join(names) if names else "api_key_env/secret_env in portfolio.yaml"


# -- market cache --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MarketCache:
    """Markets and currencies of exchanges on disk, one JSON file per settings fingerprint."""

    folder: Path
    ttl: timedelta

    def path_for(self, account: AccountSettings) -> Path:
        """File for the account's exchange and endpoint settings (never credentials)."""
        settings = exchange_settings(account)
        keyed = {k: settings.get(k) for k in ("urls", "options", "hostname")}
        digest = hashlib.sha256(json.dumps(keyed, sort_keys=True, default=str).encode())
        return self.folder / f"markets-{account.exchange}-{digest.hexdigest()[:16]}.json"

    def load(self, account: AccountSettings, now: datetime) -> tuple[Any, Any] | None:
        """(markets, currencies) when a fresh entry exists, else None."""
        path = self.path_for(account)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            saved = datetime.fromisoformat(data["saved_at"])
            if not timedelta(0) <= now - saved <= self.ttl:
                return None
            return data["markets"], data.get("currencies")
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable market cache %s: %s", path, redact(str(exc)))
            return None

    def save(self, account: AccountSettings, now: datetime, markets: Any, currencies: Any) -> None:
        """Write atomically; a failure to write only costs a reload next time."""
        path = self.path_for(account)
        payload = {"saved_at": now.isoformat(), "markets": markets, "currencies": currencies}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".markets-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(payload, handle, default=str)
            os.replace(tmp, path)
        except (OSError, TypeError, ValueError) as exc:
            log.warning("could not write market cache %s: %s", path, redact(str(exc)))
        self._prune(keep=path, now=now)

    def _prune(self, keep: Path, now: datetime) -> None:
        """Delete entries unused for a day or more (e.g. from endpoints no longer configured,
        or the demo's local server, whose port changes every run), as of the run's `now`."""
        horizon = now.timestamp() - max(self.ttl.total_seconds(), PRUNE_AFTER_SECONDS)
        for old in self.folder.glob("markets-*.json"):
            try:
                if old != keep and old.stat().st_mtime < horizon:
                    old.unlink()
            except OSError:
                continue
