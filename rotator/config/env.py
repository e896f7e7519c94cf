"""Every ROTATOR_* environment variable, read once, here, into a frozen `Settings` record.

No other module reads `os.environ` for ROTATOR_* variables: commands call `settings()` (or
`read_settings(environ)` for a given mapping, as the demo does with its local server's URLs)
and hand the typed values on. Credentials are different: portfolio.yaml names the variable that
holds each key, and those are looked up by name in the run's `environ` mapping by the adapter
that needs them (never stored, logged or printed).

| variable                            | meaning                                               |
|-------------------------------------|-------------------------------------------------------|
| ROTATOR_CONFIG                      | portfolio.yaml to read (default ./portfolio.yaml)     |
| ROTATOR_DB_URL                      | SQLAlchemy URL of the store (default: data dir file)  |
| ROTATOR_DATA_DIR                    | database, reports, logs (default: platform data dir)  |
| ROTATOR_CACHE_DIR                   | cached exchange markets (default: platform cache dir) |
| ROTATOR_FRED_URL                    | FRED API base URL (tests, proxies)                    |
| ROTATOR_COINGECKO_URL               | CoinGecko API base URL (tests, proxies)               |
| ROTATOR_LIVECOINWATCH_URL           | LiveCoinWatch API base URL (dominance history)        |
| ROTATOR_YAHOO_URL                   | Yahoo Finance chart API base URL (the MOVE index)     |
| ROTATOR_FREDGRAPH_URL               | FRED CSV download base URL (FRED without a key)       |
| ROTATOR_COINGECKO_CALLS_PER_MINUTE  | CoinGecko call spacing; 0 for none                    |
| ROTATOR_DEFILLAMA_API_URL           | DefiLlama API base URL (tests, the demo)              |
| ROTATOR_DEFILLAMA_YIELDS_URL        | DefiLlama yields API base URL (tests, the demo)       |
| ROTATOR_SCREEN_NO_CACHE             | set: never cache the screen's source data (the demo)  |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_cache_dir, user_data_dir

ENV_VARS: tuple[str, ...] = (
    "ROTATOR_CONFIG",
    "ROTATOR_DB_URL",
    "ROTATOR_DATA_DIR",
    "ROTATOR_CACHE_DIR",
    "ROTATOR_FRED_URL",
    "ROTATOR_COINGECKO_URL",
    "ROTATOR_COINGECKO_CALLS_PER_MINUTE",
    "ROTATOR_LIVECOINWATCH_URL",
    "ROTATOR_YAHOO_URL",
    "ROTATOR_FREDGRAPH_URL",
    "ROTATOR_DEFILLAMA_API_URL",
    "ROTATOR_DEFILLAMA_YIELDS_URL",
    "ROTATOR_SCREEN_NO_CACHE",
)
# Variables that locate rotator's files; a scheduled job carries them when set (no secret).
LOCATION_VARS = ("ROTATOR_DATA_DIR", "ROTATOR_CACHE_DIR")


@dataclass(frozen=True, slots=True)
class Settings:
    """The ROTATOR_* variables, typed, with their defaults applied.

    Attributes:
        config_path: portfolio.yaml used when --config is not given.
        db_url: the store's URL when --db is not given.
        data_dir: database, reports and logs.
        cache_dir: cached exchange markets.
        fred_url, coingecko_url, defillama_api_url, defillama_yields_url, livecoinwatch_url,
            yahoo_url, fredgraph_url: source base URLs; None for each source's public default.
        coingecko_per_minute: CoinGecko call spacing override; None for the plan's default.
        screen_no_cache: never cache the revenue screen's source data.
        locations: the location variables that were set explicitly (for a scheduled job).
        db_url_set: ROTATOR_DB_URL when it is set (None: the default file).
    """

    config_path: Path
    db_url: str
    data_dir: Path
    cache_dir: Path
    fred_url: str | None = None
    coingecko_url: str | None = None
    coingecko_per_minute: float | None = None
    defillama_api_url: str | None = None
    defillama_yields_url: str | None = None
    screen_no_cache: bool = False
    locations: tuple[tuple[str, str], ...] = ()
    db_url_set: str | None = None
    livecoinwatch_url: str | None = None
    yahoo_url: str | None = None
    fredgraph_url: str | None = None

    @property
    def market_cache(self) -> Path:
        """Folder for cached exchange market definitions."""
        return self.cache_dir / "markets"

    @property
    def demo_db_url(self) -> str:
        """The demo's own SQLite file (never the user's database)."""
        return f"sqlite:///{self.data_dir / 'demo.sqlite3'}"


def read_settings(environ: Mapping[str, str]) -> Settings:
    """The settings `environ` gives (unset or empty variables take their defaults)."""

    def get(name: str) -> str | None:
        return environ.get(name) or None

    data_dir = Path(get("ROTATOR_DATA_DIR") or user_data_dir("rotator"))
    per_minute = get("ROTATOR_COINGECKO_CALLS_PER_MINUTE")
    return Settings(
        config_path=Path(get("ROTATOR_CONFIG") or "portfolio.yaml"),
        db_url=get("ROTATOR_DB_URL") or f"sqlite:///{data_dir / 'rotator.sqlite3'}",
        data_dir=data_dir,
        cache_dir=Path(get("ROTATOR_CACHE_DIR") or user_cache_dir("rotator")),
        fred_url=get("ROTATOR_FRED_URL"),
        coingecko_url=get("ROTATOR_COINGECKO_URL"),
        coingecko_per_minute=None if per_minute is None else float(per_minute),
        defillama_api_url=get("ROTATOR_DEFILLAMA_API_URL"),
        defillama_yields_url=get("ROTATOR_DEFILLAMA_YIELDS_URL"),
        screen_no_cache=bool(get("ROTATOR_SCREEN_NO_CACHE")),
        locations=tuple((n, v) for n in LOCATION_VARS if (v := get(n)) is not None),
        db_url_set=get("ROTATOR_DB_URL"),
        livecoinwatch_url=get("ROTATOR_LIVECOINWATCH_URL"),
        yahoo_url=get("ROTATOR_YAHOO_URL"),
        fredgraph_url=get("ROTATOR_FREDGRAPH_URL"),
    )


def settings() -> Settings:
    """The settings of this process's environment (read when called: tests change it)."""
    return read_settings(os.environ)
