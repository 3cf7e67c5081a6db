"""Snippet markup shared by the search adapters: matches arrive wrapped in private-use
characters (never in real text), the text is HTML-escaped, then the markers become <mark>."""

from __future__ import annotations

import html
from typing import Final

START: Final = "\ue000"
STOP: Final = "\ue001"


def to_html(marked: str) -> str:
    clean = marked.replace("<mark>", "").replace("</mark>", "")
    return html.escape(clean, quote=False).replace(START, "<mark>").replace(STOP, "</mark>")
