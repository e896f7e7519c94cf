"""Reading chain wallets: one wallet -> AccountSnapshot, every wallet concurrently.

Public interface:
    fetch_chain_wallets_async(settings, clock) every wallet concurrently -> AccountSnapshots
    fetch_chain_wallets(settings, clock)       the same, sync (runs its own loop)

Each wallet becomes one `AccountSnapshot` (exchange "chain:<name>") whose holdings are
`WalletKind.ONCHAIN` (counted, never sold) with a `ChainSource` (chain, address or xpub, block
height or slot, time read). A wallet that cannot be read completely has no holdings and an ERROR
problem saying which endpoint failed and how, exactly like a failed exchange account.

Time is bounded twice: each wallet's whole read (retries and xpub scan included) by its
`deadline_seconds`, and all wallets of a run together by RUN_DEADLINE_SECONDS; a wallet still
being read then fails like any other unreadable wallet.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from rotator.adapters.chains.rpc import ChainReadError, Endpoint
from rotator.adapters.chains.settings import BITCOIN, SOLANA, ChainWalletSettings
from rotator.core.clock import Clock
from rotator.core.models import ZERO, AccountSnapshot, ChainSource, Holding, WalletKind
from rotator.errors import Problem, Severity
from rotator.redaction import redact, register_secret_url, shorten

RUN_DEADLINE_SECONDS = 600.0  # every chain wallet of one run, read concurrently


def open_endpoint(settings: ChainWalletSettings, clock: Clock) -> Endpoint:
    """The rate-limited client of the wallet's endpoint, waiting on `clock`."""
    if settings.endpoint_label.startswith("$"):
        register_secret_url(settings.endpoint)  # a URL from the environment may hold a key
    return Endpoint(
        settings.endpoint,
        label=f"{settings.chain} {settings.endpoint_label}",
        timeout=settings.timeout_seconds,
        requests_per_second=settings.requests_per_second,
        retries=settings.retries,
        clock=clock,
    )


async def read_chain_wallet(
    settings: ChainWalletSettings,
    clock: Clock,
    endpoint: Endpoint | None = None,
    run_deadline: float | None = None,
) -> AccountSnapshot:
    """One wallet's snapshot; failures become an ERROR problem, never an exception.

    Args:
        run_deadline: the event loop's time by which the whole run's reads must end.
    """
    read_at = clock.now()
    own = endpoint is None
    ep = endpoint or open_endpoint(settings, clock)
    subject = f"wallet {settings.name} ({settings.chain})"
    loop = asyncio.get_running_loop()
    own_deadline = loop.time() + settings.deadline_seconds
    deadline = own_deadline if run_deadline is None else min(own_deadline, run_deadline)
    try:
        async with asyncio.timeout_at(deadline):
            holdings, warnings = await _read(settings, ep, read_at)
    except (ChainReadError, TimeoutError) as exc:
        if isinstance(exc, TimeoutError):
            which = "deadline_seconds" if deadline == own_deadline else "the run's deadline"
            limit = settings.deadline_seconds if deadline == own_deadline else RUN_DEADLINE_SECONDS
            exc = ChainReadError(
                f"{ep.label}: read not finished within {limit:g} s ({which}); gave up"
            )
        problem = Problem(Severity.ERROR, subject, f"not read: {redact(str(exc))}")
        return AccountSnapshot(
            settings.name, f"chain:{settings.chain}", (), (), (), read_at, (problem,)
        )
    finally:
        if own:
            await ep.aclose()
    problems = tuple(Problem(Severity.WARNING, subject, w) for w in warnings)
    return AccountSnapshot(
        settings.name, f"chain:{settings.chain}", holdings, (), (), read_at, problems
    )


async def _read(
    s: ChainWalletSettings, ep: Endpoint, read_at: datetime
) -> tuple[tuple[Holding, ...], list[str]]:
    def holding(
        asset: str, amount: Decimal, address: str, block: int | None, n: int = 1
    ) -> Holding:
        source = ChainSource(s.chain, address, read_at, block, n)
        # free 0: on-chain holdings are counted, never sold by a plan
        return Holding(s.name, asset, amount, ZERO, WalletKind.ONCHAIN, source)

    warnings: list[str] = []
    if s.chain == BITCOIN:
        from rotator.adapters.chains.bitcoin import read_bitcoin

        btc = await read_bitcoin(s, ep)
        out = [holding("BTC", b.btc, b.source, btc.height, b.used_addresses) for b in btc.balances]
        return tuple(h for h in out if h.total > 0), warnings
    if s.chain == SOLANA:
        from rotator.adapters.chains.solana import read_solana

        sol = await read_solana(s, ep)
        warnings += [
            f"token accounts of mint {shorten(m)} not counted (unknown mint: add it to tokens:)"
            for m in sol.unknown_mints
        ]
        return tuple(
            holding(b.asset, b.amount, b.address, sol.slot, b.accounts) for b in sol.balances
        ), warnings
    from rotator.adapters.chains.evm import read_evm

    evm = await read_evm(s, ep)
    return tuple(holding(b.asset, b.amount, b.address, evm.block) for b in evm.balances), warnings


async def fetch_chain_wallets_async(
    settings: Sequence[ChainWalletSettings],
    clock: Clock,
    run_deadline_seconds: float = RUN_DEADLINE_SECONDS,
) -> tuple[AccountSnapshot, ...]:
    """Every wallet concurrently, in the given order, all within `run_deadline_seconds`."""
    deadline = asyncio.get_running_loop().time() + run_deadline_seconds
    reads = (read_chain_wallet(s, clock, run_deadline=deadline) for s in settings)
    return tuple(await asyncio.gather(*reads))


def fetch_chain_wallets(
    settings: Sequence[ChainWalletSettings], clock: Clock
) -> tuple[AccountSnapshot, ...]:
    """Sync form of `fetch_chain_wallets_async`."""
    if not settings:
        return ()
    return asyncio.run(fetch_chain_wallets_async(settings, clock))
