"""Bounds on what extraction may cost, so one hostile upload cannot exhaust the process."""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ExtractionLimits:
    # Text beyond this is cut off (a search index needs the start of a book, not all of it).
    max_text_chars: int = 5_000_000
    # PDF pages read; later pages are ignored, like text past `max_text_chars`.
    max_pdf_pages: int = 2_000
    # DOCX (ZIP) limits: beyond these the archive is refused as a likely zip bomb.
    max_zip_members: int = 1_000
    max_member_bytes: int = 50 * MIB
    max_total_bytes: int = 100 * MIB
    max_compression_ratio: float = 100.0
    ratio_checked_above: int = 1 * MIB  # small members compress well and harmlessly


def clean_text(text: str, max_chars: int) -> str:
    """`text` with newlines as \\n, without NUL (PostgreSQL `text` cannot hold it), at most
    `max_chars` long."""
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    return text[:max_chars]
