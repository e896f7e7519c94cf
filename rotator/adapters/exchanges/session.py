"""Opening a ccxt exchange for one account: settings, credentials, read-only guard, market cache.

Settings are layered: rotator's defaults (rate limiting on, a 10 s timeout, spot-only market
loading) under the account's `ccxt:` mapping from portfolio.yaml, which wins and is passed
verbatim to the ccxt constructor (urls, options, hostname, timeout, proxies...). Credentials
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
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import ccxt
import ccxt.async_support as ccxt_async

from rotator.adapters.exchanges.guard import ReadOnlyExchange
from rotator.redaction import RedactingFilter, redact, register_secret

log = logging.getLogger(__name__)

# ccxt logs every request with its headers (API keys) at DEBUG. Hand ccxt a logger of ours
# whose filter redacts each record before any handler sees it.


@dataclass(frozen=True, slots=True)
class AccountSettings:
    """One exchange account as the adapter needs it (built from portfolio.yaml's account).

    Attributes:
        exchange: ccxt exchange id.
        wallets: which wallets to read ("spot", "funding", "earn").
        ccxt: extra ccxt constructor settings (urls, timeout, options...).
        api_key_env, secret_env, password_env: NAMES of the variables holding the credentials.
    """

    name: str
    exchange: str
    wallets: tuple[str, ...] = ("spot",)
    ccxt: Mapping[str, Any] = field(default_factory=dict)
    api_key_env: str | None = None
    secret_env: str | None = None
    password_env: str | None = None

    def credential_envs(self) -> dict[str, str]:
        """ccxt credential field -> environment variable name, for the fields configured."""
        pairs = {
            "apiKey": self.api_key_env,
            "secret": self.secret_env,
            "password": self.password_env,
        }
        return {name: env for name, env in pairs.items() if env}


CCXT_LOG = logging.getLogger("rotator.ccxt")
if not any(isinstance(f, RedactingFilter) for f in CCXT_LOG.filters):
    CCXT_LOG.addFilter(RedactingFilter())

DEFAULT_TIMEOUT_MS = 10_000
PRUNE_AFTER_SECONDS = 24 * 3600

# Per-exchange settings beyond the generic ones. Binance: its currencies endpoint is a signed
# extra request (sapi capital/config/getall) whose data rotator does not use, and margin pairs
# are irrelevant to spot planning.
EXCHANGE_DEFAULTS: dict[str, dict[str, Any]] = {
    "binance": {"options": {"fetchMargins": False, "fetchCurrencies": False}},
}


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
    defaults: dict[str, Any] = {"enableRateLimit": True, "timeout": DEFAULT_TIMEOUT_MS}
    # Only spot markets are planned: load just those where the exchange lets us choose (saves
    # the futures/options market requests on binance, okx, bybit, gate...).
    fetch_markets = _default_options(account.exchange).get("fetchMarkets")
    if isinstance(fetch_markets, dict) and "types" in fetch_markets:
        defaults["options"] = {"fetchMarkets": {"types": ["spot"]}}
    elif isinstance(fetch_markets, list):
        defaults["options"] = {"fetchMarkets": ["spot"]}
    defaults = deep_merge(defaults, EXCHANGE_DEFAULTS.get(account.exchange, {}))
    settings = deep_merge(defaults, account.ccxt)
    settings["enableRateLimit"] = settings.get("enableRateLimit", True)
    return settings


@cache
def _default_options(exchange_id: str) -> dict[str, Any]:
    # The sync class describes itself without an event loop; nothing is requested.
    return dict(getattr(ccxt, exchange_id)().options)


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
        self._prune(keep=path)

    def _prune(self, keep: Path) -> None:
        """Delete entries unused for a day or more (e.g. from endpoints no longer configured,
        or the demo's local server, whose port changes every run)."""
        horizon = time.time() - max(self.ttl.total_seconds(), PRUNE_AFTER_SECONDS)
        for old in self.folder.glob("markets-*.json"):
            try:
                if old != keep and old.stat().st_mtime < horizon:
                    old.unlink()
            except OSError:
                continue
