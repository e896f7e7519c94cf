"""One exchange account as the read-only adapter takes it: plain, frozen data, no ccxt.

Kept apart from `session` (which imports ccxt, every exchange class of it) so that building the
settings, as the pipeline does for every run, costs nothing until an account is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class AccountSettings:
    """One exchange account as the adapter needs it (built from portfolio.yaml's account).

    Attributes:
        exchange: ccxt exchange id.
        wallets: which wallets to read ("spot", "funding", "earn").
        ccxt: extra ccxt constructor settings (urls, timeout, options...).
        api_key_env, secret_env, password_env: NAMES of the variables holding the credentials.
    """

    name: str
    exchange: str
    wallets: tuple[str, ...] = ("spot",)
    ccxt: Mapping[str, Any] = field(default_factory=dict)
    api_key_env: str | None = None
    secret_env: str | None = None
    password_env: str | None = None

    def credential_envs(self) -> dict[str, str]:
        """ccxt credential field -> environment variable name, for the fields configured."""
        pairs = {
            "apiKey": self.api_key_env,
            "secret": self.secret_env,
            "password": self.password_env,
        }
        return {name: env for name, env in pairs.items() if env}
