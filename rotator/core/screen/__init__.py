"""The revenue-backed staking-yield screen: data, parameters, checks and basket weights."""
