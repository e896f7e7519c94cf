"""rotator: a read-only planner for rotating a crypto portfolio across exchanges and wallets."""

__version__ = "0.1.0"
