"""The order list is placeable top to bottom: one order per (account, market, side), in
rounds the account's free balances pay for (rotator.core.ordering)."""

from __future__ import annotations

from decimal import Decimal as D

from rotator.core.models import Order, Side
from rotator.core.ordering import merge_orders, sequence_orders


def order(symbol: str, side: Side, amount: str, price: str, leg: int = 1) -> Order:
    notional = D(amount) * D(price)
    return Order("ex", symbol, side, D(amount), D(price), notional, D(0), "X", "why", leg)


def test_parts_of_one_market_and_side_become_one_order() -> None:
    a = order("SOL/BTC", Side.SELL, "1", "0.002", leg=1)
    b = order("SOL/BTC", Side.SELL, "2", "0.002", leg=2)
    c = order("SOL/USDT", Side.BUY, "2", "150")
    [merged, other] = merge_orders([a, c, b])
    assert (merged.amount, merged.notional, merged.leg) == (D("3"), D("0.006"), 2)
    assert other is c


def test_an_order_waits_for_the_order_that_pays_for_it() -> None:
    # USDT -> BTC -> ADA -> USDT on one account holding USDT only: three rounds.
    sell_ada = order("ADA/USDT", Side.SELL, "40", "0.5")
    buy_ada = order("ADA/BTC", Side.BUY, "40", "0.00001")
    buy_btc = order("BTC/USDT", Side.BUY, "0.0004", "50000")
    free = [(("ex", "USDT"), D("100"))]
    listed = sequence_orders([sell_ada, buy_ada, buy_btc], free)
    assert [(o.symbol, o.leg) for o in listed] == [("BTC/USDT", 1), ("ADA/BTC", 2), ("ADA/USDT", 3)]


def test_one_round_never_spends_more_than_is_free() -> None:
    # Two buys that each fit the 100 USDT but not together: the second waits for the sell.
    first = order("BTC/USDT", Side.BUY, "0.001", "60000")  # 60 USDT
    second = order("ETH/USDT", Side.BUY, "0.02", "3000")  # 60 USDT
    sell = order("SOL/USDT", Side.SELL, "1", "150")  # +150 USDT
    free = [(("ex", "USDT"), D("100")), (("ex", "SOL"), D("1"))]
    listed = sequence_orders([first, second, sell], free)
    assert [(o.symbol, o.leg) for o in listed] == [
        ("BTC/USDT", 1), ("SOL/USDT", 1), ("ETH/USDT", 2),
    ]  # fmt: skip
