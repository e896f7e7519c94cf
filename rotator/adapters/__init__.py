"""I/O at the edges: exchanges (ccxt), HTTP data sources, the SQL store."""
