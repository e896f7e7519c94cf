"""Telling a secret from a setting, for the checks that keep secrets out of config files.

Credentials live in environment variables; portfolio.yaml names those variables. These checks
catch the usual slips: a key pasted where a variable name belongs, and webhook URLs that carry
their credential (Slack/Discord paths, a Telegram bot token, `user:password@`, `?token=`).
Messages built from them never repeat the value.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from urllib.parse import parse_qsl, urlsplit

# Webhook URLs whose path is itself the credential (Slack, Discord, Telegram bot token).
SECRET_URL_PATH = re.compile(
    r"hooks\.slack\.com/|discord(?:app)?\.com/api/webhooks/|/bot\d+:", re.IGNORECASE
)
# Query parameters that carry a credential, compared without case, `-` and `_`.
SECRET_QUERY_KEYS = frozenset(
    {
        "token",
        "accesstoken",
        "apikey",
        "key",
        "secret",
        "password",
        "pass",
        "pwd",
        "auth",
        "authorization",
        "sig",
        "signature",
        "code",
    }
)
KEY_MIN_LENGTH = 20  # a variable name this long, in one word with digits, is suspicious
KEY_MIN_ENTROPY = 3.0  # bits per character; words and UPPER_SNAKE names score lower


def looks_like_key(value: str) -> bool:
    """True when a would-be variable name looks like an API key or secret pasted in its place.

    Variable names are words (`BINANCE_API_KEY`); keys are long runs of letters and digits
    with no separators (`vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zv...`, 64 hex digits). A value is
    taken for a key when it is at least KEY_MIN_LENGTH characters without `_`, holds both
    letters and digits, and its characters carry at least KEY_MIN_ENTROPY bits each.
    """
    if len(value) < KEY_MIN_LENGTH or "_" in value:
        return False
    if not (any(c.isdigit() for c in value) and any(c.isalpha() for c in value)):
        return False
    counts = Counter(value)
    entropy = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return entropy >= KEY_MIN_ENTROPY


def url_secret(url: str) -> str | None:
    """Why `url` carries a credential (never quoting it), or None when it does not."""
    try:
        parts = urlsplit(url.strip())
        has_userinfo = parts.username is not None or parts.password is not None
    except ValueError:
        return "it is not a valid URL"
    if has_userinfo:
        return "it holds a user name or password (user:password@)"
    if SECRET_URL_PATH.search(url):
        return "its path is the webhook's secret (Slack, Discord or a Telegram bot token)"
    for name, _value in parse_qsl(parts.query, keep_blank_values=True):
        if re.sub(r"[-_]", "", name.lower()) in SECRET_QUERY_KEYS:
            return f"its query carries a credential ({name}=...)"
    if parts.fragment and "token" in parts.fragment.lower():
        return "its fragment carries a token"
    return None
