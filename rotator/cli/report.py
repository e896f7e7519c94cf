"""`rotator report`: run the pipeline, store the run, write today's HTML + Markdown report.

Safe to run unattended (cron, systemd timer): one run at a time (a file lock in the data dir;
an overlapping run waits, then exits 4), one transaction per run, one report per day (a second
run the same day leaves the existing report alone unless `--force`), files replaced atomically,
and delivery only after the report is written and recorded.
"""

from __future__ import annotations

import os
import re
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from rotator.cli.options import config_option
from rotator.errors import ExitCode
from rotator.redaction import install_logging, redact

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from rotator.adapters.delivery import DeliveryResult
    from rotator.adapters.storage.run_queries import StoredRun
    from rotator.config.portfolio import Portfolio
    from rotator.reports.daily import DailyReport

DEMO_DB = "demo.sqlite3"


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
    """Write via a temporary file and rename, so a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def market_series(
    engine: Engine, day: date, fallback: Any = None
) -> tuple[list[tuple[date, float]], list[tuple[date, float]]]:
    """BTC daily closes and BTC dominance up to `day`, from the market store.

    Falls back to the run's own `Snapshot.history` when the store has none (e.g. history
    loaded from bundled files for the demo).
    """
    from rotator.adapters.storage.market import load_history

    names = ("close:BTC", "btc_dominance")
    found = load_history(engine, names, as_of=day)
    if fallback:
        found = {name: found.get(name, fallback.get(name)) for name in names}

    def points(name: str) -> list[tuple[date, float]]:
        series = found.get(name)
        if series is None:
            return []
        return [
            (stamp.date(), float(value))
            for stamp, value in series.items()
            if stamp.date() <= day and value == value  # drop NaN
        ]

    return points("close:BTC"), points("btc_dominance")


def macro_series(engine: Engine, day: date, fallback: Any = None) -> dict[str, Any]:
    """The macro panel's series (reports.macro.MACRO_SERIES) up to `day`, from the store."""
    from rotator.adapters.storage.market import load_history
    from rotator.reports.macro import MACRO_SERIES

    found = load_history(engine, MACRO_SERIES, as_of=day)
    for name in MACRO_SERIES:
        if name not in found and fallback and fallback.get(name) is not None:
            found[name] = fallback[name]
    return found


def build_report(engine: Engine, stored: StoredRun, history_fallback: Any = None) -> DailyReport:
    """The report content of a stored run: with its value history, yesterday and the market."""
    from rotator.adapters.storage.run_queries import daily_values, latest_run_before, load_run
    from rotator.reports.daily import build_daily

    day = stored.summary.day
    previous_summary = latest_run_before(engine, day, on_or_before=False)
    previous = load_run(engine, previous_summary.id) if previous_summary else None
    # The market charts show the history the rules read: as of their evaluation day.
    rules_day = stored.plan.details.get("rules_as_of")
    market_day = date.fromisoformat(rules_day) if isinstance(rules_day, str) else day
    btc, dominance = market_series(engine, market_day, history_fallback)
    macro = macro_series(engine, market_day, history_fallback)
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
    )


def write_report(
    engine: Engine, stored: StoredRun, directory: Path, history_fallback: Any = None
) -> WrittenReport:
    """Render a stored run's report to HTML and Markdown and record it as its day's report."""
    from rotator.adapters.storage.report_store import save_report
    from rotator.reports.daily_render import render_html, render_markdown

    content = build_report(engine, stored, history_fallback)
    html_path, md_path = report_paths(directory, content.day)
    # Problem texts may quote exchange errors: mask any credential before it reaches a file.
    write_atomically(html_path, redact_text_only(render_html(content)))
    write_atomically(md_path, redact(render_markdown(content)))
    save_report(engine, content.day, stored.id, str(html_path), str(md_path))
    return WrittenReport(content.day, stored.id, html_path, md_path, content)


def _now(text: str | None) -> datetime:
    from rotator.cli.options import parse_now

    return parse_now(text) if text else datetime.now(UTC)


def _reports_dir(portfolio: Portfolio | None, config: Path | None, demo: bool) -> Path:
    from rotator.config.paths import data_dir

    if demo or portfolio is None:
        return data_dir() / "demo-reports"
    directory = portfolio.reports.directory
    if directory is None:
        return data_dir() / "reports"
    directory = directory.expanduser()
    if not directory.is_absolute() and config is not None:
        directory = config.resolve().parent / directory
    return directory


def _deliver(
    engine: Engine, written: WrittenReport, portfolio: Portfolio | None
) -> list[DeliveryResult]:
    from rotator.adapters.delivery import ReportMessage, deliver
    from rotator.adapters.storage.report_store import set_delivery
    from rotator.reports.daily_render import summary_text

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
    results = deliver(portfolio.delivery, message, environ=dict(os.environ))
    set_delivery(
        engine,
        written.day,
        [
            {"target": r.target, "ok": r.ok, "attempts": r.attempts, "error": r.error}
            for r in results
        ],
    )
    return results


