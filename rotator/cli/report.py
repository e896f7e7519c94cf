"""`rotator report`: run the pipeline, store the run, write today's HTML + Markdown report.

Safe to run unattended (cron, systemd timer): one run at a time per report folder and per
database (file locks, an advisory lock on PostgreSQL; an overlapping run waits, then exits 4),
one transaction per run, one report per day (a second run the same day leaves the existing
report alone unless `--force`), files replaced atomically, and delivery only after the report
is written and recorded.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import click

from rotator.cli.options import (
    config_option,
    db_option,
    demo_option,
    now_option,
    out_option,
    quiet_option,
)
from rotator.cli.output import echo
from rotator.cli.progress import show_progress
from rotator.cli.session import open_session
from rotator.errors import ExitCode
from rotator.pipeline.store import database_lock, load_run, report_for, run_lock
from rotator.redaction import install_logging


@click.command()
@config_option
@demo_option
@click.option("--run", "run_id", type=int, default=None, help="Rebuild the report of a stored run.")
@click.option("--force", is_flag=True, help="Rebuild today's report even if it exists.")
@db_option
@out_option
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=600,
    show_default=True,
    help="Seconds to wait for another running rotator to finish before giving up (exit 4).",
)
@click.option("--no-deliver", is_flag=True, help="Write the report but send nothing.")
@now_option
@quiet_option
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
    quiet: bool,
) -> None:
    """Run, store the run, and write today's report (HTML with charts, and Markdown).

    Exit codes: 0 written (or already written today), 2 configuration error, 3 written but the
    run was incomplete (see its warnings), 4 another run holds the lock, 5 written but
    delivery failed after a retry.
    """
    install_logging()
    with ExitStack() as stack:
        s = stack.enter_context(
            open_session(demo=demo, config_path=config_path, db_url=db_url, now_text=now_text)
        )
        now = s.now()
        if s.dates_note:
            click.echo(s.dates_note, err=True)
        # A stored run's report needs no portfolio.yaml; when there is one, it says where
        # reports go and where they are delivered.
        directory = out_dir or s.reports_dir
        # One run at a time per report folder and per database (not per data dir); a wait
        # for another run's lock is announced on stderr (rotator.cli.progress).
        with show_progress(quiet):
            stack.enter_context(run_lock(directory, wait))
            engine = s.engine()
            stack.enter_context(database_lock(engine, wait, s.clock))
        # Imported once the database has opened and the locks are held: a damaged database or
        # a held lock is reported without waiting for ccxt, pandas and the solver to import.
        from rotator.pipeline.report import deliver_report, write_report
        from rotator.pipeline.run import run_plan

        history = None
        stored = None
        copied = False  # today's stored run written to another --out folder: not re-sent
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
                elsewhere = out_dir is not None and (
                    Path(existing.html_path).parent.resolve() != directory.resolve()
                )
                if not elsewhere:
                    echo(
                        f"report for {now.date()} already written: {existing.html_path}\n"
                        f"(run #{existing.run_id}; use --force to rebuild it from a fresh run)",
                        err=True,
                    )
                    return
                # --out names another folder: today's report (of the same run) goes there.
                found = load_run(engine, existing.run_id)
                assert found is not None
                stored, copied = found, True
        if stored is None:
            result = run_plan(
                s.portfolio,
                environ=s.environ,
                settings=s.settings,
                clock=s.clock.frozen_at(now),
                engine=engine,
                rules_as_of=s.rules_as_of,
                market_cache=s.market_cache,
                save_to=engine,
                kind="report",
            )
            history = result.snapshot.history
            assert result.run_id is not None
            stored = load_run(engine, result.run_id)
            assert stored is not None
        written = write_report(engine, stored, directory, now, history)
        # Confirmations, like every message: stderr (the report is in the files).
        echo(f"report {written.day} (run #{written.run_id}):", err=True)
        echo(f"  html:     {written.html}", err=True)
        echo(f"  markdown: {written.markdown}", err=True)
        for warning in written.content.warnings:
            echo(f"  {warning.severity.value}: {warning}", err=True)
        results = []
        if s.deliver and not no_deliver and not copied and s.has_portfolio:
            results = deliver_report(engine, written, s.portfolio, s.environ, s.clock)

    failed = [r for r in results if not r.ok]
    for r in results:
        status = "sent" if r.ok else f"FAILED after {r.attempts} attempt(s): {r.error}"
        echo(f"  delivery {r.target}: {status}", err=True)
    if not written.content.complete:
        echo("run incomplete: the report lists what is missing (exit 3)", err=True)
        raise SystemExit(ExitCode.INCOMPLETE)
    if failed:
        echo("delivery failed; the report files are kept (exit 5)", err=True)
        raise SystemExit(ExitCode.DELIVERY_FAILED)
