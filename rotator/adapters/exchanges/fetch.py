"""Fetch every exchange account concurrently: markets, wallets, then the tickers that matter.

Two phases so prices can cross accounts: (1) per account, concurrently: markets (from the disk
cache when fresh) and the balances of each configured wallet; (2) the asset universe is the
wanted assets plus everything held anywhere, and each account fetches tickers for only its
active spot markets whose base and quote are both in that universe (never the all-symbols
ticker endpoint, which Binance rate-limits hard).

A failure of one account never raises: it becomes an ERROR `Problem` on that account's
snapshot, with a message saying what failed where, passed through `redact`.
"""

from __future__ import annotations

import asyncio
import binascii
import logging
import re
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

import ccxt.async_support as ccxt_async

from rotator.adapters.exchanges.guard import ReadOnlyExchange
from rotator.adapters.exchanges.normalize import (
    ShapeError,
    is_spot,
    market_info,
    merge_holdings,
    quote_of,
)
from rotator.adapters.exchanges.session import (
    DEFAULT_TIMEOUT_MS,
    AccountSettings,
    MarketCache,
    MissingCredentials,
    credential_hint,
    exchange_settings,
    open_readonly_exchange,
)
from rotator.adapters.exchanges.transport import (
    EmptyAnswer,
    NotJson,
    RedirectRefused,
    ResponseTooLarge,
    http_headers_of,
    http_status_of,
)
from rotator.adapters.exchanges.wallets import (
    EARN_IN_SPOT_BALANCE,
    read_wallet,
    split_binance_ld,
    split_kraken_suffixes,
    supports,
)
from rotator.adapters.retry_after import retry_after_seconds
from rotator.core.clock import Clock
from rotator.core.models import AccountSnapshot, Holding, Quote, WalletKind
from rotator.errors import Problem, ReadOnlyViolation, Severity
from rotator.redaction import redact

log = logging.getLogger(__name__)

TICKER_CHUNK = 100  # symbols per fetch_tickers request, to keep URLs short
MAX_RETRY_AFTER = 30.0  # seconds; an exchange asking for a longer wait fails the call at once
NOT_JSON_MESSAGE = "the exchange sent a response that is not JSON"
RUN_DEADLINE_SECONDS = 300.0  # all exchange reads of one run, retries included


class Failure(Enum):
    """What went wrong with one call, decided by HTTP status first, then by ccxt's class."""

    AUTH = "authentication"
    BANNED = "IP ban"
    RATE_LIMITED = "rate limit"
    TIMEOUT = "timeout"
    UNAVAILABLE = "exchange not available"
    NETWORK = "network error"
    NOT_JSON = "not JSON"
    SIGNING = "signing"
    BAD_RESPONSE = "unreadable response"
    OTHER = "error"


RETRIED = frozenset({Failure.RATE_LIMITED, Failure.TIMEOUT, Failure.UNAVAILABLE, Failure.NETWORK})


def classify(exc: BaseException) -> Failure:
    """The failure an exception stands for.

    The HTTP status decides first: each exchange maps statuses to its own ccxt classes (OKX
    turns 429 into ExchangeNotAvailable; a 429 or 5xx body with an exchange error code
    becomes a plain ExchangeError), and in ccxt 4.5 RateLimitExceeded is no DDoSProtection.
    Without a telling status, the exchange's own error code as ccxt maps it decides.
    """
    status = http_status_of(exc)
    if status in (401, 403):
        return Failure.AUTH
    if status == 418:  # Binance's IP ban: more requests only lengthen it
        return Failure.BANNED
    if status == 429:
        return Failure.RATE_LIMITED
    if isinstance(exc, ccxt_async.AuthenticationError):
        return Failure.AUTH
    if isinstance(exc, ccxt_async.RateLimitExceeded | ccxt_async.DDoSProtection):
        return Failure.RATE_LIMITED
    if isinstance(exc, ccxt_async.RequestTimeout):
        return Failure.TIMEOUT
    if (status is not None and status >= 500) or isinstance(exc, ccxt_async.ExchangeNotAvailable):
        return Failure.UNAVAILABLE
    if isinstance(exc, ccxt_async.NetworkError):
        return Failure.NETWORK
    if isinstance(exc, NotJson):
        return Failure.NOT_JSON
    if isinstance(exc, binascii.Error):
        return Failure.SIGNING
    if isinstance(exc, ccxt_async.BadResponse | ValueError | TypeError | KeyError | AttributeError):
        return Failure.BAD_RESPONSE
    return Failure.OTHER


