"""Typed immutable records that flow through a run: fetch -> snapshot -> plan.

Quantities are `Decimal`, times are timezone-aware `datetime`. Records are frozen; derive a
changed copy with `dataclasses.replace`. Names of assets are ccxt unified currency codes
("BTC", "USDT"); markets are ccxt unified symbols ("ETH/BTC").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from rotator.core.records import BasketReport, RulesReport, basket_weights
from rotator.errors import Problem, Severity

if TYPE_CHECKING:
    import pandas as pd

ZERO = Decimal(0)


class WalletKind(StrEnum):
    """Which wallet of an account a balance sits in."""

    SPOT = "spot"  # tradable right now
    FUNDING = "funding"  # must be transferred to spot before trading
    EARN = "earn"  # simple-earn / staking; must be redeemed before trading
    MANUAL = "manual"  # declared in portfolio.yaml (cold storage, staked); never sold
    ONCHAIN = "onchain"  # read from a blockchain (self-custody address or xpub); never sold


@dataclass(frozen=True, slots=True)
class ChainSource:
    """Where an on-chain holding was read: chain, address (or xpub), block and time.

    Attributes:
        address: the address, xpub or descriptor read; renderers show it shortened.
        block: block height (slot on Solana) the balance is as of, when the endpoint says.
        addresses: how many addresses the amount sums (an xpub's used addresses).
    """

    chain: str
    address: str
    read_at: datetime
    block: int | None = None
    addresses: int = 1


@dataclass(frozen=True, slots=True)
class Holding:
    """An amount of one asset in one wallet of one account.

    Attributes:
        account: account or manual wallet name from portfolio.yaml.
        asset: unified currency code.
        total: everything held, including amounts locked in open orders.
        free: what can be sold now; zero for manual wallets.
        wallet: which wallet of the account holds it.
        source: for on-chain holdings, where the amount was read.
    """

    account: str
    asset: str
    total: Decimal
    free: Decimal
    wallet: WalletKind = WalletKind.SPOT
    source: ChainSource | None = None

    @property
    def sellable(self) -> bool:
        """Only spot balances of exchange accounts can be sold by a plan."""
        return self.wallet is WalletKind.SPOT and self.free > 0


@dataclass(frozen=True, slots=True)
class MarketInfo:
    """A spot market on one account's exchange, with the limits orders must respect.

    Attributes:
        amount_step: smallest increment of the base amount (ccxt precision, normalised to a step).
        min_amount: smallest order amount in base units, if the exchange states one.
        min_cost: smallest order value in quote units, if the exchange states one.
        taker_fee: fee rate the exchange reports for the market, if any.
    """

    account: str
    symbol: str
    base: str
    quote: str
    amount_step: Decimal | None = None
    price_step: Decimal | None = None
    min_amount: Decimal | None = None
    min_cost: Decimal | None = None
    taker_fee: Decimal | None = None
    active: bool = True


@dataclass(frozen=True, slots=True)
class Quote:
    """A ticker: best bid/ask and last trade of a market, as of a time.

    Attributes:
        source: the account whose exchange reported it.
        as_of: the exchange's timestamp, or the time it was received when the exchange gives none.
    """

    symbol: str
    bid: Decimal | None
    ask: Decimal | None
    last: Decimal | None
    as_of: datetime
    source: str

    @property
    def base(self) -> str:
        return self.symbol.split("/")[0]

    @property
    def quote(self) -> str:
        return self.symbol.split("/")[1].split(":")[0]

    @property
    def mid(self) -> Decimal | None:
        """Mid price when both sides are quoted, else the last trade."""
        if self.bid and self.ask and self.bid > 0 and self.ask > 0:
            return (self.bid + self.ask) / 2
        return self.last if self.last and self.last > 0 else None


@dataclass(frozen=True, slots=True)
class OracleQuote:
    """An asset's price from a price oracle (CoinGecko, DefiLlama), for valuation only.

    Used only for assets no exchange route prices; never to price an order.

    Attributes:
        price: one unit of `asset` in the snapshot's base currency; None when the value comes
            through `underlying` instead.
        source: provider and id, e.g. "coingecko:staked-ether".
        underlying: value the asset as `ratio` units of this asset (liquid staking tokens).
        ratio: units of `underlying` one unit of `asset` is worth.
        ratio_source: where the ratio comes from, e.g. "portfolio.yaml" or
            "coingecko jito-staked-sol/solana".
        tracks: an asset this one trades close to (stETH: ETH); a direct oracle price far
            from the exchange price of `tracks` is refused by the valuation.
    """

    asset: str
    price: Decimal | None
    source: str
    as_of: datetime
    underlying: str | None = None
    ratio: Decimal | None = None
    ratio_source: str | None = None
    tracks: str | None = None


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """What one account (exchange or manual wallet) looked like at fetch time.

    An account that failed to load has no holdings and an ERROR problem saying why.
    """

    name: str
    exchange: str  # ccxt id, "manual" for a declared wallet, "chain:<name>" for on-chain
    holdings: tuple[Holding, ...] = ()
    markets: tuple[MarketInfo, ...] = ()
    quotes: tuple[Quote, ...] = ()
    fetched_at: datetime | None = None
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not any(p.severity is Severity.ERROR for p in self.problems)

    @property
    def is_manual(self) -> bool:
        return self.exchange == "manual"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything a run knows about the portfolio and the market, fetched once up front.

    Attributes:
        history: named daily series for rules (e.g. "btc_dominance", "close:BTC"), indexed by
            UTC date; filled by the history store for rule evaluation.
        datasets: declared dataset inputs by name (e.g. "dataset:revenue_screen" -> the screen's
            inputs), gathered by their loaders (rotator.pipeline.gather) before the rules run.
            Rules read them with `RuleContext.dataset(name, type)`, which checks the type.
    """

    as_of: datetime
    base_currency: str
    accounts: tuple[AccountSnapshot, ...]
    problems: tuple[Problem, ...] = ()
    history: Mapping[str, pd.Series] = field(default_factory=dict)
    datasets: Mapping[str, object] = field(default_factory=dict)
    oracle: tuple[OracleQuote, ...] = ()  # prices for assets no exchange quotes

    @property
    def holdings(self) -> tuple[Holding, ...]:
        return tuple(h for a in self.accounts for h in a.holdings)

    @property
    def quotes(self) -> tuple[Quote, ...]:
        return tuple(q for a in self.accounts for q in a.quotes)

    @property
    def markets(self) -> tuple[MarketInfo, ...]:
        return tuple(m for a in self.accounts for m in a.markets)

    @property
    def all_problems(self) -> tuple[Problem, ...]:
        return self.problems + tuple(p for a in self.accounts for p in a.problems)

    @property
    def complete(self) -> bool:
        return not any(p.severity is Severity.ERROR for p in self.all_problems)


@dataclass(frozen=True, slots=True)
class Price:
    """An asset's price in the base currency and the chain of markets that produced it.

    Attributes:
        route: symbols multiplied (or divided) to reach the base, e.g. ("SOL/BTC", "BTC/USDT",
            "USDT/USD"); empty for the base currency itself.
        as_of: time of the oldest quote on the route.
    """

    asset: str
    in_base: Decimal
    route: tuple[str, ...]
    as_of: datetime | None
    oracle: str | None = None  # "coingecko:staked-ether" when an oracle gave the price

    @property
    def from_oracle(self) -> bool:
        return self.oracle is not None


@dataclass(frozen=True, slots=True)
class ValuedHolding:
    """A holding with its value in the base currency; `price` is None when unpriceable."""

    holding: Holding
    price: Price | None

    @property
    def value(self) -> Decimal | None:
        return None if self.price is None else self.holding.total * self.price.in_base


@dataclass(frozen=True, slots=True)
class TargetWeights:
    """Desired portfolio weights by asset (or the cash bucket), summing to 1.

    Attributes:
        weights: asset code -> fraction of portfolio value. The key CASH_BUCKET stands for all
            cash assets together (stablecoins and fiat, per the rebalance policy).
        source: where they came from, e.g. "portfolio.yaml targets" or "regime rotate".
    """

    weights: Mapping[str, Decimal]
    source: str


CASH_BUCKET = "CASH"


@dataclass(frozen=True, slots=True)
class RebalancePolicy:
    """How the planner turns drift into orders. Built from portfolio.yaml's `rebalance:`.

    Attributes:
        drift_abs: an asset trades when |weight - target| exceeds this (fraction, 0.02 = 2 pp)...
        drift_rel: ...or exceeds this fraction of its target (0.25 = 25 % of the target).
        min_order_value: smallest order worth placing, in base currency.
        quote_preference: quote currencies to trade against, most preferred first.
        bridge_assets: assets a two-leg route may pass through when no direct market exists.
        fee_rate: estimated taker fee rate used when the market reports none.
        max_turnover: cap on (buys + sells) / portfolio value per plan; None for no cap.
        never_trade: assets counted in the portfolio but never bought or sold.
        cash_assets: assets that make up the cash bucket (stablecoins, fiat).
        ignore_assets: assets left out of the portfolio entirely (e.g. unpriceable dust).
        sell_unlisted: sell assets that have no target (target weight 0) instead of holding them.
        max_price_age_seconds: quotes older than this count as missing.
        max_price_disagreement: quotes of one pair (across accounts, or through bridges) that
            differ by more than this fraction leave the asset without a price (0.10 = 10 %).
    """

    drift_abs: Decimal = Decimal("0.02")
    drift_rel: Decimal = Decimal("0.25")
    min_order_value: Decimal = Decimal("20")
    quote_preference: tuple[str, ...] = ("USDT", "USDC", "USD", "BTC")
    bridge_assets: tuple[str, ...] = ("USDT", "BTC")
    fee_rate: Decimal = Decimal("0.001")
    max_turnover: Decimal | None = None
    never_trade: frozenset[str] = frozenset()
    cash_assets: frozenset[str] = frozenset({"USD", "USDT", "USDC", "DAI", "FDUSD", "EUR"})
    ignore_assets: frozenset[str] = frozenset()
    sell_unlisted: bool = True
    max_price_age_seconds: int = 900
    max_price_disagreement: Decimal = Decimal("0.10")
    cost_weight: Decimal = Decimal("10")
    time_limit_seconds: float = 10.0


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


@dataclass(frozen=True, slots=True)
class Order:
    """A suggested order. It is never sent anywhere: rotator only prints it.

    Attributes:
        asset: the portfolio asset whose weight this order corrects.
        amount: base-asset amount of `symbol`, rounded to the market's step.
        price: estimated price in the market's quote currency (bid for sells, ask for buys).
        notional: estimated value in the portfolio base currency.
        fee: estimated fee in the portfolio base currency.
        reason: why, in words a person reads ("ETH 31.2% vs target 20.0% (+11.2 pp)").
        leg: 1 for a direct order; 1 and 2 for the two orders of a bridged route.
    """

    account: str
    symbol: str
    side: Side
    amount: Decimal
    price: Decimal
    notional: Decimal
    fee: Decimal
    asset: str
    reason: str
    leg: int = 1


@dataclass(frozen=True, slots=True)
class Allocation:
    """One row of the portfolio's allocation: an asset or the cash bucket."""

    asset: str
    value: Decimal
    weight: Decimal
    target: Decimal | None


@dataclass(frozen=True, slots=True)
class Plan:
    """The result of a run: allocation before/after and the dry-run orders between them.

    Attributes:
        total_value: portfolio value in base currency; None when it could not be established.
        problems: data problems; any ERROR means the plan is incomplete and orders are withheld.
        notes: orders considered and dropped (below minimums, no market...), with reasons.
        regime: the regime that chose the targets, when rules were used.
        explanation: lines saying why the targets are what they are (rule values, regime).
        rules: every rule's answer and the evaluation day, when a rule set chose the targets.
        baskets: the basket rules the chosen regime names, with their members.
        prices: the base-currency prices the planner valued the portfolio with.
        holdings: every holding read, with its price when a fresh one was found (complete and
            incomplete plans alike).
        onchain: the on-chain holdings, valued, each with its `ChainSource`.
        oracle_prices: prices that came from a price oracle (they value, never trade).
    """

    as_of: datetime
    base_currency: str
    total_value: Decimal | None
    targets: TargetWeights
    before: tuple[Allocation, ...]
    after: tuple[Allocation, ...]
    orders: tuple[Order, ...]
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()
    regime: str | None = None
    explanation: tuple[str, ...] = ()
    rules: RulesReport | None = None
    baskets: tuple[BasketReport, ...] = ()
    prices: tuple[Price, ...] = ()
    holdings: tuple[ValuedHolding, ...] = ()
    onchain: tuple[ValuedHolding, ...] = ()  # on-chain holdings with their source and value
    oracle_prices: tuple[Price, ...] = ()  # held assets valued by a price oracle

    @property
    def complete(self) -> bool:
        return not any(p.severity is Severity.ERROR for p in self.problems)

    @property
    def basket(self) -> dict[str, Decimal]:
        """Asset -> target portfolio weight of every basket member (empty without baskets)."""
        return basket_weights(self.baskets)
