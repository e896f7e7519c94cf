"""Keep secrets out of every output: messages, logs and tracebacks.

Credential values are registered here when they are read from the environment; `redact`
replaces them, and the request headers/parameters ccxt may echo in errors, with "***".
"""

from __future__ import annotations

import logging
import re
import sys
import traceback

REDACTED = "***"
_secrets: set[str] = set()

# Header and query patterns that carry credentials on common exchanges (ccxt echoes requests
# in some error messages): Binance X-MBX-APIKEY and signature=, Kraken API-Key/API-Sign,
# OKX/KuCoin/Coinbase *-ACCESS-* headers, generic Authorization.
_PATTERNS = [
    re.compile(
        r"(?i)(['\"]?(?:x-mbx-apikey|api-key|api-sign|apikey|authorization|"
        r"[a-z]*-access-(?:key|sign|passphrase)|x-api-key|x-cg-(?:demo|pro)-api-key|"
        r"secret|password|passphrase)['\"]?\s*[:=]\s*['\"]?)([^'\"\s,&}]+)"
    ),
    re.compile(r"(?i)((?:signature|sign|api_key|apikey|key)=)([^&\s'\"]+)"),
]


def register_secret(value: str | None) -> None:
    """Remember a credential value so that `redact` removes it wherever it appears."""
    if value and len(value) >= 4:
        _secrets.add(value)


def redact(text: str) -> str:
    """Return `text` with registered secrets and credential-bearing fields masked."""
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the formatted message of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = redact(message)
        record.args = None
        if record.exc_info:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)))
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
    sys.stderr.write(redact(text))
    sys.stderr.write("rotator: unexpected error (exit code 1); please report it with the above.\n")
