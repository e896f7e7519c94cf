"""The TLS settings every HTTP client of rotator shares.

Building a TLS context reads the whole CA bundle (about 30 ms); a run opens a client per API and
chain endpoint, so they share one context, built the way httpx builds its default (certifi's
bundle, or SSL_CERT_FILE / SSL_CERT_DIR when set).
"""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def client_context() -> ssl.SSLContext:
    """The verifying TLS context of every HTTP client (built once per process)."""
    return httpx.create_ssl_context()
