"""OCR of the PDF pages that have no text layer (scans): each page rendered with pypdfium2 at
300 dpi and read by the Tesseract program through pytesseract. Runs in the extraction worker
processes (`workers.py`), a few pages per task, under the same limits as reading a file; the
Tesseract process it starts gets the task's CPU allowance as its timeout.

Whether Tesseract can run (installed, with every configured language) is decided once per
process (`tesseract_problem`, the extractors' default `OcrCheck`): without it, OCR is refused
with `OcrUnavailable` before any page is rendered."""

from __future__ import annotations

import functools
import math
import os
import re
import shutil
from collections.abc import Callable, Sequence
from typing import Any, Final, TypeAlias

from domain.blobs import ExtractedText
from domain.errors import ContentMismatch, ExtractionLimitExceeded, ValidationFailed
from infrastructure.extraction.limits import clean_text

DEFAULT_LANGUAGES: Final = "eng+kor"
DPI: Final = 300
# A page larger than about A2 is rendered below 300 dpi, so its picture stays within this
# (24 MP in grey is 24 MB; Tesseract needs a few times that).
MAX_PIXELS: Final = 24_000_000
_POINTS_PER_INCH: Final = 72
# Tesseract's language names: `eng`, `chi_sim`, `script/Hangul`, joined by `+`.
_LANGUAGES: Final = re.compile(r"[A-Za-z0-9_/]{1,64}(\+[A-Za-z0-9_/]{1,64}){0,15}")
_INSTALL_HINT: Final = "see README, OCR"


def check_languages(languages: str) -> str:
    """`languages` as Tesseract takes them (`eng+kor`); `ValueError` for anything else."""
    if not _LANGUAGES.fullmatch(languages):
        raise ValueError("OCR languages are Tesseract language names joined by '+' (eng+kor)")
    return languages


OcrCheck: TypeAlias = Callable[[str], str | None]
"""Why OCR with the languages given cannot run (None: it can); `tesseract_problem` in use."""


@functools.cache
def tesseract_problem(languages: str) -> str | None:
    """Why OCR with `languages` cannot run on this machine (Tesseract missing, or a language's
    data missing), or None when it can. Asked once per process and languages."""
    import pytesseract

    if shutil.which(pytesseract.pytesseract.tesseract_cmd) is None:
        return f"Tesseract is not installed: {_INSTALL_HINT}"
    try:
        pytesseract.get_tesseract_version()
        installed = set(pytesseract.get_languages())
    except (Exception, SystemExit) as exc:  # pytesseract exits on a version it cannot parse
        return f"Tesseract does not run ({type(exc).__name__}: {exc}): {_INSTALL_HINT}"
    missing = [name for name in languages.split("+") if name not in installed]
    if missing:
        return f"Tesseract has no data for {', '.join(missing)}: {_INSTALL_HINT}"
    return None


def ocr_pages(
    data: bytes, pages: Sequence[int], languages: str, timeout_seconds: float
) -> list[str]:
    """The text Tesseract reads on each of `pages` (numbered from 1) of the PDF `data`, in
    the order given, each without leading or trailing blank lines. Raises `ContentMismatch`
    for bytes PDFium cannot open, `ValidationFailed` for a page that is not there or that
    Tesseract fails on, `ExtractionLimitExceeded` when Tesseract takes longer than
    `timeout_seconds` on a page."""
    import pypdfium2  # imported where it is used: the server process never renders
    import pytesseract

    # Tesseract's OpenMP threads would compete with the other workers for the same CPUs.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    try:
        pdf = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as err:
        raise ContentMismatch("the file is not a PDF that can be rendered") from err
    texts: list[str] = []
    try:
        for number in pages:
            if not 1 <= number <= len(pdf):
                raise ValidationFailed.on("file", f"the PDF has no page {number}")
            image = _page_image(pdf[number - 1], number)
            try:
                text = pytesseract.image_to_string(image, lang=languages, timeout=timeout_seconds)
            except RuntimeError as err:  # pytesseract's timeout (it kills the process)
                raise ExtractionLimitExceeded(
                    "cpu time",
                    f"exceeds the extraction limit on CPU time: OCR of page {number} takes "
                    f"longer than {timeout_seconds:g} s",
                ) from err
            except pytesseract.TesseractError as err:
                raise ValidationFailed.on(
                    "file", f"page {number} could not be read by OCR ({err.message})"[:300]
                ) from err
            texts.append(str(text).strip("\r\n\f "))
    finally:
        pdf.close()
    return texts


def _page_image(page: Any, number: int) -> Any:
    width, height = page.get_size()
    if width <= 0 or height <= 0:
        raise ValidationFailed.on("file", f"page {number} of the PDF has no size")
    scale = min(DPI / _POINTS_PER_INCH, math.sqrt(MAX_PIXELS / (width * height)))
    bitmap = page.render(scale=scale, grayscale=True)
    return bitmap.to_pil()


def with_recognised_text(
    extracted: ExtractedText, recognised: Sequence[str], max_chars: int
) -> str:
    """A document's text after OCR: its text layer's, then each page's recognised text in
    page order, blank lines between them (empty ones left out), cut at `max_chars`. A
    function of the file alone, so OCR run twice gives the same text, never the text twice."""
    parts = [extracted.text, *recognised]
    return clean_text("\n\n".join(p for p in parts if p.strip()), max_chars)
