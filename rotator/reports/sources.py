"""Where holdings and prices came from: on-chain wallets and oracle prices, ready to show.

Addresses and xpubs are private: every renderer shows them shortened ("bc1qcr…306fyu").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from rotator.core.models import Plan
from rotator.redaction import shorten


@dataclass(frozen=True, slots=True)
class OnchainRow:
    """One on-chain holding: wallet, asset, amount, value, and its source in words."""

    wallet: str
    chain: str
    asset: str
    amount: Decimal
    value: Decimal | None
    address: str  # shortened
    block: int | None
    read_at: datetime  # when the chain was read (aware)
    addresses: int
    oracle: str | None  # set when the value comes from a price oracle

    @property
    def amount_text(self) -> str:
        """The amount in plain notation without trailing zeros ("1.2", not "1.200000...")."""
        text = format(self.amount, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text

    @property
    def source(self) -> str:
        at = f"block {self.block:,}" if self.block is not None else "latest"
        many = f", {self.addresses} addresses" if self.addresses > 1 else ""
        return f"{self.chain} {self.address}{many}, {at}, read {self.read_at_text}"

    @property
    def read_at_text(self) -> str:
        """For people: '2025-11-24 07:00 UTC' (JSON carries the ISO 8601 time)."""
        return f"{self.read_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


@dataclass(frozen=True, slots=True)
class OracleRow:
    """A held asset valued by a price oracle (never used to price an order)."""

    asset: str
    price: Decimal
    source: str
    as_of: str


def onchain_rows(plan: Plan) -> tuple[OnchainRow, ...]:
    """The plan's on-chain holdings, addresses shortened."""
    rows = []
    for vh in plan.onchain:
        src = vh.holding.source
        if src is None:
            continue
        rows.append(
            OnchainRow(
                wallet=vh.holding.account,
                chain=src.chain,
                asset=vh.holding.asset,
                amount=vh.holding.total,
                value=vh.value,
                address=shorten(src.address),
                block=src.block,
                read_at=src.read_at,
                addresses=src.addresses,
                oracle=vh.price.oracle if vh.price is not None else None,
            )
        )
    return tuple(rows)


def oracle_rows(plan: Plan) -> tuple[OracleRow, ...]:
    """Prices of held assets that came from an oracle."""
    return tuple(
        OracleRow(
            p.asset,
            p.in_base,
            p.oracle or "",
            "" if p.as_of is None else f"{p.as_of:%Y-%m-%d %H:%M} UTC",
        )
        for p in plan.oracle_prices
    )
