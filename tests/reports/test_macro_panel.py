"""The daily report's macro panel: built from literal series as public on the day, rendered
to HTML/Markdown, and opened in headless chromium with its charts decoded."""

from __future__ import annotations

import dataclasses
import os
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from browser import chromium_path, inspect_page
from conftest import DAY, make_plan, series

from rotator.core.models import Plan
from rotator.core.records import RuleReport
from rotator.reports.daily import build_daily
from rotator.reports.daily_render import render_html, render_markdown
from rotator.reports.macro import build_macro_panel

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def daily(days: int, start: float, step: float, end: date = DAY) -> pd.Series:
    index = pd.date_range(end - timedelta(days=days - 1), end, freq="D")
    return pd.Series(start + step * np.arange(days), index=index)


def weekly(values: list[float], last: str) -> pd.Series:
    return pd.Series(values, index=pd.date_range(end=last, periods=len(values), freq="7D"))


# DAY is Monday 2026-03-30: the newest H.4.1 levels public are those of Wednesday 03-25.
MACRO = {
    "index:MOVE": daily(400, 140, -0.15),
    "fred:WALCL": weekly([6_700_000.0 + 5_000 * i for i in range(60)], "2026-03-25"),
    "fred:WTREGEN": weekly([800_000.0] * 60, "2026-03-25"),
    "fred:RRPONTSYD": pd.Series(100.0, index=pd.bdate_range(end="2026-03-30", periods=300)),
    "treasury:buybacks": pd.Series(
        [0.0, 2e9, 0.0, 0.0, 0.0, 0.0, 0.0, 1.5e9],
        index=pd.date_range("2026-03-10", periods=8, freq="D"),
    ),
}


def thesis_plan() -> Plan:
    plan = make_plan()
    assert plan.rules is not None
    stressed = RuleReport(
        name="bond_stress_peaked",
        kind="bond_volatility",
        state="true",
        reason="MOVE 80.2, 42 % below its 90-day peak",
        inputs={"value": 80.2, "peak": 139.0, "level": 110.0},
        data_as_of=DAY,
    )
    rules = dataclasses.replace(plan.rules, rules=(*plan.rules.rules, stressed))
    return dataclasses.replace(plan, rules=rules)


def test_panel_shows_only_what_was_public():
    report = build_daily(
        thesis_plan(),
        day=DAY,
        run_id=1,
        complete=True,
        previous=None,
        value_history=[],
        macro_history=MACRO,
    )
    panel = report.macro
    assert panel is not None
    assert panel.stress_label == "MOVE index" and panel.stress_levels == (
        ("bond_stress_peaked", 110.0),
    )
    # The Wednesday 03-25 H.4.1 levels were published on Thursday 03-26: shown on Monday.
    assert panel.parts[0].last == (date(2026, 3, 25), pytest.approx(6_700 + 5 * 59))
    assert panel.net_liquidity.last[1] == pytest.approx(6_995 - 800 - 100)
    assert "fred:WALCL 2026-03-25 (public 2026-03-26, lag 1 bd)" in panel.notes
    assert [d for d, _ in panel.buybacks.points] == [date(2026, 3, 11), date(2026, 3, 17)]
    # On Wednesday 03-25 itself that week's levels are not public yet.
    wednesday = build_macro_panel(MACRO, report.rules, date(2026, 3, 25))
    assert wednesday is not None and wednesday.parts[0].last[0] == date(2026, 3, 18)
    markdown = render_markdown(report)
    assert "## Macro: bond stress and liquidity" in markdown
    assert "bond_stress_peaked level 110" in markdown


def test_panel_uses_the_proxy_without_move():
    rng = np.random.default_rng(3)
    dgs10 = pd.Series(
        4 + np.cumsum(rng.normal(0, 0.05, 120)), index=pd.bdate_range(end="2026-03-27", periods=120)
    )
    panel = build_macro_panel({"fred:DGS10": dgs10}, (), DAY)
    assert panel is not None and panel.stress_label.startswith("MOVE proxy")
    assert len(panel.stress.points) == 120 - 20  # one value per day with 20 changes behind it
    assert build_macro_panel({}, (), DAY) is None


needs_chromium = pytest.mark.skipif(
    chromium_path() is None and not os.environ.get("CI"),
    reason="chromium not installed (.ci/run installs it; CI fails instead of skipping)",
)
PROBE = """
(() => ({
  sections: [...document.querySelectorAll('section')].map(s => s.id),
  macro: document.querySelector('#macro h2').textContent.trim(),
  images: [...document.images].map(i => ({
    chart: i.dataset.chart, points: Number(i.dataset.points),
    complete: i.complete, width: i.naturalWidth, height: i.naturalHeight })),
}))()
"""


@needs_chromium
def test_macro_panel_in_headless_chromium(tmp_path: Path):
    report = build_daily(
        thesis_plan(),
        day=DAY,
        run_id=2,
        complete=True,
        previous=None,
        value_history=[],
        btc_closes=series(365, 50000, 60),
        dominance=series(365, 62, -0.01),
        macro_history=MACRO,
    )
    page = tmp_path / "report.html"
    page.write_text(render_html(report), encoding="utf-8")
    found = inspect_page(page, PROBE, screenshot=ARTIFACTS / "report-macro-browser.png")
    assert found["sections"] == [
        "warnings",
        "headline",
        "allocation",
        "regime",
        "signals",
        "macro",
        "orders",
        "history",
    ]
    assert found["macro"] == "Macro: bond stress and liquidity"
    charts = {i["chart"]: i for i in found["images"]}
    assert {"bond_stress", "net_liquidity", "buybacks"} <= set(charts)
    for image in found["images"]:
        assert image["complete"] and image["width"] > 0 and image["height"] > 0, image
    assert charts["bond_stress"]["points"] == 400
    assert charts["buybacks"]["points"] == 2