@click.command()
@config_option("portfolio.yaml to read (default: ./portfolio.yaml or $ROTATOR_CONFIG).")
@click.option(
    "--demo",
    is_flag=True,
    help="Bundled recorded exchange data, offline; uses <data dir>/demo.sqlite3, never your DB.",
)
@click.option("--run", "run_id", type=int, default=None, help="Rebuild the report of a stored run.")
@click.option("--force", is_flag=True, help="Rebuild today's report even if it exists.")
@click.option("--db", "db_url", default=None, help="SQLAlchemy URL (default: $ROTATOR_DB_URL).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder for the report files (default: reports.directory, else <data dir>/reports).",
)
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=600,
    show_default=True,
    help="Seconds to wait for another running rotator to finish before giving up (exit 4).",
)
@click.option("--no-deliver", is_flag=True, help="Write the report but send nothing.")
@click.option("--now", "now_text", default=None, hidden=True, help="Clock override (simulations).")
def report(
    config_path: Path | None,
    demo: bool,
    run_id: int | None,
    force: bool,
    db_url: str | None,
    out_dir: Path | None,
    wait: float,
    no_deliver: bool,
    now_text: str | None,
) -> None:
    """Run, store the run, and write today's report (HTML with charts, and Markdown).

    Exit codes: 0 written (or already written today), 2 configuration error, 3 written but the
    run was incomplete (see its warnings), 4 another run holds the lock, 5 written but
    delivery failed after a retry.
    """
    install_logging()
    from rotator.adapters.runlock import run_lock
    from rotator.adapters.storage.db import database_lock, default_db_url, open_engine
    from rotator.adapters.storage.report_store import report_for
    from rotator.adapters.storage.run_queries import load_run
    from rotator.config.paths import data_dir
    from rotator.config.portfolio import default_config_path, load_portfolio

    now = _now(now_text)
    portfolio = None
    config = None
    if not demo:
        config = config_path or default_config_path()
        if run_id is None or config.exists():
            portfolio = load_portfolio(config)
    directory = out_dir or _reports_dir(portfolio, config, demo)
    url = db_url or (f"sqlite:///{data_dir() / DEMO_DB}" if demo else default_db_url())

    # One run at a time per report folder and per database (not per data dir).
    with run_lock(directory, wait), ExitStack() as stack:
        if demo:
            from rotator.demo.history import demo_engine

            engine = demo_engine(url)  # with the bundled market history loaded
        else:
            engine = open_engine(url)
        stack.callback(engine.dispose)
        stack.enter_context(database_lock(engine, wait))
        history = None
        if run_id is not None:
            stored = load_run(engine, run_id)
            if stored is None:
                raise click.BadParameter(
                    f"no stored run with id {run_id} (see `rotator history list`)",
                    param_hint="--run",
                )
        else:
            existing = report_for(engine, now.date())
            if existing and not force and Path(existing.html_path).exists():
                click.echo(
                    f"report for {now.date()} already written: {existing.html_path}\n"
                    f"(run #{existing.run_id}; use --force to rebuild it from a fresh run)"
                )
                return
            from rotator.pipeline.run import run_plan, store_run

            rules_as_of = None
            if demo:
                from rotator.demo import demo_session
                from rotator.demo.history import DEMO_AS_OF

                portfolio, environ = stack.enter_context(demo_session())
                rules_as_of = DEMO_AS_OF  # the bundled history ends in 2021
            else:
                environ = dict(os.environ)
            assert portfolio is not None
            result = run_plan(
                portfolio,
                environ=environ,
                now=lambda: now,
                engine=engine,
                rules_as_of=rules_as_of,
                cache_markets=not demo,
            )
            history = result.snapshot.history
            new_id = store_run(engine, portfolio, result, kind="report")
            stored = load_run(engine, new_id)
            assert stored is not None
        written = write_report(engine, stored, directory, history)
        click.echo(f"report {written.day} (run #{written.run_id}):")
        click.echo(f"  html:     {written.html}")
        click.echo(f"  markdown: {written.markdown}")
        for warning in written.content.warnings:
            click.echo(f"  {warning.severity.value}: {warning}", err=True)
        results = [] if no_deliver or demo else _deliver(engine, written, portfolio)

    failed = [r for r in results if not r.ok]
    for r in results:
        status = "sent" if r.ok else f"FAILED after {r.attempts} attempt(s): {r.error}"
        click.echo(f"  delivery {r.target}: {status}", err=not r.ok)
    if not written.content.complete:
        click.echo("run incomplete: the report lists what is missing (exit 3)", err=True)
        raise SystemExit(ExitCode.INCOMPLETE)
    if failed:
        click.echo("delivery failed; the report files are kept (exit 5)", err=True)
        raise SystemExit(ExitCode.DELIVERY_FAILED)
