"""Thumbnails rendered (`infrastructure.extraction.thumbnails`) and rendered by the extraction
workers under their limits: a PDF's first page, a text card, and what cannot be rendered."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from domain.documents import DocumentType
from domain.errors import ContentMismatch, ExtractionLimitExceeded
from infrastructure.extraction import ProcessLimits, ProcessTextExtractor
from infrastructure.extraction.thumbnails import CARD_HEIGHT, WIDTH, render_thumbnail
from tests.support.pdf import one_page_pdf, pdf_with_pages


def picture(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def darkest(image: Image.Image) -> int:
    """The darkest grey of the picture (0 black, 255 white)."""
    low, _high = image.convert("L").getextrema()
    return int(low)  # type: ignore[arg-type]


def test_a_pdf_gets_its_first_page_at_most_400_pixels_wide_as_webp() -> None:
    image = picture(render_thumbnail(one_page_pdf("hello"), DocumentType.PDF, "t", ""))

    assert image.format == "WEBP"
    assert image.size[0] == WIDTH
    assert 0 < image.size[1] <= 4 * WIDTH


def test_the_first_page_is_drawn_not_a_blank_one() -> None:
    """A page with text has dark pixels where the text is (a blank render would not)."""
    image = picture(render_thumbnail(pdf_with_pages("INK " * 40), DocumentType.PDF, "t", ""))

    assert darkest(image) < 128


@pytest.mark.parametrize("kind", [DocumentType.TXT, DocumentType.MARKDOWN, DocumentType.DOCX])
def test_text_kinds_get_a_card_with_their_title_and_text(kind: DocumentType) -> None:
    image = picture(render_thumbnail(b"ignored", kind, "Quarterly report", "line\n" * 100))

    assert image.format == "WEBP"
    assert image.size == (WIDTH, CARD_HEIGHT)
    assert darkest(image) < 128


def test_a_file_that_is_no_pdf_is_a_content_mismatch() -> None:
    with pytest.raises(ContentMismatch):
        render_thumbnail(b"%PDF-1.4 nothing more", DocumentType.PDF, "t", "")


def test_the_workers_render_under_the_extraction_limits() -> None:
    renderer = ProcessTextExtractor(process_limits=ProcessLimits(workers=1, timeout_seconds=30))
    try:
        image = picture(renderer.thumbnail(one_page_pdf("hi"), DocumentType.PDF, "t", ""))
        assert image.size[0] == WIDTH
        with pytest.raises(ContentMismatch):
            renderer.thumbnail(b"not a pdf", DocumentType.PDF, "t", "")
        slow = ProcessTextExtractor(
            process_limits=ProcessLimits(workers=1, timeout_seconds=30, cpu_seconds=0.01)
        )
        try:
            with pytest.raises(ExtractionLimitExceeded):
                slow.thumbnail(pdf_with_pages(*["page"] * 200), DocumentType.PDF, "t", "")
        finally:
            slow.close()
    finally:
        renderer.close()
