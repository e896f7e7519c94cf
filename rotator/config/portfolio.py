"""portfolio.yaml: pydantic models, loading, and error messages that name file, field and fix.

This is the only module that reads portfolio.yaml. The rest of the program receives the
validated `Portfolio` (or the core records derived from it) as arguments.
"""

from __future__ import annotations

import importlib.util
import re
import stat
from collections import Counter
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    field_validator,
    model_validator,
)

from rotator.config.ccxt_settings import check_ccxt_settings
from rotator.config.chains import ChainWallet, OraclesConfig
from rotator.config.env import settings
from rotator.config.paths import resolve_ruleset_path
from rotator.config.secrets import looks_like_key, url_secret
from rotator.config.yamlfile import (
    duplicate_keys,
    location,
    mapping_entries,
    read_yaml,
    validate,
)
from rotator.core.models import CASH_BUCKET, RebalancePolicy, TargetWeights
from rotator.errors import ConfigError

WEIGHT_TOLERANCE = Decimal("0.0001")

# ccxt constructor keys that carry credentials. Any key in the file that normalises to one of
# these is refused: credentials live in environment variables, named by `*_env` fields.
SECRET_KEYS = frozenset(
    {
        "apikey",
        "secret",
        "secretkey",
        "password",
        "passphrase",
        "privatekey",
        "token",
        "uid",
        "login",
        "twofa",
        "apisecret",
        "accesstoken",
        "otp",
    }
)


def upper_keys(value: dict[str, Decimal]) -> dict[str, Decimal]:
    """Asset codes in capitals; two keys equal in capitals (ETH, eth) are an error, not a merge."""
    out: dict[str, Decimal] = {}
    for asset, amount in value.items():
        if asset.upper() in out:
            raise ValueError(f"{asset}: the asset {asset.upper()} is listed twice")
        out[asset.upper()] = amount
    return out


