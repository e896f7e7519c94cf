"""The pure core: records, valuation, rules and planning. No I/O, no clock, no network.

Nothing under this package may import ccxt, httpx, sqlalchemy, click or open files;
tests/core/test_purity.py enforces it.
"""
