"""The backtest report: written by `rotator backtest --demo --out DIR`, opened in headless
Chromium: every section is there, every chart decodes, nothing is fetched from outside.
The screenshot is kept in test-artifacts/ (gitignored); docs/backtest.png is made by
docs/screenshots.py."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from browser import chromium_path, inspect_page
from click.testing import CliRunner
from user_dirs import isolate_user_dirs

from rotator.cli.app import cli

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SECTIONS = ["notes", "metrics", "robustness", "equity", "drawdown", "regimes", "costs"]
PROBE = """
(() => ({
  sections: [...document.querySelectorAll('section')].map(s => s.id),
  metricRows: [...document.querySelectorAll('#metrics tbody tr')].map(r => r.cells[0].textContent),
  columns: [...document.querySelectorAll('#metrics thead th')].map(h => h.textContent),
  switches: document.querySelectorAll('#regimes tbody tr').length,
  robustness: [...document.querySelectorAll('#robustness tbody tr')].map(
    r => [...r.cells].map(c => c.textContent)),
  robustnessNote: document.querySelector('#robustness .sub').textContent,
  switchText: document.querySelector('#regimes tbody').textContent,
  text: document.body.innerText,
  volatility: [...document.querySelectorAll('#metrics tbody tr')]
    .filter(r => r.cells[0].textContent.startsWith('volatility'))
    .map(r => [...r.cells].slice(1).map(c => c.textContent)),
  images: [...document.images].map(i => ({
    chart: i.dataset.chart, points: Number(i.dataset.points),
    complete: i.complete, width: i.naturalWidth, src: i.src.slice(0, 22) })),
  external: [...document.querySelectorAll('link[href], script[src], img[src^="http"]')].length,
}))()
"""

needs_chromium = pytest.mark.skipif(
    chromium_path() is None and not os.environ.get("CI"),
    reason="chromium not installed (.ci/run installs it; CI fails instead of skipping)",
)


def write_demo_report(out: Path) -> Path:
    result = CliRunner().invoke(
        cli, ["backtest", "--demo", "--from", "2017-01-01", "--to", "2021-12-31", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "report written to" in result.output
    return out / "backtest.html"


@pytest.fixture(scope="session")  # kept while other modules' tests run in between
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One 2017-2021 demo report for the tests below (a five-year replay is their cost), written
    with the data and cache dirs in a folder of its own, as the autouse `isolated_dirs` does."""
    home = tmp_path_factory.mktemp("backtest-report")
    with pytest.MonkeyPatch.context() as patch:
        isolate_user_dirs(patch, home)
        return write_demo_report(home / "out")


# Both tests read the one report: on the same worker, so it is written once.
one_report = pytest.mark.xdist_group("backtest_report")


@pytest.mark.slow  # started first (see conftest.py)
@one_report
def test_report_is_self_contained_html(demo_report: Path) -> None:
    page = demo_report.read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 3
    assert "http://" not in page and "https://" not in page
    assert "btc_above_prior_high = true" in page  # the rule values behind a switch
    assert "How sure: excess CAGR of the rule set" in page
    report = json.loads((demo_report.parent / "backtest.json").read_text(encoding="utf-8"))
    assert report["robustness"]["block_bootstrap"]["samples"] == 1000


@pytest.mark.slow  # started first (see conftest.py)
@one_report
@needs_chromium
def test_backtest_report_in_headless_chromium(demo_report: Path) -> None:
    page = demo_report
    shot = ARTIFACTS / "backtest-browser.png"
    found = inspect_page(page, PROBE, screenshot=shot)

    assert found["sections"] == SECTIONS
    assert found["external"] == 0
    assert found["columns"][1:4] == ["rule set", "hodl_btc", "static"]
    assert "max drawdown" in found["metricRows"] and "Sharpe" in found["metricRows"]
    assert found["switches"] == 9  # 8 switches: 9 periods over 2017-2021
    assert [row[0] for row in found["robustness"]] == ["hodl_btc", "static"]
    for _, estimate, interval, share in found["robustness"]:
        assert estimate.endswith("%") and " .. " in interval and share.endswith("%")
    assert "1,000 resampled histories, mean block 30 days" in found["robustnessNote"]
    assert "held by hysteresis (min_days), not by its condition" in found["switchText"]
    charts = {i["chart"]: i for i in found["images"]}
    assert set(charts) == {"equity", "drawdown", "regimes"}
    for image in found["images"]:
        assert image["complete"] and image["width"] > 0, image
        assert image["src"] == "data:image/png;base64,"
    assert charts["equity"]["points"] == 1826  # every day of 2017-2021
    # A replay suggests no order: no dry-run banner; a volatility is a size, never signed.
    assert "DRY RUN" not in found["text"]
    [volatility] = found["volatility"]
    assert all(v.endswith(" %") and v[0].isdigit() for v in volatility), volatility
    assert shot.stat().st_size > 20_000
