"""Send the daily report: webhooks (generic JSON, Slack, Discord, Telegram) and e-mail (SMTP).

Delivery comes after the report files are written and recorded, so a failure here never loses
a report: each target is tried, retried once after `retry_delay_seconds`, and its outcome is
returned (and stored with the report) for the command to show. Secrets (webhook URLs, bot
tokens, SMTP passwords) are read from the environment variables the config names, registered
for redaction, and never appear in results or messages. Base URLs and SMTP hosts come from
the config, so tests point them at servers on 127.0.0.1.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from rotator.core.clock import Clock
from rotator.redaction import redact, register_secret, register_secret_url


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """One webhook (validated from portfolio.yaml's `delivery.webhooks`); secrets by NAME."""

    name: str | None = None
    format: str = "generic"  # generic, slack, discord, telegram
    url: str | None = None
    url_env: str | None = None
    bot_token_env: str | None = None
    chat_id: str | None = None
    api_base: str = "https://api.telegram.org"

    @property
    def label(self) -> str:
        return self.name or self.format


@dataclass(frozen=True, slots=True)
class EmailTarget:
    """The SMTP target (validated from portfolio.yaml's `delivery.email`); secrets by NAME."""

    host: str
    sender: str
    to: tuple[str, ...]
    port: int = 587
    security: str = "starttls"  # starttls, ssl, none
    username_env: str | None = None
    password_env: str | None = None


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    """Where to send the report, and how patiently."""

    webhooks: tuple[WebhookTarget, ...] = ()
    email: EmailTarget | None = None
    timeout_seconds: float = 15
    retry_delay_seconds: float = 5


# Message size limits of the chat APIs (characters of text).
DISCORD_LIMIT = 2000
TELEGRAM_LIMIT = 4096


@dataclass(frozen=True, slots=True)
class ReportMessage:
    """What is sent about a report: a summary and where the files are."""

    subject: str
    summary: str
    day: str
    html_path: Path
    markdown_path: Path
    total_value: str | None
    base_currency: str
    regime: str | None
    order_count: int
    complete: bool

    def text(self) -> str:
        """Plain text for chat messages and the mail body."""
        return f"{self.summary}\nReport: {self.html_path}"


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """The outcome for one target: ok after how many attempts, or the (redacted) error."""

    target: str
    ok: bool
    attempts: int
    error: str | None = None


class DeliveryFailed(Exception):
    """One attempt failed; `retry` says whether another attempt could help."""

    def __init__(self, message: str, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


def _env(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name)
    if not value:
        raise DeliveryFailed(f"environment variable {name} is not set", retry=False)
    register_secret(value)
    return value


def webhook_request(
    target: WebhookTarget, message: ReportMessage, environ: Mapping[str, str]
) -> tuple[str, dict[str, Any]]:
    """The URL and JSON body to POST for a webhook target."""
    text = message.text()
    if target.format == "telegram":
        token = _env(environ, target.bot_token_env or "")
        url = f"{target.api_base.rstrip('/')}/bot{token}/sendMessage"
        body: dict[str, Any] = {
            "chat_id": target.chat_id,
            "text": text[:TELEGRAM_LIMIT],
            "disable_web_page_preview": True,
        }
        return url, body
    url = _env(environ, target.url_env) if target.url_env else (target.url or "")
    if target.url_env:
        register_secret_url(url)  # a webhook URL: its path segments and query are secret too
    if target.format == "slack":
        body = {"text": text}
    elif target.format == "discord":
        body = {"content": text[:DISCORD_LIMIT]}
    else:
        body = {
            "title": message.subject,
            "summary": message.summary,
            "day": message.day,
            "complete": message.complete,
            "total_value": message.total_value,
            "base_currency": message.base_currency,
            "regime": message.regime,
            "orders": message.order_count,
            "report_html": str(message.html_path),
            "report_markdown": str(message.markdown_path),
        }
    return url, body


def post_webhook(
    target: WebhookTarget, message: ReportMessage, environ: Mapping[str, str], timeout: float
) -> None:
    """POST the message to one webhook; raises DeliveryFailed on any error or non-2xx."""

    url, body = webhook_request(target, message, environ)
    try:
        response = httpx.post(url, json=body, timeout=timeout)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from None
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(f"HTTP {response.status_code}: {response.text[:200]}")
    if target.format == "telegram":
        try:
            ok = response.json().get("ok")
        except ValueError:
            ok = False
        if not ok:
            raise DeliveryFailed(f"Telegram answered without ok: {response.text[:200]}")


def send_email(
    target: EmailTarget, message: ReportMessage, environ: Mapping[str, str], timeout: float
) -> None:
    """Mail the summary with the HTML report attached; raises DeliveryFailed on error."""
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = target.sender
    mail["To"] = ", ".join(target.to)
    mail.set_content(message.text() + "\n\nThe full report is attached (HTML).\n")
    html = message.html_path.read_bytes()
    mail.add_attachment(html, maintype="text", subtype="html", filename=message.html_path.name)
    username = _env(environ, target.username_env) if target.username_env else None
    password = _env(environ, target.password_env) if target.password_env else None
    try:
        if target.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                target.host, target.port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(target.host, target.port, timeout=timeout)
        with client:
            if target.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if username is not None:
                client.login(username, password or "")
            client.send_message(mail)
    except (smtplib.SMTPException, OSError) as exc:
        retry = not isinstance(exc, smtplib.SMTPAuthenticationError)
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}", retry=retry) from None


def _attempt(label: str, send: Callable[[], None], delay: float, clock: Clock) -> DeliveryResult:
    """Try once, and once more after `delay` when the failure may be temporary."""
    error = ""
    for attempt in (1, 2):
        try:
            send()
            return DeliveryResult(label, True, attempt)
        except DeliveryFailed as exc:
            error = redact(str(exc))
            if not exc.retry:
                return DeliveryResult(label, False, attempt, error)
        except Exception as exc:  # a delivery bug must not take the written report down with it
            error = redact(f"{type(exc).__name__}: {exc}")
        if attempt == 1:
            clock.sleep(delay)
    return DeliveryResult(label, False, 2, error)


def deliver(
    config: DeliverySettings,
    message: ReportMessage,
    *,
    environ: Mapping[str, str],
    clock: Clock,
) -> list[DeliveryResult]:
    """Send the report to every configured target; one result per target, failures included.

    A failure that may be temporary is tried once more after the configured delay, waited on
    `clock` (tests pass one that records the wait)."""
    results = []
    timeout = config.timeout_seconds
    for target in config.webhooks:
        results.append(
            _attempt(
                f"webhook {target.label}",
                partial(post_webhook, target, message, environ, timeout),
                config.retry_delay_seconds,
                clock,
            )
        )
    if config.email is not None:
        email = config.email
        results.append(
            _attempt(
                f"email to {', '.join(email.to)}",
                lambda: send_email(email, message, environ, timeout),
                config.retry_delay_seconds,
                clock,
            )
        )
    return results
