"""Configuration: portfolio.yaml, rule-set files and the environment, read and validated here."""
