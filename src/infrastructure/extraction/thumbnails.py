"""A document's thumbnail: its first PDF page rendered (pypdfium2), or for DOCX, TXT and
Markdown a card with the title and the first lines of its text (Pillow); at most `WIDTH`
pixels wide, WebP. Runs in the extraction worker processes, under the same limits as reading
a file (`workers.py`): rendering an uploaded PDF is parsing it again."""

from __future__ import annotations

import io
import textwrap

from domain.documents import DocumentType
from domain.errors import ContentMismatch, ValidationFailed

WIDTH = 400
CARD_HEIGHT = 566  # A4's proportions
MEDIA_TYPE = "image/webp"
_QUALITY = 80
_CARD_LINES = 22
_CARD_COLUMNS = 42


def render_thumbnail(data: bytes, document_type: DocumentType, title: str, text: str) -> bytes:
    """WebP bytes of the thumbnail. `ContentMismatch` or `ValidationFailed` for a PDF that
    cannot be rendered (what reading it would have refused too)."""
    if document_type is DocumentType.PDF:
        return _pdf_page(data)
    return _text_card(title, text)


def _pdf_page(data: bytes) -> bytes:
    import pypdfium2  # imported where it is used: the server process never renders

    try:
        pdf = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as err:
        raise ContentMismatch("the file is not a PDF that can be rendered") from err
    try:
        if len(pdf) == 0:
            raise ValidationFailed.on("file", "the PDF has no page")
        page = pdf[0]
        width = page.get_width()
        if width <= 0:
            raise ValidationFailed.on("file", "the PDF's first page has no width")
        bitmap = page.render(scale=min(WIDTH / width, 4.0))
        image = bitmap.to_pil()
        image.thumbnail((WIDTH, WIDTH * 4))  # a long page stays at most 1,600 px high
        return _webp(image)
    finally:
        pdf.close()


def _text_card(title: str, text: str) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (WIDTH, CARD_HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    heading = ImageFont.load_default(size=20)
    body = ImageFont.load_default(size=14)
    y = 18
    for line in textwrap.wrap(title, 30)[:3]:
        draw.text((18, y), line, fill="black", font=heading)
        y += 26
    draw.line((18, y + 4, WIDTH - 18, y + 4), fill="#999999", width=1)
    y += 16
    lines: list[str] = []
    for paragraph in text.splitlines():
        lines += textwrap.wrap(paragraph, _CARD_COLUMNS) or [""]
        if len(lines) >= _CARD_LINES:
            break
    for line in lines[:_CARD_LINES]:
        draw.text((18, y), line, fill="#333333", font=body)
        y += 20
    return _webp(image)


def _webp(image: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format="WEBP", quality=_QUALITY)  # type: ignore[attr-defined]
    return out.getvalue()
