"""MkDocs hooks for the documentation site (mkdocs.yml `hooks:`).

GitHub needs a pipe inside a code span in a table cell escaped (`table\\|json`); Python-Markdown
already keeps pipes inside code spans out of the cell split and would print the backslash. The
pages keep GitHub's form; the site gets the plain pipe.
"""

from __future__ import annotations

import re
from typing import Any

CODE_SPAN = re.compile(r"`[^`\n]*`")


def unescape_pipes_in_table_code(markdown: str) -> str:
    """`\\|` becomes `|` inside the code spans of table rows (lines starting with `|`)."""
    lines = []
    for line in markdown.split("\n"):
        if line.startswith("|"):
            line = CODE_SPAN.sub(lambda m: m.group(0).replace("\\|", "|"), line)
        lines.append(line)
    return "\n".join(lines)


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    return unescape_pipes_in_table_code(markdown)
