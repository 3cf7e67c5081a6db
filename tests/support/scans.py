"""Scanned pages for OCR tests: words drawn large on a picture saved as a one-page PDF (no text
layer, as from a scanner), and the rule for tests that need Tesseract: skipped where it is not
installed, failed instead when ARCHIVIST_REQUIRE_TESSERACT=1 (CI installs it)."""

from __future__ import annotations

import functools
import io
import os
import shutil
import subprocess

import pytest
from PIL import Image, ImageDraw, ImageFont

from infrastructure.extraction.ocr import tesseract_problem

# Words Tesseract reads without doubt at this size, and that no other test document holds.
SCANNED_WORDS = ("harbour", "inspection", "ledger")


def need_tesseract(languages: str = "eng") -> None:
    """Skip the calling test when Tesseract (with `languages`) cannot run here, or fail it
    when the environment requires Tesseract."""
    problem = tesseract_problem(languages)
    if problem is None:
        return
    if os.environ.get("ARCHIVIST_REQUIRE_TESSERACT") == "1":
        pytest.fail(f"ARCHIVIST_REQUIRE_TESSERACT=1 but {problem}")
    pytest.skip(problem)


@functools.cache
def _font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A TrueType font of the machine (DejaVu Sans if there), else Pillow's bundled one."""
    if shutil.which("fc-list"):
        listed = subprocess.run(
            ["fc-list", ":", "file"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
        files = sorted(line.strip().rstrip(":") for line in listed.splitlines())
        fonts = [f for f in files if f.endswith(".ttf")]
        preferred = [f for f in fonts if f.endswith("/DejaVuSans.ttf")] + fonts
        if preferred:
            return ImageFont.truetype(preferred[0], 48)
    return ImageFont.load_default(size=48)


def scanned_pdf(*lines: str) -> bytes:
    """A one-page PDF holding only a picture of `lines` (black on white, 48 px at 150 dpi)."""
    image = Image.new("L", (1200, 120 + 110 * len(lines)), 255)
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(lines):
        draw.text((60, 60 + 110 * row), line, fill=0, font=_font())
    out = io.BytesIO()
    image.save(out, format="PDF", resolution=150)
    return out.getvalue()


def with_pages_of(*pdfs: bytes) -> bytes:
    """One PDF holding the pages of each of `pdfs`, in order."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for data in pdfs:
        for page in PdfReader(io.BytesIO(data)).pages:
            writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
