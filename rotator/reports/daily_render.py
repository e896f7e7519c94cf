"""The daily report's rendering: DailyReport -> HTML (one self-contained file, charts
embedded), Markdown, and a few summary lines for chat and mail, via jinja2.

Templates live in rotator/reports/templates/. The HTML has no external resource at all (inline
CSS, charts as data URIs), so it opens offline, from a mail attachment, or from a file share.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from rotator.reports.charts import Chart, report_charts
from rotator.reports.daily import DailyReport

TEMPLATES = Path(__file__).parent / "templates"
DRY_RUN = "DRY RUN: suggested orders only. rotator never places, cancels or edits an order."


def money(value: Decimal | float | None, places: int = 2) -> str:
    """1234.5 -> '1,234.50'; None -> 'unknown'."""
    return "unknown" if value is None else f"{Decimal(str(value)):,.{places}f}"


def signed(value: Decimal | float | None, places: int = 2) -> str:
    """A change with its sign: '+1,234.50' / '-3.20'; None -> 'n/a'."""
    return "n/a" if value is None else f"{Decimal(str(value)):+,.{places}f}"


def pct(value: Decimal | float | None, places: int = 1) -> str:
    """A fraction as a percentage: 0.1234 -> '12.3%'."""
    return "-" if value is None else f"{Decimal(str(value)) * 100:.{places}f}%"


def plain(value: Decimal) -> str:
    """A Decimal without exponent or trailing zeros ('1E-8' -> '0.00000001')."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def code(value: Any) -> Markup:
    """Escaped text with `backticked` spans as <code> (HTML): messages quote commands so."""
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(str(value)))))


def md(value: Any) -> str:
    """Text safe inside a Markdown table cell."""
    return str(value).replace("|", "\\|").replace("\n", " ")


@cache
def _environment(autoescape: bool) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=autoescape,  # on for HTML: names and reasons come from exchange data
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(money=money, signed=signed, pct=pct, plain=plain, md=md, code=code)
    return env


def render_html(report: DailyReport, charts: dict[str, Chart] | None = None) -> str:
    """The report as one HTML document with its charts embedded."""
    if charts is None:
        charts = report_charts(
            report.allocation,
            report.value_history,
            report.btc,
            report.btc_level,
            report.dominance,
            report.base_currency,
        )
        if report.macro is not None:
            from rotator.reports.macro_charts import macro_charts

            charts = {**charts, **macro_charts(report.macro)}
    template = _environment(True).get_template("daily.html.j2")
    return template.render(r=report, charts=charts, dry_run=DRY_RUN)


def render_markdown(report: DailyReport) -> str:
    """The report as Markdown: the same sections, tables instead of charts."""
    template = _environment(False).get_template("daily.md.j2")
    return template.render(r=report, dry_run=DRY_RUN)


def summary_text(report: DailyReport) -> str:
    """A few lines for chat and mail: value, changes, regime, orders, warnings."""
    lines = [f"{report.title}: {money(report.total_value)} {report.base_currency}"]
    changes = ", ".join(f"{c.label} {signed(c.pct)}%" for c in report.changes if c.pct is not None)
    if changes:
        lines.append(f"Change: {changes}")
    lines.append(f"Regime: {report.regime or 'static targets'}")
    lines.append(f"Suggested orders (dry run): {len(report.orders)}")
    if report.errors:
        lines.append(f"INCOMPLETE: {len(report.errors)} data problem(s); see the report")
    elif report.warnings:
        lines.append(f"Warnings: {len(report.warnings)}")
    return "\n".join(lines)
