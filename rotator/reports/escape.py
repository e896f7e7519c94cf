"""Escaping text from outside (servers, chains, oracles, config) for each output medium.

Server text reaches every output: an exchange's error message, an asset code, a protocol name.
Each medium has its own dangerous characters, handled here and only here:

- terminal: C0/C1 control characters (ESC starts every terminal escape: colours, clear-screen,
  OSC 52 clipboard writes, OSC 8 links), DEL and the Unicode bidirectional overrides are shown
  as visible `\\x1b`-style escapes; rich markup (`[red]`, `[/]`, `[link=...]`) is never parsed
  in outside text. `SafeConsole` applies both to everything it prints, tables included.
- Markdown: controls escaped as above, `<` as `&lt;` where it could open an HTML tag, comment
  or declaration (a Markdown viewer renders raw HTML: `<script>`, `<img onerror=...>`), and
  `|` so a value cannot split a table row. A comparison like `12 < 50` stays readable.
- CSV: a text cell starting with `=`, `+`, `-`, `@`, tab or CR is prefixed with `'` (OWASP's
  advice against formula injection); numbers written by rotator stay numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from rich.console import Console, RenderableType
from rich.segment import Segment

from rotator.errors import CONTROL_CHARACTERS, visible_controls

_CONTROL = CONTROL_CHARACTERS
# Cells that spreadsheets read as formulas (OWASP CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def strip_controls(text: str) -> str:
    """`text` with every control character written as a visible escape (`\\x1b`)."""
    return visible_controls(text)


def has_controls(text: str) -> bool:
    """True when `text` holds a control character that `strip_controls` would escape."""
    return _CONTROL.search(text) is not None


def terminal(text: object) -> str:
    """Outside text made safe to embed in rich markup: controls escaped, markup escaped."""
    from rich.markup import escape

    return escape(strip_controls(str(text)))


def markdown(text: object) -> str:
    """Outside text made safe for the Markdown report: controls, HTML and `|` escaped."""
    return _TAG_START.sub("&lt;", strip_controls(str(text))).replace("|", "\\|")


def csv_cell(value: Any) -> Any:
    """A CSV cell that no spreadsheet reads as a formula; numbers and None pass unchanged.

    Text that is a plain number ('-12.5') stays as it is: rotator writes amounts as strings.
    """
    if not isinstance(value, str):
        return value
    if value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + strip_controls(value)
    return strip_controls(value)


def csv_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Every cell of `row` through `csv_cell`."""
    return {key: csv_cell(value) for key, value in row.items()}


class SafeConsole(Console):
    """A rich Console for text from outside: markup off by default, controls never printed raw.

    Markup rotator writes itself goes through `rich.text.Text.from_markup` with `terminal()`
    around outside values. Every segment of text rendered (table cells, panels, plain strings)
    has its control characters escaped; rich's own styles and cursor controls are untouched.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("markup", False)
        kwargs.setdefault("emoji", False)
        super().__init__(*args, **kwargs)

    def render(self, renderable: RenderableType, options: Any = None) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            if segment.control is None and _CONTROL.search(segment.text):
                yield Segment(strip_controls(segment.text), segment.style, segment.control)
            else:
                yield segment