class FetchFailed(Exception):
    """A call failed for good; the message is ready for the user (already redacted)."""


@dataclass(frozen=True, slots=True)
class _Settings:
    environ: Mapping[str, str]
    clock: Clock
    cache: MarketCache | None
    retries: int
    backoff: float

    def now(self) -> datetime:
        return self.clock.now()


@dataclass
class _AccountFetch:
    """State of one account across both phases."""

    account: AccountSettings
    settings: _Settings
    exchange: ReadOnlyExchange | None = None
    holdings: list[Holding] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    markets_ok: bool = False
    fetched_at: datetime | None = None
    market_symbols: tuple[str, ...] = ()  # markets reported: those needed by the universe

    @property
    def subject(self) -> str:
        return f"account {self.account.name}"

    @property
    def ex(self) -> ReadOnlyExchange:
        """The exchange phase 1 opened; only read after it was (markets_ok, or inside it)."""
        if self.exchange is None:
            raise RuntimeError(f"{self.subject}: exchange read before it was opened")
        return self.exchange

    def problem(self, severity: Severity, message: str) -> None:
        self.problems.append(Problem(severity, self.subject, redact(message)))

    # -- one ccxt call with bounded retries and translated errors -----------------------
    async def call(self, what: str, method: Callable[..., Any], *args: Any) -> Any:
        """Await `method(*args)`, retrying transient failures; raise FetchFailed."""
        attempt = 0
        while True:
            try:
                result = await method(*args)
            except ReadOnlyViolation:
                raise
            except Exception as exc:
                failure = classify(exc)
                wait = retry_after_seconds(
                    http_headers_of(exc), self.settings.clock.now().timestamp()
                )
                if (
                    failure not in RETRIED
                    or attempt >= self.settings.retries
                    or (wait is not None and wait > MAX_RETRY_AFTER)
                ):
                    raise FetchFailed(self.describe(what, exc, attempt, wait)) from None
                delay = max(self.settings.backoff * (2**attempt), wait or 0.0)
                log.info("%s: %s failed (%s), retry in %.2f s", self.subject, what,
                         failure.value, delay)  # fmt: skip
                logging.getLogger("rotator.wait").info(
                    "%s: %s failed (%s); retrying in %.0f s", self.subject, what,
                    failure.value, delay,
                )  # fmt: skip
                await self.settings.clock.asleep(delay)
                attempt += 1
                continue
            if _unreadable(result):
                # ccxt hands back the raw text when a body is not JSON, and parses it into an
                # empty balance: an account that looks empty must not pass for a real one.
                raise FetchFailed(f"{what} failed: {NOT_JSON_MESSAGE}")
            return result

    def describe(
        self, what: str, exc: BaseException, retries: int, wait: float | None = None
    ) -> str:
        """A message saying what failed where and what to do, without secrets."""
        detail = redact(" ".join(str(exc).split()))[:300]
        tried = f"({retries} {'retry' if retries == 1 else 'retries'})"
        status = http_status_of(exc)
        failure = classify(exc)
        if failure is Failure.AUTH:
            return (
                f"{what}: authentication failed: check {credential_hint(self.account)} "
                f"(a valid read-only API key with permission to read balances, and the "
                f"exchange's IP allow-list): {detail}"
            )
        if failure is Failure.BANNED:
            return f"{what}: this IP is temporarily banned by the exchange (HTTP 418)"
        if failure is Failure.RATE_LIMITED:
            source = f"HTTP {status}" if status not in (None, 200) else "exchange error code"
            asks = f"; it asks to wait {wait:g} s" if wait is not None and wait > 0 else ""
            return f"{what} rate-limited by the exchange ({source}) {tried}{asks}; try again later"
        if failure is Failure.TIMEOUT:
            timeout = exchange_settings(self.account).get("timeout", DEFAULT_TIMEOUT_MS)
            return f"{what} timed out after {float(timeout) / 1000:g} s {tried}"
        if failure is Failure.UNAVAILABLE:
            code = f" (HTTP {status})" if status else ""
            return f"{what} failed: exchange not available{code} {tried}: {detail}"
        if failure is Failure.NETWORK:
            return f"{what} failed: network error {tried}: {detail}"
        if isinstance(exc, EmptyAnswer):
            return f"{what} failed: {detail} (not counted as an empty account)"
        if isinstance(exc, RedirectRefused | ResponseTooLarge):
            return f"{what} failed: {detail}"
        if failure is Failure.NOT_JSON:
            return f"{what} failed: {NOT_JSON_MESSAGE}"
        if failure is Failure.SIGNING:  # e.g. Kraken's secret is base64-decoded to sign
            return (
                f"{what}: the credentials cannot be used to sign requests: check "
                f"{credential_hint(self.account)} (copy them exactly as the exchange issued them)"
            )
        if failure is Failure.BAD_RESPONSE:
            if re.search(r"(?i)'[-+]?(?:nan|inf(?:inity)?)'", detail):
                return (
                    f"{what} failed: the exchange sent NaN or Infinity where a number belongs "
                    "(a price, amount or time): its data cannot be used; try again later"
                )
            return f"{what} failed: the exchange sent a response ccxt could not read: {detail}"
        return f"{what} failed: {type(exc).__name__}: {detail}"

    # -- phase 1: markets and wallets ---------------------------------------------------
    async def read_account(self) -> None:
        try:
            self.exchange = await open_readonly_exchange(self.account, self.settings.environ)
        except MissingCredentials as exc:
            names = ", ".join(exc.names)
            self.problem(
                Severity.ERROR,
                f"credentials missing: environment variable {names} is not set "
                f"(portfolio.yaml names it for this account)",
            )
            return
        except Exception as exc:  # bad ccxt: settings in portfolio.yaml
            self.problem(Severity.ERROR, f"cannot set up ccxt {self.account.exchange}: {exc}")
            return
        try:
            await self._load_markets()
        except FetchFailed as exc:
            self.problem(Severity.ERROR, str(exc))
            return
        self.markets_ok = True
        await self._read_wallets()
        self.fetched_at = self.settings.now()

    async def _load_markets(self) -> None:
        ex = self.ex
        cache, now = self.settings.cache, self.settings.now()
        cached = cache.load(self.account, now) if cache else None
        if cached is not None:
            try:
                ex.set_markets(*cached)
                return
            except Exception as exc:  # an entry from another ccxt version, say: reload
                log.warning("%s: ignoring cached markets: %s", self.subject, redact(str(exc)))
        markets = await self.call("load_markets", ex.load_markets, True)
        if not markets:
            raise FetchFailed("load_markets failed: the exchange listed no markets")
        if cache is not None:
            cache.save(self.account, now, ex.markets, ex.currencies)

    async def _read_wallets(self) -> None:
        ex = self.ex
        wallets = [WalletKind(w) for w in self.account.wallets]
        exchange_id = self.account.exchange
        if exchange_id in EARN_IN_SPOT_BALANCE and WalletKind.SPOT in wallets:
            # The spot read already returns the earn balances: reading them again would
            # count them twice.
            wallets = [w for w in wallets if w is not WalletKind.EARN]
        readable = []
        for wallet in wallets:
            if not supports(self.account.exchange, wallet):
                self.problem(
                    Severity.WARNING,
                    f"the {wallet} wallet cannot be read on {self.account.exchange} through "
                    f"ccxt; its holdings are not included (remove it from `wallets:` or "
                    f"declare them as a manual wallet)",
                )
                continue
            readable.append(wallet)
        # The wallets are read at once; the exchange's rate limiter (ccxt's) still paces them.
        results = await asyncio.gather(*(self._read_one_wallet(w) for w in readable))
        found = [h for held in results for h in held]
        if exchange_id.startswith("binance"):
            found = split_binance_ld(found, ex.markets or {}, WalletKind.EARN in wallets)
        if exchange_id in EARN_IN_SPOT_BALANCE:
            found = split_kraken_suffixes(found)
        self.holdings = list(merge_holdings(found))

    async def _read_one_wallet(self, wallet: WalletKind) -> list[Holding]:
        try:
            return await read_wallet(
                self.account.name, self.account.exchange, wallet, self.call, self.ex
            )
        except FetchFailed as exc:
            self.problem(Severity.ERROR, str(exc))
            return []
        except ShapeError as exc:  # ccxt handed back a structure not shaped as documented
            self.problem(Severity.ERROR, f"the {wallet} balance cannot be read: {exc}")
            return []

    # -- phase 2: tickers ---------------------------------------------------------------
    def needed_symbols(self, universe: set[str]) -> list[str]:
        markets = (self.ex.markets or {}) if self.markets_ok else {}
        return sorted(
            m["symbol"]
            for m in markets.values()
            if is_spot(m)
            and m.get("active") is not False
            and m.get("base") in universe
            and m.get("quote") in universe
        )

    async def read_quotes(self, universe: set[str]) -> None:
        symbols = self.needed_symbols(universe)
        if not symbols:
            return
        ex = self.ex
        if ex.has.get("fetchTickers"):
            for start in range(0, len(symbols), TICKER_CHUNK):
                chunk = symbols[start : start + TICKER_CHUNK]
                try:
                    tickers = await self.call("fetch_tickers", ex.fetch_tickers, chunk)
                except FetchFailed as exc:
                    self.problem(Severity.ERROR, str(exc))
                    continue
                received = self.settings.now()
                if not isinstance(tickers, dict):
                    self.problem(Severity.ERROR, "fetch_tickers: the answer is not a ticker map")
                    continue
                try:
                    self.quotes.extend(
                        quote_of(self.account.name, tickers[s], received)
                        for s in chunk
                        if s in tickers
                    )
                except ShapeError as exc:
                    self.problem(Severity.ERROR, f"fetch_tickers: {exc}")
                    continue
                missing = [s for s in chunk if s not in tickers]
                if missing:
                    self.problem(Severity.WARNING, f"no ticker returned for {', '.join(missing)}")
            return
        for symbol in symbols:  # the exchange has no multi-symbol ticker endpoint
            try:
                ticker = await self.call(f"fetch_ticker {symbol}", ex.fetch_ticker, symbol)
            except FetchFailed as exc:
                self.problem(Severity.ERROR, str(exc))
                continue
            try:
                self.quotes.append(quote_of(self.account.name, ticker, self.settings.now()))
            except ShapeError as exc:
                self.problem(Severity.ERROR, f"fetch_ticker {symbol}: {exc}")

    async def close(self) -> None:
        if self.exchange is not None:
            try:
                await self.exchange.close()
            except Exception as exc:  # closing must not hide the results
                log.debug("closing %s: %s", self.subject, redact(str(exc)))

    def snapshot(self) -> AccountSnapshot:
        return AccountSnapshot(
            name=self.account.name,
            exchange=self.account.exchange,
            holdings=tuple(self.holdings),
            markets=tuple(
                market_info(self.account.name, self.ex.markets[s], self.ex.precisionMode)
                for s in self.market_symbols
            ),
            quotes=tuple(self.quotes),
            fetched_at=self.fetched_at,
            problems=tuple(self.problems),
        )


