"""Market-data sources at the edge: HTTP APIs (CoinGecko, FRED), CSV files, exchange candles.

Each source turns its payload into records of rotator.core.history (DailyBar,
DominanceObservation, MacroObservation) with the day they describe; the market store saves them.
"""
