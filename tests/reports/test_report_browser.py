"""The HTML report opened in a real headless browser (Debian's chromium): every section is
there and every chart image decodes (naturalWidth > 0). The screenshot is kept in
test-artifacts/ (gitignored)."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from browser import chromium_path, inspect_page
from conftest import DAY, make_plan, series

from rotator.errors import Problem, Severity
from rotator.reports.daily import build_daily
from rotator.reports.daily_render import render_html

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SECTIONS = ["warnings", "headline", "allocation", "regime", "signals", "orders", "history"]
PROBE = """
(() => ({
  sections: [...document.querySelectorAll('section')].map(s => s.id),
  headings: [...document.querySelectorAll('section h2')].map(h => h.textContent.trim()),
  images: [...document.images].map(i => ({
    chart: i.dataset.chart, points: Number(i.dataset.points),
    complete: i.complete, width: i.naturalWidth, height: i.naturalHeight,
    src: i.src.slice(0, 22) })),
  external: [...document.querySelectorAll('link[href], script[src]')].length,
}))()
"""

needs_chromium = pytest.mark.skipif(
    chromium_path() is None and not os.environ.get("CI"),
    reason="chromium not installed (.ci/run installs it; CI fails instead of skipping)",
)


@needs_chromium
def test_report_in_headless_chromium(tmp_path: Path) -> None:
    plan = make_plan(
        basket={"AAVE": "0.6", "GMX": "0.4"},
        problems=(Problem(Severity.ERROR, "account kraken", "timed out after 2 retries"),),
    )
    history = [(d, Decimal(str(v))) for d, v in series(40, 90000, 250)[:-1]]
    report = build_daily(
        plan,
        day=DAY,
        run_id=41,
        complete=False,
        previous=make_plan(btc_weight="0.45", regime="hold"),
        value_history=history,
        btc_closes=series(365, 50000, 60),
        dominance=series(365, 62, -0.01),
    )
    page = tmp_path / "report.html"
    page.write_text(render_html(report), encoding="utf-8")

    shot = ARTIFACTS / "report-browser.png"
    found = inspect_page(page, PROBE, screenshot=shot)

    assert found["sections"] == SECTIONS
    assert found["headings"][0].startswith("Incomplete data")
    assert found["external"] == 0  # self-contained: no stylesheet or script to fetch
    charts = {i["chart"]: i for i in found["images"]}
    assert set(charts) == {"allocation", "btc", "dominance", "value"}
    for image in found["images"]:
        assert image["complete"] and image["width"] > 0 and image["height"] > 0, image
        assert image["src"] == "data:image/png;base64,"
    assert charts["value"]["points"] == 39  # 39 stored days before today; today is incomplete
    assert charts["btc"]["points"] == 365
    assert shot.stat().st_size > 20_000