class StrictModel(BaseModel):
    """Base for config models: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


WalletName = Literal["spot", "funding", "earn"]


class ExchangeAccount(StrictModel):
    """An exchange account read through ccxt with read-only API keys."""

    name: str = Field(min_length=1)
    exchange: str = Field(description="ccxt exchange id, e.g. binance, kraken, okx")
    api_key_env: str | None = None
    secret_env: str | None = None
    password_env: str | None = None
    wallets: tuple[WalletName, ...] = ("spot",)
    ccxt: dict[str, Any] = Field(default_factory=dict)
    _ccxt = field_validator("ccxt")(lambda v, i: check_ccxt_settings(i.data.get("exchange"), v))

    @field_validator("exchange")
    @classmethod
    def _known_exchange(cls, value: str) -> str:
        known = ccxt_exchange_ids()
        if known and value not in known:
            close = [e for e in known if e.startswith(value[:3])][:5]
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ValueError(f"must be a ccxt exchange id, got {value!r}{hint}")
        return value

    @field_validator("api_key_env", "secret_env", "password_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        return env_var_name(value)

    @field_validator("wallets")
    @classmethod
    def _wallets_unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("must list at least one of spot, funding, earn")
        if len(set(value)) != len(value):
            raise ValueError("lists a wallet twice")
        return value

    def credential_envs(self) -> dict[str, str]:
        """ccxt credential field -> environment variable name, for the fields configured."""
        pairs = {
            "apiKey": self.api_key_env,
            "secret": self.secret_env,
            "password": self.password_env,
        }
        return {field: env for field, env in pairs.items() if env}


class ManualWallet(StrictModel):
    """Holdings declared by hand (cold storage, staked positions): counted, never sold."""

    name: str = Field(min_length=1)
    holdings: dict[str, Decimal]
    note: str | None = None

    @field_validator("holdings")
    @classmethod
    def _non_negative(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        if not value:
            raise ValueError("must list at least one asset amount, e.g. {BTC: 0.5}")
        for asset, amount in value.items():
            if amount < 0:
                raise ValueError(f"{asset}: amount must be >= 0, got {amount}")
        return upper_keys(value)


def _wallet_kind(value: Any) -> str:
    """`wallets[]` entries with `chain:` are read from a chain; the others are declared."""
    has_chain = "chain" in value if isinstance(value, dict) else hasattr(value, "chain")
    return "kind:chain" if has_chain else "kind:manual"


Wallet = Annotated[
    Annotated[ManualWallet, Tag("kind:manual")] | Annotated[ChainWallet, Tag("kind:chain")],
    Discriminator(_wallet_kind),
]


class RebalanceConfig(StrictModel):
    """The `rebalance:` section; see RebalancePolicy for the meaning of each field."""

    drift_abs: Decimal = Field(Decimal("0.02"), ge=0, le=1)
    drift_rel: Decimal = Field(Decimal("0.25"), ge=0)
    min_order_value: Decimal = Field(Decimal("20"), ge=0)
    quote_preference: tuple[str, ...] = ("USDT", "USDC", "USD", "BTC")
    bridge_assets: tuple[str, ...] = ("USDT", "BTC")
    fee_rate: Decimal = Field(Decimal("0.001"), ge=0, lt=Decimal("0.1"))
    max_turnover: Decimal | None = Field(None, gt=0, le=2)
    never_trade: tuple[str, ...] = ()
    cash_assets: tuple[str, ...] = ("USD", "USDT", "USDC", "DAI", "FDUSD", "EUR")
    ignore_assets: tuple[str, ...] = ()
    sell_unlisted: bool = True
    max_price_age_seconds: int = Field(900, gt=0)
    max_price_disagreement: Decimal = Field(Decimal("0.10"), gt=0, lt=1)
    # Under 6 a plan could lower the measured band excess by paying fees (a smaller total makes
    # shortfalls smaller): see docs/planner.md.
    cost_weight: Decimal = Field(Decimal("10"), ge=6, le=10000)

    def to_policy(self) -> RebalancePolicy:
        upper = lambda items: tuple(i.upper() for i in items)  # noqa: E731
        return RebalancePolicy(
            drift_abs=self.drift_abs,
            drift_rel=self.drift_rel,
            min_order_value=self.min_order_value,
            quote_preference=upper(self.quote_preference),
            bridge_assets=upper(self.bridge_assets),
            fee_rate=self.fee_rate,
            max_turnover=self.max_turnover,
            never_trade=frozenset(upper(self.never_trade)),
            cash_assets=frozenset(upper(self.cash_assets)),
            ignore_assets=frozenset(upper(self.ignore_assets)),
            sell_unlisted=self.sell_unlisted,
            max_price_age_seconds=self.max_price_age_seconds,
            max_price_disagreement=self.max_price_disagreement,
            cost_weight=self.cost_weight,
        )


class RuleSetRef(StrictModel):
    """`rules:` in portfolio.yaml: a rule-set file (relative to portfolio.yaml) and overrides.

    Written as `rules: rules/cycle.yaml`, or as `rules: {file: ..., overrides: {rule: {param:
    value}}}`. When present, the rule set's regimes choose the targets; `targets:`, if also
    given, are the targets of its default regime (the last one, without `when`); see
    rotator.config.ruleset.load_portfolio_ruleset.
    """

    file: str = Field(min_length=1)
    overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)
    _base_dir: Path = PrivateAttr(default=Path("."))

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        return {"file": value} if isinstance(value, str) else value

    @property
    def base_dir(self) -> Path:
        """Folder of the portfolio.yaml that names the rule set (set by load_portfolio)."""
        return self._base_dir


def env_var_name(value: str | None) -> str | None:
    """Check an `*_env` field holds a variable NAME; the message never echoes the value.

    A valid name that looks like a key (long, one word, letters and digits mixed: see
    `rotator.config.secrets.looks_like_key`) is refused too: it was most likely pasted.
    """
    if value is not None and (
        not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value) or looks_like_key(value)
    ):
        raise ValueError(
            "must be the NAME of an environment variable (letters, digits, _, e.g. "
            "BINANCE_API_KEY), not the secret itself; this value looks like a key, so it is "
            "not repeated here: put it in an environment variable and name that variable"
        )
    return value


class ReportsConfig(StrictModel):
    """`reports:`: where `rotator report` writes its HTML and Markdown files."""

    # Relative to portfolio.yaml's folder; default <data dir>/reports.
    directory: Path | None = None


class WebhookTarget(StrictModel):
    """One webhook in `delivery.webhooks`: a JSON POST with the report's summary and path.

    Webhook URLs of Slack/Discord embed a secret: give them by environment variable name
    (`url_env`). `url` is for receivers that need no secret (a local relay).
    """

    name: str | None = None
    format: Literal["generic", "slack", "discord", "telegram"] = "generic"
    url: str | None = None
    url_env: str | None = None
    bot_token_env: str | None = None
    chat_id: str | None = None
    api_base: str = "https://api.telegram.org"

    _env_names = field_validator("url_env", "bot_token_env")(lambda v: env_var_name(v))

    @model_validator(mode="after")
    def _destination(self) -> WebhookTarget:
        if self.format == "telegram":
            if not self.bot_token_env or not self.chat_id:
                raise ValueError("format telegram needs bot_token_env and chat_id")
        elif (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of url_env (secret URLs) or url")
        elif self.url and (why := url_secret(self.url)):
            raise ValueError(
                f"this webhook URL embeds a secret ({why}): put it in an environment "
                "variable and name that variable with url_env"
            )
        return self

    @property
    def label(self) -> str:
        return self.name or self.format


class EmailTarget(StrictModel):
    """`delivery.email`: the HTML report attached to a mail sent over SMTP."""

    host: str
    port: int = Field(587, gt=0, lt=65536)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username_env: str | None = None
    password_env: str | None = None
    sender: str = Field(pattern=r".+@.+")
    to: tuple[str, ...] = Field(min_length=1)

    _env_names = field_validator("username_env", "password_env")(lambda v: env_var_name(v))

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [a for a in value if "@" not in a]
        if bad:
            raise ValueError(f"must be e-mail addresses, got {bad}")
        return value


class DeliveryConfig(StrictModel):
    """`delivery:`: where to send the daily report (optional; secrets by env var name)."""

    webhooks: tuple[WebhookTarget, ...] = ()
    email: EmailTarget | None = None
    timeout_seconds: float = Field(15, gt=0, le=300)
    retry_delay_seconds: float = Field(5, ge=0, le=600)


class Portfolio(StrictModel):
    """The whole portfolio.yaml."""

    base_currency: str = "USD"
    accounts: tuple[ExchangeAccount, ...] = ()
    wallets: tuple[Wallet, ...] = ()
    oracles: OraclesConfig = OraclesConfig()
    targets: dict[str, Decimal] | None = None
    rules: RuleSetRef | None = None
    rebalance: RebalanceConfig = RebalanceConfig()
    reports: ReportsConfig = ReportsConfig()
    delivery: DeliveryConfig = DeliveryConfig()

    @field_validator("base_currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @field_validator("targets")
    @classmethod
    def _weights_sum_to_one(cls, value: dict[str, Decimal] | None) -> dict[str, Decimal] | None:
        if value is None:
            return None
        for asset, weight in value.items():
            if not 0 <= weight <= 1:
                hint = f" (did you mean {weight / 100}?)" if 1 < weight <= 100 else ""
                raise ValueError(f"{asset}: must be a fraction between 0 and 1, got {weight}{hint}")
        total = sum(value.values(), Decimal(0))
        if abs(total - 1) > WEIGHT_TOLERANCE:
            parts = " + ".join(f"{a} {w}" for a, w in value.items())
            raise ValueError(
                f"weights must sum to 1, got {total.normalize()} ({parts}); "
                f"adjust them or give the remainder to CASH"
            )
        return upper_keys(value)

    @model_validator(mode="after")
    def _names_unique(self) -> Portfolio:
        names = Counter([a.name for a in self.accounts] + [w.name for w in self.wallets])
        dupes = sorted(n for n, count in names.items() if count > 1)
        if dupes:
            raise ValueError(f"account and wallet names must be unique; repeated: {dupes}")
        return self

    def policy(self) -> RebalancePolicy:
        return self.rebalance.to_policy()

    @property
    def manual_wallets(self) -> tuple[ManualWallet, ...]:
        """Wallets declared with `holdings:`."""
        return tuple(w for w in self.wallets if isinstance(w, ManualWallet))

    @property
    def chain_wallets(self) -> tuple[ChainWallet, ...]:
        """Wallets read from a chain (`chain:`)."""
        return tuple(w for w in self.wallets if isinstance(w, ChainWallet))

    def static_targets(self) -> TargetWeights | None:
        """portfolio.yaml `targets:` as TargetWeights, cash assets folded into the cash bucket."""
        if self.targets is None:
            return None
        cash = set(self.rebalance.to_policy().cash_assets) | {CASH_BUCKET}
        weights: dict[str, Decimal] = {}
        for asset, weight in self.targets.items():
            key = CASH_BUCKET if asset in cash else asset
            weights[key] = weights.get(key, Decimal(0)) + weight
        return TargetWeights(weights=weights, source="portfolio.yaml targets")


@cache
def ccxt_exchange_ids() -> frozenset[str]:
    """ccxt's exchange ids, read from its package folder without importing ccxt (slow)."""
    spec = importlib.util.find_spec("ccxt")
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    folder = Path(next(iter(spec.submodule_search_locations)))
    return frozenset(
        p.stem for p in folder.glob("*.py") if not p.stem.startswith("_") and p.stem != "base"
    )


