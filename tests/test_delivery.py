"""Delivery against real local receivers on 127.0.0.1: an HTTP server and an SMTP server."""

from __future__ import annotations

import email
import json
import socket
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from fake_clock import FakeClock
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from rotator.adapters.delivery import ReportMessage, deliver
from rotator.config.portfolio import DeliveryConfig, EmailTarget, WebhookTarget
from rotator.core.clock import Clock
from rotator.pipeline.report import delivery_settings

SECRET = "sentinel-SECRET-9f8e7d"


@pytest.fixture
def message(tmp_path: Path) -> ReportMessage:
    html = tmp_path / "2026-03-30.html"
    html.write_text("<html><body><h1>report</h1></body></html>", encoding="utf-8")
    md = tmp_path / "2026-03-30.md"
    md.write_text("# report\n", encoding="utf-8")
    return ReportMessage(
        subject="rotator daily report 2026-03-30",
        summary="rotator daily report 2026-03-30: 100,000.00 USD\nSuggested orders (dry run): 2",
        day="2026-03-30",
        html_path=html,
        markdown_path=md,
        total_value="100000",
        base_currency="USD",
        regime="accumulate",
        order_count=2,
        complete=True,
    )


def recording_clock() -> Clock:
    """A clock whose waits are recorded, never slept."""
    return FakeClock().clock


def test_generic_slack_and_discord_webhooks(httpserver: HTTPServer, message) -> None:
    for path in ("/generic", "/slack", "/discord"):
        httpserver.expect_request(path, method="POST").respond_with_data("ok")
    config = DeliveryConfig(
        webhooks=(
            WebhookTarget(format="generic", url=httpserver.url_for("/generic")),
            WebhookTarget(format="slack", url_env="SLACK_URL"),
            WebhookTarget(name="team", format="discord", url=httpserver.url_for("/discord")),
        )
    )
    results = deliver(
        delivery_settings(config),
        message,
        environ={"SLACK_URL": httpserver.url_for("/slack")},
        clock=recording_clock(),
    )
    assert [(r.target, r.ok, r.attempts) for r in results] == [
        ("webhook generic", True, 1),
        ("webhook slack", True, 1),
        ("webhook team", True, 1),
    ]
    bodies = {req.path: json.loads(req.get_data()) for req, _ in httpserver.log}
    assert bodies["/generic"]["report_html"] == str(message.html_path)
    assert bodies["/generic"]["orders"] == 2
    assert bodies["/generic"]["total_value"] == "100000"
    assert bodies["/slack"]["text"].startswith("rotator daily report 2026-03-30: 100,000.00 USD")
    assert str(message.html_path) in bodies["/slack"]["text"]
    assert "2026-03-30.html" in bodies["/discord"]["content"]


def test_telegram_send_message(httpserver: HTTPServer, message) -> None:
    token = "123456:" + SECRET
    httpserver.expect_request(f"/bot{token}/sendMessage", method="POST").respond_with_json(
        {"ok": True, "result": {"message_id": 1}}
    )
    config = DeliveryConfig(
        webhooks=(
            WebhookTarget(
                format="telegram",
                bot_token_env="TG_TOKEN",
                chat_id="-100200",
                api_base=httpserver.url_for("/"),
            ),
        )
    )
    results = deliver(
        delivery_settings(config), message, environ={"TG_TOKEN": token}, clock=recording_clock()
    )
    assert results[0].ok, results[0].error
    body = json.loads(httpserver.log[0][0].get_data())
    assert body["chat_id"] == "-100200"
    assert "100,000.00 USD" in body["text"]


def test_failed_webhook_is_retried_once_and_reported_without_secret(
    httpserver: HTTPServer, message
) -> None:
    token = "123456:" + SECRET
    httpserver.expect_request(f"/bot{token}/sendMessage").respond_with_data(
        f"upstream broke for bot{token}", status=502
    )
    fake = FakeClock()
    config = DeliveryConfig(
        webhooks=(
            WebhookTarget(
                format="telegram",
                bot_token_env="TG_TOKEN",
                chat_id="1",
                api_base=httpserver.url_for("/"),
            ),
        ),
        retry_delay_seconds=7,
    )
    results = deliver(
        delivery_settings(config), message, environ={"TG_TOKEN": token}, clock=fake.clock
    )
    assert len(httpserver.log) == 2  # first try and one retry
    assert fake.waits == [7]
    assert results[0].ok is False and results[0].attempts == 2
    assert "HTTP 502" in results[0].error
    assert SECRET not in results[0].error
    assert message.html_path.exists()  # never loses the report


