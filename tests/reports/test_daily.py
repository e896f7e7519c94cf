"""Report content (pure): value changes from history, drift, what changed, rules, warnings;
and the Markdown/HTML renderings carry the same content."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from conftest import AS_OF, DAY, make_plan, series

from rotator.core.records import RuleReport, RulesReport
from rotator.errors import Problem, Severity
from rotator.reports.daily import build_daily, drift_rows, rule_rows, value_changes
from rotator.reports.daily_render import render_html, render_markdown, summary_text


def history(days: int, start: int = 90000, step: int = 100) -> list[tuple[date, Decimal]]:
    """Values for the `days` days before DAY, oldest first."""
    return [(DAY - timedelta(days=days - i), Decimal(start + i * step)) for i in range(days)]


def test_value_changes_compare_with_the_last_value_on_or_before_each_window() -> None:
    past = history(40)  # DAY-40 .. DAY-1: 90000 .. 93900
    changes = {c.label: c for c in value_changes(Decimal(100000), DAY, past)}
    one = changes["1 day"]
    assert (one.since, one.then, one.delta) == (DAY - timedelta(days=1), 93900, 6100)
    assert round(one.pct, 4) == round(Decimal(6100) / 93900 * 100, 4)
    assert changes["7 days"].then == Decimal(93300)
    assert changes["30 days"].then == Decimal(91000)
    # a gap: no run 7 days ago exactly -> the last one before it
    gappy = [(d, v) for d, v in past if d != DAY - timedelta(days=7)]
    assert value_changes(Decimal(1), DAY, gappy)[1].since == DAY - timedelta(days=8)


def test_value_changes_without_enough_history() -> None:
    changes = value_changes(Decimal(100000), DAY, history(3))
    assert [c.delta is None for c in changes] == [False, True, True]
    assert all(c.delta is None for c in value_changes(None, DAY, history(40)))


def test_drift_rows_include_unheld_targets_and_cash_last() -> None:
    plan = make_plan()
    plan = replace(
        plan,
        targets=replace(plan.targets, weights={**plan.targets.weights, "SOL": Decimal("0.05")}),
    )
    rows = drift_rows(plan)
    assert [r.asset for r in rows] == ["BTC", "ETH", "SOL", "CASH"]
    sol = rows[2]
    assert (sol.weight, sol.target, sol.drift_pp) == (0, Decimal("0.05"), Decimal("-5.00"))
    assert rows[0].drift_pp == Decimal("-10.00")


def test_rule_rows_freshness_and_stale_warning() -> None:
    rules = rule_rows(make_plan().rules)
    assert [(r.name, r.state, r.age_days, r.stale) for r in rules] == [
        ("btc_above_prior_high", "false", 1, False),
        ("dominance_rolling_over", "unknown", None, True),
    ]
    old = RulesReport(
        "rules/x.yaml", DAY, (RuleReport("x", "", "true", "r", {}, date(2026, 3, 20)),)
    )
    (row,) = rule_rows(old)
    assert row.stale and row.age_days == 10
    report = build_daily(
        replace(make_plan(), rules=old),
        day=DAY,
        run_id=1,
        complete=True,
        previous=None,
        value_history=[],
    )
    assert [str(w) for w in report.warnings] == [
        "rule x: stale input: newest data is 10 days old (2026-03-20)"
    ]


def test_what_changed_since_yesterday() -> None:
    today = make_plan(rules_state="true", regime="rotate")
    yesterday = make_plan(AS_OF - timedelta(days=1), btc_weight="0.45", regime="accumulate")
    report = build_daily(
        today, day=DAY, run_id=2, complete=True, previous=yesterday, value_history=history(1)
    )
    lines = report.since_yesterday
    assert "Regime changed: accumulate -> rotate." in lines
    assert "Rule btc_above_prior_high: false -> true." in lines
    assert "BTC weight 45.0% -> 50.0% (+5.0 pp)." in lines
    assert not any(line.startswith("ETH weight") for line in lines)  # unchanged
    first = build_daily(today, day=DAY, run_id=1, complete=True, previous=None, value_history=[])
    assert first.since_yesterday[0].startswith("No run stored for an earlier day")


def test_a_change_further_back_than_the_stored_days_says_where_they_start() -> None:
    plan = make_plan()
    first = build_daily(plan, day=DAY, run_id=1, complete=True, previous=None, value_history=[])
    assert first.unchanged_why == "no history yet"
    report = build_daily(
        plan, day=DAY, run_id=3, complete=True, previous=None, value_history=history(3)
    )
    start = (DAY - timedelta(days=3)).isoformat()
    assert report.unchanged_why == f"history starts {start}"
    md = render_markdown(report)
    assert f"| 7 days | n/a | n/a | history starts {start} |" in md
    assert f"n/a (history starts {start})" in render_html(report)
    assert "no history yet" not in md


def test_an_asset_without_a_target_is_said_to_be_kept(tmp_path: Path) -> None:
    """rebalance.never_trade (or sell_unlisted: false) leaves an asset without a target."""
    from rich.console import Console

    from rotator.core.models import Allocation
    from rotator.reports.plan import render_table

    plan = make_plan()
    bnb = Allocation("BNB", Decimal(5000), Decimal("0.05"), None)
    plan = replace(plan, before=(*plan.before, bnb), after=(*plan.after, bnb))
    report = build_daily(plan, day=DAY, run_id=1, complete=True, previous=None, value_history=[])
    assert "| BNB | 5,000.00 | 5.0% | kept | - | 5.0% |" in render_markdown(report)
    assert '<td class="num">kept</td>' in render_html(report)
    console = Console(file=(tmp_path / "table.txt").open("w"), width=120)
    render_table(plan, console)
    console.file.close()
    [row] = [line for line in (tmp_path / "table.txt").read_text().splitlines() if "BNB" in line]
    assert row.split("│")[4].strip() == "kept" and row.split("│")[5].strip() == "-", row


def test_incomplete_run_is_flagged_and_kept_out_of_the_value_series() -> None:
    problem = Problem(Severity.ERROR, "account kraken", "HTTP 429 after 3 retries")
    plan = make_plan(problems=(problem,))
    report = build_daily(
        plan, day=DAY, run_id=3, complete=False, previous=None, value_history=history(10)
    )
    assert report.errors == (problem,)
    assert report.warnings[0] == problem  # errors first
    assert len(report.value_history.points) == 10  # today's incomplete value not added
    assert all(c.delta is None for c in report.changes)
    md = render_markdown(report)
    assert md.index("## Incomplete data") < md.index("## Portfolio value")
    assert "**ERROR** account kraken: HTTP 429 after 3 retries" in md
    assert "INCOMPLETE: 1 data problem(s)" in summary_text(report)


def test_markdown_and_html_carry_the_same_content() -> None:
    plan = make_plan(basket={"AAVE": "0.6", "GMX": "0.4"})
    report = build_daily(
        plan,
        day=DAY,
        run_id=9,
        complete=True,
        previous=make_plan(AS_OF - timedelta(days=1)),
        value_history=history(29),
        btc_closes=series(1000, 20000, 50),
        dominance=series(500, 60, -0.02),
    )
    assert len(report.btc.points) == 730 and len(report.dominance.points) == 365
    assert report.btc_level == 110000.0
    md = render_markdown(report)
    html = render_html(report)
    for text in (
        "100,000.00 USD",
        "BTC close 69,950 on 2026-03-30; prior-high level 110,000 (-36.4%)",
        "ETH 30.0% vs target 20.0% (+10.0 pp)",
        "SOL: below the minimum order value (12.00 &lt; 50), dropped",
        "dominance_rolling_over",
        "AAVE",
        "60.0%",
        "3.1234",
        "30 day(s) of stored complete runs.",
    ):
        assert text.replace("&lt;", "<") in md, text
        assert text in html, text
    assert html.count('src="data:image/png;base64,') == 4
    assert '<img class="chart" alt="Portfolio value over time" data-chart="value" ' in html
    assert 'data-points="30"' in html


def test_html_escapes_text_from_data() -> None:
    plan = replace(make_plan(), notes=('<script>alert("x")</script> & <b>',))
    report = build_daily(plan, day=DAY, run_id=1, complete=True, previous=None, value_history=[])
    html = render_html(report)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
