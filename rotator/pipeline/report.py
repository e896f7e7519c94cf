"""The daily report's pipeline after the run: build its content, write it, deliver it.

`build_report` reads a stored run back with its value history, the previous day's run and the
market and macro series; `write_report` renders HTML and Markdown (atomically) and records the
report; `deliver_report` sends it to the configured targets and stores the outcome. The command
(rotator.cli.report) holds the run lock, runs stages 1-6 (rotator.pipeline.run) and calls these.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Engine

from rotator.adapters.delivery import (
    DeliveryResult,
    DeliverySettings,
    EmailTarget,
    ReportMessage,
    WebhookTarget,
    deliver,
)
from rotator.adapters.storage.coverage import stored_extents
from rotator.adapters.storage.market import load_history
from rotator.adapters.storage.report_store import save_report, set_delivery
from rotator.adapters.storage.run_queries import (
    StoredRun,
    daily_values,
    latest_run_before,
    load_run,
)
from rotator.config.portfolio import DeliveryConfig, Portfolio
from rotator.core.clock import Clock
from rotator.core.coverage import attribution
from rotator.redaction import redact
from rotator.reports.daily import DailyReport, build_daily
from rotator.reports.daily_render import render_html, render_markdown, summary_text
from rotator.reports.files import ensure_folder, write_text_safely
from rotator.reports.macro import MACRO_SERIES

if TYPE_CHECKING:
    import pandas as pd


def delivery_settings(config: DeliveryConfig) -> DeliverySettings:
    """portfolio.yaml's validated `delivery:` as the delivery adapter's frozen settings."""
    email = config.email
    return DeliverySettings(
        webhooks=tuple(
            WebhookTarget(
                name=w.name,
                format=w.format,
                url=w.url,
                url_env=w.url_env,
                bot_token_env=w.bot_token_env,
                chat_id=w.chat_id,
                api_base=w.api_base,
            )
            for w in config.webhooks
        ),
        email=None
        if email is None
        else EmailTarget(
            host=email.host,
            sender=email.sender,
            to=tuple(email.to),
            port=email.port,
            security=email.security,
            username_env=email.username_env,
            password_env=email.password_env,
        ),
        timeout_seconds=config.timeout_seconds,
        retry_delay_seconds=config.retry_delay_seconds,
    )


@dataclass(frozen=True, slots=True)
class WrittenReport:
    """A report written to disk and recorded for its day."""

    day: date
    run_id: int
    html: Path
    markdown: Path
    content: DailyReport


def redact_text_only(html: str) -> str:
    """Mask credentials in the report's text, leaving embedded chart data untouched."""
    parts = re.split(r"(data:image/png;base64,[A-Za-z0-9+/=]+)", html)
    return "".join(part if i % 2 else redact(part) for i, part in enumerate(parts))


def report_paths(directory: Path, day: date) -> tuple[Path, Path]:
    """Where the report of `day` is written: report-YYYY-MM-DD.html / .md."""
    stem = f"report-{day.isoformat()}"
    return directory / f"{stem}.html", directory / f"{stem}.md"


def write_atomically(path: Path, text: str) -> None:
    """Write via an exclusive temporary file and rename, so a reader never sees half a report
    and nothing is written through a symbolic link planted in the folder."""
    ensure_folder(path.parent)
    write_text_safely(path, text)


def market_series(
    engine: Engine, day: date, fallback: Any = None
) -> tuple[list[tuple[date, float]], list[tuple[date, float]]]:
    """BTC daily closes and BTC dominance up to `day`, from the market store.

    Falls back to the run's own `Snapshot.history` when the store has none (e.g. history
    loaded from bundled files for the demo).
    """
    names = ("close:BTC", "btc_dominance")
    found: Mapping[str, Any] = load_history(engine, names, as_of=day)
    if fallback:
        found = {name: found.get(name, fallback.get(name)) for name in names}

    def points(name: str) -> list[tuple[date, float]]:
        series = found.get(name)
        if series is None:
            return []
        return [
            (cast("pd.Timestamp", stamp).date(), float(value))  # indexed by day
            for stamp, value in series.items()
            if cast("pd.Timestamp", stamp).date() <= day and value == value  # drop NaN
        ]

    return points("close:BTC"), points("btc_dominance")


def macro_series(engine: Engine, day: date, fallback: Any = None) -> dict[str, Any]:
    """The macro panel's series (reports.macro.MACRO_SERIES) up to `day`, from the store."""
    found = dict(load_history(engine, MACRO_SERIES, as_of=day))
    for name in MACRO_SERIES:
        if name not in found and fallback and fallback.get(name) is not None:
            found[name] = fallback[name]
    return found


def build_report(engine: Engine, stored: StoredRun, history_fallback: Any = None) -> DailyReport:
    """The report content of a stored run: with its value history, yesterday and the market."""
    day = stored.summary.day
    previous_summary = latest_run_before(engine, day, on_or_before=False)
    previous = load_run(engine, previous_summary.id) if previous_summary else None
    # The market charts show the history the rules read: as of their evaluation day.
    rules = stored.plan.rules
    market_day = day if rules is None else rules.as_of
    btc, dominance = market_series(engine, market_day, history_fallback)
    macro = macro_series(engine, market_day, history_fallback)
    charted = stored_extents(engine, ("close:BTC", "btc_dominance", *MACRO_SERIES))
    sources = tuple(attribution(n, e.sources) for n, e in charted.items() if e.sources)
    return build_daily(
        stored.plan,
        day=day,
        run_id=stored.id,
        complete=stored.summary.complete,
        previous=previous.plan if previous else None,
        value_history=daily_values(engine, until=day),
        btc_closes=btc,
        dominance=dominance,
        macro_history=macro,
        market_day=market_day,
        sources=sources,
    )


def write_report(
    engine: Engine,
    stored: StoredRun,
    directory: Path,
    written_at: datetime,
    history_fallback: Any = None,
) -> WrittenReport:
    """Render a stored run's report to HTML and Markdown and record it as its day's report,
    written at `written_at` (the run's time)."""
    content = build_report(engine, stored, history_fallback)
    html_path, md_path = report_paths(directory, content.day)
    # Problem texts may quote exchange errors: mask any credential before it reaches a file.
    write_atomically(html_path, redact_text_only(render_html(content)))
    write_atomically(md_path, redact(render_markdown(content)))
    save_report(engine, content.day, stored.id, str(html_path), str(md_path), created_at=written_at)
    return WrittenReport(content.day, stored.id, html_path, md_path, content)


def deliver_report(
    engine: Engine,
    written: WrittenReport,
    portfolio: Portfolio | None,
    environ: Mapping[str, str],
    clock: Clock,
) -> list[DeliveryResult]:
    """Send the written report to portfolio.yaml's `delivery:` targets (a retry waits on
    `clock`); store the outcome."""
    if portfolio is None or not (portfolio.delivery.webhooks or portfolio.delivery.email):
        return []
    content = written.content
    message = ReportMessage(
        subject=content.title,
        summary=summary_text(content),
        day=content.day.isoformat(),
        html_path=written.html,
        markdown_path=written.markdown,
        total_value=None if content.total_value is None else str(content.total_value),
        base_currency=content.base_currency,
        regime=content.regime,
        order_count=len(content.orders),
        complete=content.complete,
    )
    results = deliver(delivery_settings(portfolio.delivery), message, environ=environ, clock=clock)
    set_delivery(
        engine,
        written.day,
        [
            {"target": r.target, "ok": r.ok, "attempts": r.attempts, "error": r.error}
            for r in results
        ],
    )
    return results