async def _contained(
    fetch: _AccountFetch, step: Coroutine[Any, Any, None], deadline: float | None = None
) -> None:
    """Run one account's step; an unexpected error fails that account, not the others.

    Args:
        deadline: the event loop's time by which the run's exchange reads must end.
    """
    try:
        async with asyncio.timeout_at(deadline):
            await step
    except TimeoutError:
        fetch.problem(
            Severity.ERROR,
            f"not read within the run's deadline for exchange reads ({RUN_DEADLINE_SECONDS:g} "
            "s in all); gave up",
        )
    except ReadOnlyViolation:
        raise  # a bug in rotator, never an exchange problem: stop the run loudly
    except Exception as exc:
        log.debug("%s failed", fetch.subject, exc_info=True)
        fetch.problem(Severity.ERROR, f"unexpected error: {type(exc).__name__}: {exc}")


def _unreadable(result: Any) -> bool:
    if isinstance(result, str | bytes):
        return True
    return isinstance(result, dict) and isinstance(result.get("info"), str | bytes)


async def fetch_accounts_async(
    accounts: Sequence[AccountSettings],
    wanted_assets: Iterable[str],
    *,
    environ: Mapping[str, str],
    clock: Clock,
    cache_dir: Path | None,
    market_ttl_seconds: int = 6 * 3600,
    retries: int = 2,
    retry_backoff_seconds: float = 0.5,
    run_deadline_seconds: float | None = None,
) -> tuple[AccountSnapshot, ...]:
    """The async form of `fetch_accounts`, for callers already inside an event loop.

    All accounts' reads (markets, balances, quotes, retries included) end within
    `run_deadline_seconds` (RUN_DEADLINE_SECONDS by default); an account still being read then
    fails like any unreadable account.
    """
    cache = MarketCache(cache_dir, timedelta(seconds=market_ttl_seconds)) if cache_dir else None
    settings = _Settings(environ, clock, cache, max(0, retries), max(0.0, retry_backoff_seconds))
    fetches = [_AccountFetch(account, settings) for account in accounts]
    limit = RUN_DEADLINE_SECONDS if run_deadline_seconds is None else run_deadline_seconds
    deadline = asyncio.get_running_loop().time() + limit
    try:
        await asyncio.gather(*(_contained(f, f.read_account(), deadline) for f in fetches))
        universe = {a.upper() for a in wanted_assets} | {
            h.asset for f in fetches for h in f.holdings
        }
        for f in fetches:
            f.market_symbols = tuple(f.needed_symbols(universe))
        await asyncio.gather(*(_contained(f, f.read_quotes(universe), deadline) for f in fetches))
    finally:
        await asyncio.gather(*(f.close() for f in fetches), return_exceptions=True)
    return tuple(f.snapshot() for f in fetches)