def test_retry_succeeds_after_one_failure(httpserver: HTTPServer, message) -> None:
    calls = {"n": 0}

    def flaky(_request: Request) -> Response:
        calls["n"] += 1
        return Response("busy", status=503) if calls["n"] == 1 else Response("ok")

    httpserver.expect_request("/hook").respond_with_handler(flaky)
    config = DeliveryConfig(webhooks=(WebhookTarget(url=httpserver.url_for("/hook")),))
    results = deliver(delivery_settings(config), message, environ={}, clock=recording_clock())
    assert (results[0].ok, results[0].attempts) == (True, 2)


def test_unreachable_webhook_and_missing_env(message) -> None:
    config = DeliveryConfig(
        webhooks=(
            WebhookTarget(name="down", url="http://127.0.0.1:9/hook"),
            WebhookTarget(name="unset", format="slack", url_env="ROTATOR_TEST_UNSET_URL"),
        ),
        timeout_seconds=2,
    )
    results = deliver(delivery_settings(config), message, environ={}, clock=recording_clock())
    assert (results[0].ok, results[0].attempts) == (False, 2)
    assert "ConnectError" in results[0].error
    # a missing variable will not appear by retrying: reported at once
    assert (results[1].ok, results[1].attempts) == (False, 1)
    assert results[1].error == "environment variable ROTATOR_TEST_UNSET_URL is not set"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.password == SECRET.encode()
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    port = free_port()  # aiosmtpd's readiness check cannot use port 0
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_email_with_html_attached(smtp_server, message) -> None:
    inbox, port = smtp_server
    config = DeliveryConfig(
        email=EmailTarget(
            host="127.0.0.1",
            port=port,
            security="none",
            username_env="SMTP_USER",
            password_env="SMTP_PASSWORD",
            sender="rotator@example.org",
            to=("me@example.org", "you@example.org"),
        )
    )
    environ = {"SMTP_USER": "rotator", "SMTP_PASSWORD": SECRET}
    results = deliver(delivery_settings(config), message, environ=environ, clock=recording_clock())
    assert results[0].ok, results[0].error
    mail_from, rcpt, content = inbox.messages[0]
    assert mail_from == "rotator@example.org"
    assert rcpt == ["me@example.org", "you@example.org"]
    parsed = email.message_from_bytes(content)
    assert parsed["Subject"] == "rotator daily report 2026-03-30"
    attachments = [p for p in parsed.walk() if p.get_filename()]
    assert [a.get_filename() for a in attachments] == ["2026-03-30.html"]
    assert attachments[0].get_content_type() == "text/html"
    assert b"<h1>report</h1>" in attachments[0].get_payload(decode=True)
    assert SECRET.encode() not in content


def test_email_bad_password_fails_without_retry_or_leak(smtp_server, message) -> None:
    inbox, port = smtp_server
    config = DeliveryConfig(
        email=EmailTarget(
            host="127.0.0.1",
            port=port,
            security="none",
            username_env="SMTP_USER",
            password_env="SMTP_PASSWORD",
            sender="rotator@example.org",
            to=("me@example.org",),
        )
    )
    wrong = "wrong-" + SECRET
    results = deliver(
        delivery_settings(config),
        message,
        environ={"SMTP_USER": "u", "SMTP_PASSWORD": wrong},
        clock=recording_clock(),
    )
    assert (results[0].ok, results[0].attempts) == (False, 1)
    assert "SMTPAuthenticationError" in results[0].error
    assert wrong not in results[0].error
    assert inbox.messages == []


def test_smtp_server_down_is_retried(message) -> None:
    config = DeliveryConfig(
        email=EmailTarget(host="127.0.0.1", port=9, security="none", sender="a@b.c", to=("d@e.f",)),
        timeout_seconds=2,
    )
    results = deliver(delivery_settings(config), message, environ={}, clock=recording_clock())
    assert (results[0].ok, results[0].attempts) == (False, 2)


def test_malformed_url_is_a_reported_failure(message) -> None:
    config = DeliveryConfig(webhooks=(WebhookTarget(name="typo", url="htp:/nowhere"),))
    results = deliver(delivery_settings(config), message, environ={}, clock=recording_clock())
    assert results[0].ok is False
    assert results[0].error