def credential_status(account: ExchangeAccount, environ: Mapping[str, str]) -> dict[str, bool]:
    """Environment variable name -> whether it is set (non-empty). Never returns values."""
    return {env: bool(environ.get(env)) for env in account.credential_envs().values()}


def load_portfolio(path: Path) -> Portfolio:
    """Read and validate portfolio.yaml.

    Raises:
        ConfigError: naming the file, the field path (with line) and what was expected.
    """
    raw, root = read_yaml(path)
    secrets = find_secret_keys(root)
    if secrets:
        lines = [
            f"{location(path, root, loc)} (a credential field): secrets must not be written "
            f"in the file: put the value in an environment variable and name that variable with "
            f"api_key_env / secret_env / password_env"
            for loc in secrets
        ]
        raise ConfigError("\n".join(lines))
    _refuse_repeats(path, root, raw)
    portfolio = validate(Portfolio, raw, path, root)
    if portfolio.targets is None and portfolio.rules is None:
        raise ConfigError(
            f"{path}: targets: required field is missing: give static `targets:` (asset -> "
            "weight) or a rule set with `rules:` (see docs/reference/configuration.md)"
        )
    if portfolio.rules is not None:
        portfolio.rules._base_dir = path.parent  # rule-set paths are relative to this file
        _check_ruleset_file(path, root, portfolio.rules)
    return portfolio