def fetch_accounts(
    accounts: Sequence[AccountSettings],
    wanted_assets: Iterable[str],
    *,
    environ: Mapping[str, str],
    clock: Clock,
    cache_dir: Path | None,
    market_ttl_seconds: int = 6 * 3600,
    retries: int = 2,
    retry_backoff_seconds: float = 0.5,
    run_deadline_seconds: float | None = None,
) -> tuple[AccountSnapshot, ...]:
    """Read holdings, markets and quotes of every exchange account, concurrently.

    Args:
        accounts: exchange accounts from portfolio.yaml.
        wanted_assets: assets to price besides those held (targets, cash assets, base currency,
            preferred quotes, bridge assets, manual wallet assets).
        environ: where credentials are read, by the variable names the accounts give.
        clock: the run's clock (rotator.core.clock): the time stamped on holdings and quotes,
            a server's Retry-After read against its wall time, and the waits between retries
            (tests pass one that records each wait instead of sleeping).
        cache_dir: folder for the market cache; None disables it.
        market_ttl_seconds: how long cached markets stay fresh.
        retries: retries per call on network errors, timeouts and rate limits.
        retry_backoff_seconds: first retry delay; doubled on each retry.
        run_deadline_seconds: all reads end by then (default RUN_DEADLINE_SECONDS).

    Returns:
        One AccountSnapshot per account, in the same order. A failed account has ERROR problems
        saying what failed; this function does not raise for one account's failure.
    """
    if not accounts:
        return ()
    return asyncio.run(
        fetch_accounts_async(
            accounts,
            wanted_assets,
            environ=environ,
            clock=clock,
            cache_dir=cache_dir,
            market_ttl_seconds=market_ttl_seconds,
            retries=retries,
            retry_backoff_seconds=retry_backoff_seconds,
            run_deadline_seconds=run_deadline_seconds,
        )
    )
