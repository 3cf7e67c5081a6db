"""PDF text via pypdf, with every failure of a hostile or damaged file turned into a 4xx."""

from __future__ import annotations

import re
from io import BytesIO
from typing import Final

from pypdf import PageObject, PasswordType, PdfReader

from domain.blobs import ExtractedText
from domain.errors import ContentMismatch, ExtractionLimitExceeded, ValidationFailed
from infrastructure.extraction.limits import ExtractionLimits, clean_text

# Readers accept the header after some leading junk whitespace; Acrobat allows 1 KiB of it.
_HEADER: Final = re.compile(rb"[\x00\t\n\f\r ]{0,1024}%PDF-")
# A PDF ends with %%EOF; readers look for it in the last KiB. Without it the file was cut off,
# and pypdf's recovery would happily return the text of whatever half arrived.
_EOF_MARKER: Final = b"%%EOF"
_TAIL: Final = 1024


def extract_pdf(data: bytes, limits: ExtractionLimits) -> str:
    """The text of the pages, pages with text separated by a blank line. Raises
    `ContentMismatch` without a PDF header, `ExtractionLimitExceeded` for more than
    `max_pdf_pages` pages, `ValidationFailed` for a truncated, damaged or password-protected
    PDF."""
    return read_pdf(data, limits).text


def read_pdf(data: bytes, limits: ExtractionLimits) -> ExtractedText:
    """`extract_pdf`'s text and the numbers (from 1) of the pages without a text layer that
    draw something (a scan; not an empty page), among the pages read before the text
    reached `max_text_chars`. Raises as `extract_pdf`."""
    if _HEADER.match(data) is None:
        raise ContentMismatch("file: claims to be a PDF but does not start with %PDF-")
    if _EOF_MARKER not in data[-_TAIL:]:
        raise ValidationFailed.on("file", "is a truncated PDF (no %%EOF marker at its end)")
    try:
        pages, without_text = _page_texts(data, limits)
    except (ValidationFailed, MemoryError):
        raise  # MemoryError: the memory limit of the extraction process, not a damaged file
    except Exception as exc:
        # Broad on purpose: on hostile input pypdf raises its own errors but also KeyError,
        # ValueError, TypeError, AssertionError, RecursionError, zlib.error... all mean the
        # same thing to the uploader.
        raise ValidationFailed.on(
            "file", f"is a damaged PDF that cannot be read ({_brief(exc)})"
        ) from None
    return ExtractedText(clean_text("\n\n".join(pages), limits.max_text_chars), without_text)


def _open_pdf(data: bytes, limits: ExtractionLimits) -> PdfReader:
    """A reader of the PDF, decrypted, its page count within the limit (raises as
    `extract_pdf`, except that damage found later surfaces as pypdf's own errors)."""
    reader = PdfReader(BytesIO(data), strict=False)
    if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
        # Many PDFs are "encrypted" with an empty user password only to restrict printing;
        # those open above. This one needs a password we do not have.
        raise ValidationFailed.on("file", "is a password-protected PDF; remove the password first")
    # The declared count first: refusing a 20,000-page file must not cost walking its page
    # tree. Then the real count, since the declared one can lie.
    _check_page_count(_declared_page_count(reader), limits.max_pdf_pages)
    _check_page_count(len(reader.pages), limits.max_pdf_pages)
    return reader


def _page_texts(data: bytes, limits: ExtractionLimits) -> tuple[list[str], tuple[int, ...]]:
    reader = _open_pdf(data, limits)
    texts: list[str] = []
    without_text: list[int] = []
    length = 0
    for number, page in enumerate(reader.pages, start=1):
        if length >= limits.max_text_chars:
            break
        text = (page.extract_text() or "").strip("\r\n")
        if text:  # a page without text (a scan, a blank) adds no blank lines
            texts.append(text)
            length += len(text) + 2
        if not text.strip() and _draws_something(page):  # a scan; an empty page is not
            without_text.append(number)
    return texts, tuple(without_text)


def _draws_something(page: PageObject) -> bool:
    contents = page.get_contents()
    return contents is not None and bool(contents.get_data().strip())


def _declared_page_count(reader: PdfReader) -> int:
    try:
        count = reader.trailer["/Root"]["/Pages"]["/Count"]  # type: ignore[index]
    except Exception:
        return 0  # no usable /Count: the real count below decides
    return count if isinstance(count, int) else 0


def _check_page_count(count: int, max_pages: int) -> None:
    if count > max_pages:
        raise ExtractionLimitExceeded(
            "pages",
            f"exceeds the extraction limit on pages: the PDF has {count} pages, "
            f"at most {max_pages} are read",
        )


def _brief(exc: Exception) -> str:
    detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
