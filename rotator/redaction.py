"""Keep secrets out of every output: messages, logs and tracebacks.

Credential values are registered here when they are read from the environment; `redact`
replaces them in raw, base64, URL-encoded and JSON-escaped forms (short ones only as whole tokens),
and the values of credential and signature headers/parameters (found by name, in any
quoting) that ccxt or an exchange may echo in errors, with "***".
"""

from __future__ import annotations

import base64
import json
import logging
import re
import sys
import traceback
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlsplit

from rotator.errors import visible_controls

REDACTED = "***"
# Shorter values are ordinary words rather than credentials (exchange keys and secrets are 16+
# characters); masking them would garble messages.
MIN_SECRET_LENGTH = 6
_secrets: set[str] = set()
_secret_pattern: re.Pattern[str] | None = None
# A secret shorter than this is masked only as a whole token (not inside a longer word), so a
# word-like value cannot garble messages. Longer ones are random strings no word contains:
# they are masked wherever they appear, e.g. a Telegram bot token inside ".../bot<token>/".
WHOLE_TOKEN_BELOW = 16
_TOKEN_EDGE = "A-Za-z0-9"

# Request headers and parameters that carry credentials or signatures on common exchanges
# (ccxt and exchanges echo requests in some error messages), in any quoting: bare, 'single',
# "double", JSON-escaped \"double\", followed by `:` or `=`. Binance X-MBX-APIKEY and
# signature=, Kraken API-Key/API-Sign, OKX OK-ACCESS-*, Bybit X-BAPI-*, KuCoin KC-API-*,
# Bitget/Coinbase *ACCESS-*, generic Authorization.
_HEADER_NAMES = (
    r"x-mbx-apikey|api-key|api-sign|apikey|api_key|authorization|"
    r"[a-z]*-?access-(?:key|sign|passphrase)|x-bapi-(?:api-key|sign)|kc-api-(?:key|sign|passphrase)|"
    r"x-api-key|x-cg-(?:demo|pro)-api-key|secret|password|passphrase|signature|sign"
)
_QUOTE = r"""(?:\\*['"])?"""
_VALUE = r"""(?:\\/|\\u[0-9a-fA-F]{4}|[^'"\s,&}\]\\])+"""
_SCHEME = r"(?:(?:bearer|basic|token)\s+)?"
_PATTERNS = [
    re.compile(
        rf"(?i)((?<![\w.\-\[]){_QUOTE}(?:{_HEADER_NAMES}){_QUOTE}\s*[:=]\s*{_QUOTE}{_SCHEME})({_VALUE})"
    ),
]


def encoded_forms(secret: str) -> set[str]:
    """`secret` as it may appear in echoed text: raw, base64 (standard and URL-safe, with and
    without padding), each of those URL-encoded, and all of them JSON-escaped once or twice
    (an echo inside a JSON body quoted in an error message), with `\\/` and \\uXXXX."""
    raw = secret.encode()
    base = {
        secret,
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
    }
    base |= {b.rstrip("=") for b in base}
    forms = set(base)
    for value in base:
        for quoted in (quote(value, safe=""), quote_plus(value), quote(value)):
            forms |= {quoted, re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quoted)}
    for _level in range(2):
        forms |= {escaped for value in forms for escaped in _json_escaped(value)}
    return {f for f in forms if len(f) >= MIN_SECRET_LENGTH}


def _json_escaped(value: str) -> set[str]:
    escaped = {json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    return escaped | {e.replace("/", "\\/") for e in escaped}


def register_secret(value: str | None) -> None:
    """Remember a credential value so that `redact` removes it, in every encoded form."""
    global _secret_pattern
    if value and len(value) >= MIN_SECRET_LENGTH and value not in _secrets:
        _secrets.add(value)
        forms = sorted({f for s in _secrets for f in encoded_forms(s)}, key=len, reverse=True)
        anywhere = "|".join(re.escape(f) for f in forms if len(f) >= WHOLE_TOKEN_BELOW)
        tokens = "|".join(re.escape(f) for f in forms if len(f) < WHOLE_TOKEN_BELOW)
        edge = f"[{_TOKEN_EDGE}]"
        whole = f"(?<!{edge})(?:{tokens})(?!{edge})" if tokens else ""
        _secret_pattern = re.compile("|".join(p for p in (anywhere, whole) if p))


def secret_url_parts(url: str) -> set[str]:
    """The parts of a secret-bearing URL that may hold its credential.

    The whole URL with and without its scheme, the password (or the user name when there is
    none: a key given as the user), every query value, the fragment, and each path segment
    that is not a plain word: one holding a digit or at least WHOLE_TOKEN_BELOW characters
    long (an RPC key in `/v2/<key>`, Slack's `/services/T…/B…/<token>`, Discord's
    `/api/webhooks/<id>/<token>`, Telegram's `/bot<id>:<token>`). Words like `api`, `v2`,
    `services` or `webhooks` are kept readable.
    """
    url = url.strip()
    try:
        split = urlsplit(url)
        # user:password@ - the password is the secret; a user name alone may be a key
        user = split.username if not split.password else None
        parts = {p for p in (user, split.password) if p}
    except ValueError:
        return {url} if len(url) >= MIN_SECRET_LENGTH else set()
    for segment in split.path.split("/"):
        for form in {segment, unquote(segment)}:
            if len(form) >= WHOLE_TOKEN_BELOW or any(c.isdigit() for c in form):
                parts.add(form)
            if ":" in form:  # Telegram's bot<id>:<token>
                parts.add(form.split(":", 1)[1])
    parts |= {value for _name, value in parse_qsl(split.query, keep_blank_values=True)}
    parts |= {value for value in split.query.split("&") if "=" not in value}
    parts.add(split.fragment)
    parts = {p for p in parts if len(p) >= MIN_SECRET_LENGTH}
    whole = {url, url.split("//", 1)[1]} if "//" in url and parts else {url}
    return parts | {w for w in whole if len(w) >= MIN_SECRET_LENGTH}


def register_secret_url(url: str | None) -> None:
    """Remember a secret-bearing URL (an RPC endpoint or webhook from the environment) so that
    `redact` masks each of its secret parts wherever it is echoed, not only the whole URL."""
    for part in secret_url_parts(url or ""):
        register_secret(part)


def redact(text: str) -> str:
    """Return `text` with registered secrets and credential-bearing fields masked."""
    if _secret_pattern is not None:
        text = _secret_pattern.sub(REDACTED, text)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the formatted message of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = visible_controls(redact(message))  # no terminal escapes from servers
        record.args = None
        if record.exc_info:
            text = "".join(traceback.format_exception(*record.exc_info))
            record.exc_text = visible_controls(redact(text))
            record.exc_info = None
        return True


def install_logging(level: int = logging.WARNING) -> None:
    """Route logging to stderr through the redacting filter."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def print_redacted_traceback() -> None:
    """Print the current exception's traceback to stderr with secrets masked."""
    text = "".join(traceback.format_exception(*sys.exc_info()))
    sys.stderr.write(visible_controls(redact(text)))
    sys.stderr.write("rotator: unexpected error (exit code 1); please report it with the above.\n")


def shorten(text: str, keep: int = 6) -> str:
    """An address or key shortened for display, 'bc1qcr…306fyu': addresses are private."""
    return text if len(text) <= 2 * keep + 1 else f"{text[:keep]}…{text[-keep:]}"