# Mappings whose keys are asset codes: keys equal in capitals are the same asset.
ASSET_MAPS = (
    ("targets",),
    ("wallets", int, "holdings"),
    ("wallets", int, "tokens"),
    ("oracles", "assets"),
)


def _is_asset_map(loc: tuple[Any, ...]) -> bool:
    return any(
        len(loc) == len(pattern)
        and all(
            p == x or (p is int and isinstance(x, int)) for p, x in zip(pattern, loc, strict=True)
        )
        for pattern in ASSET_MAPS
    )


def _refuse_repeats(path: Path, root: Any, raw: Mapping[str, Any]) -> None:
    """Asset codes written twice (`ETH` and `eth`), account and wallet names used twice."""
    errors = [
        f"{path}:{line}: {location(path, root, loc).split(': ', 1)[1]}: the asset {first!r} of "
        f"line {first_line} again (asset codes are compared in capitals); each asset once"
        for loc, first, first_line, line in duplicate_keys(root, _is_asset_map, str.upper)
    ]
    seen: dict[str, tuple[Any, ...]] = {}
    for section in ("accounts", "wallets"):
        items = raw.get(section)
        if not isinstance(items, list):
            continue
        for index, item in enumerate(items):
            name = item.get("name") if isinstance(item, dict) else None
            if not isinstance(name, str):
                continue
            loc = (section, index, "name")
            if name in seen:
                first = location(path, root, seen[name]).split(": ", 1)
                errors.append(
                    f"{location(path, root, loc)}: the name {name!r} is already used "
                    f"({first[0]}: {first[1]}); account and wallet names must be unique"
                )
            else:
                seen[name] = loc
    if errors:
        raise ConfigError("\n".join(errors))


def _check_ruleset_file(path: Path, root: Any, rules: RuleSetRef) -> None:
    """`rules:` must name a readable rule-set file, said in terms of portfolio.yaml."""
    target = resolve_ruleset_path(rules.file, rules.base_dir)
    field = ("rules",) if not rules.overrides else ("rules", "file")
    where = location(path, root, field)
    try:
        mode = target.stat().st_mode
    except OSError:
        raise ConfigError(
            f"{where}: rule-set file {target} not found (a path relative to {path.name}, or a "
            "shipped rule set such as cycle.yaml)"
        ) from None
    if not stat.S_ISREG(mode):
        what = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise ConfigError(f"{where}: {target} is {what}; expected a rule-set YAML file")


def find_secret_keys(root: Any) -> list[tuple[Any, ...]]:
    """Locations of mapping keys that look like credentials (apiKey, secret, password...).

    Walks the YAML node tree, each node once (aliases are not expanded).
    """
    found: list[tuple[Any, ...]] = []
    for loc, key, value in mapping_entries(root):
        if not isinstance(key, yaml.ScalarNode):
            continue
        normalised = re.sub(r"[^a-z]", "", key.value.lower())
        empty = isinstance(value, yaml.ScalarNode) and (
            value.tag.endswith(":null") or value.value == ""
        )
        if normalised in SECRET_KEYS and not empty:
            found.append((*loc, key.value))
    return sorted(found, key=str)


def default_config_path() -> Path:
    """./portfolio.yaml, or $ROTATOR_CONFIG when set."""
    return settings().config_path
