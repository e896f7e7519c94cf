"""Regenerate the documentation's screenshots from the current code:

    .venv/bin/python docs/screenshots.py

- docs/report.png: the top of `rotator report --demo` (bundled holdings, 2013-2021 history;
  offline), down to the end of its holdings section;
- docs/backtest.png: the top of `rotator backtest --demo --from 2017-01-01 --to 2021-12-31`
  (the replay docs/backtest.md tabulates), down to the end of its equity chart.

Each page is written into a scratch folder (data and cache dirs too: nothing of the user's is
read or written), opened in headless Chromium at 1200 px wide (tests/reports/browser.py drives
it over the DevTools protocol), cut to the report's column, and saved as a 256-colour PNG. The
script fails if a picture would show a path of this machine. Needs chromium on PATH; about a
minute, most of it the five-year replay.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "reports"))

WIDTH = 1200
# The page's column (main) from its top to the bottom of `section`, in CSS pixels (scale 1),
# and the text shown in it, to check it for paths.
CROP = """
((section) => {
  const main = document.querySelector('main').getBoundingClientRect();
  const end = document.getElementById(section).getBoundingClientRect();
  const range = document.createRange();
  range.setStartBefore(document.querySelector('main').firstElementChild);
  range.setEndAfter(document.getElementById(section));
  return {left: main.left, right: main.right, bottom: end.bottom + window.scrollY + 16,
          text: range.toString()};
})(%r)
"""


def rotator(args: list[str], scratch: Path) -> None:
    env = os.environ | {
        "ROTATOR_DATA_DIR": str(scratch / "data"),
        "ROTATOR_CACHE_DIR": str(scratch / "cache"),
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    for name in ("ROTATOR_CONFIG", "ROTATOR_DB_URL"):
        env.pop(name, None)
    command = [sys.executable, "-m", "rotator", *args]
    subprocess.run(command, cwd=scratch, env=env, check=True, stdout=subprocess.DEVNULL)


def screenshot(page: Path, section: str, out: Path, scratch: Path) -> None:
    from browser import inspect_page
    from PIL import Image

    full = scratch / f"{out.stem}-full.png"
    crop = inspect_page(page, CROP % section, screenshot=full, width=WIDTH)
    for private in (str(scratch), str(Path.home()), str(ROOT), tempfile.gettempdir()):
        if private in crop["text"]:
            raise SystemExit(f"{out.name}: the page shows the path {private}")
    with Image.open(full) as image:
        box = (int(crop["left"]), 0, int(crop["right"]), min(int(crop["bottom"]), image.height))
        cut = image.convert("RGB").crop(box)
    # Flat colours and text: a 256-colour palette is visually the same at a third of the size.
    small = cut.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    small.save(buffer, format="PNG", optimize=True)
    out.write_bytes(buffer.getvalue())
    print(f"{out}: {cut.width}x{cut.height} px, {len(buffer.getvalue()):,} bytes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for the PNGs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rotator-screenshots-") as folder:
        scratch = Path(folder)
        rotator(["report", "--demo", "--quiet", "--no-deliver", "--out", "report"], scratch)
        [report] = (scratch / "report").glob("report-*.html")
        screenshot(report, "holdings", args.out.resolve() / "report.png", scratch)
        backtest = ["backtest", "--demo", "--from", "2017-01-01", "--to", "2021-12-31"]
        rotator([*backtest, "--quiet", "--out", "backtest"], scratch)
        page = scratch / "backtest" / "backtest.html"
        screenshot(page, "equity", args.out.resolve() / "backtest.png", scratch)


if __name__ == "__main__":
    main()
