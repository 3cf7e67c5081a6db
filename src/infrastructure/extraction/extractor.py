"""`TextExtractor` that reads each document type defensively."""

from __future__ import annotations

from domain.documents import DocumentType
from domain.errors import ValidationFailed
from infrastructure.extraction.docx import extract_docx
from infrastructure.extraction.limits import ExtractionLimits, clean_text
from infrastructure.extraction.pdf import extract_pdf
from infrastructure.extraction.text import decode_text


class SafeTextExtractor:
    """The text of TXT, MARKDOWN, PDF and DOCX files, never containing NUL, newlines as \\n,
    at most `limits.max_text_chars` long.

    Raises `ContentMismatch` when the bytes are plainly not the claimed type (text that is a
    PDF, a .docx that is not a ZIP) and `ValidationFailed` when they cannot be read safely
    (undecodable text, a truncated or encrypted PDF, a zip bomb, XML with a DTD). Nothing else
    escapes, whatever the bytes: callers may map those two errors to 4xx and be done.
    """

    def __init__(self, limits: ExtractionLimits | None = None) -> None:
        self._limits = limits or ExtractionLimits()

    def extract(self, data: bytes, document_type: DocumentType) -> str:
        match document_type:
            case DocumentType.TXT | DocumentType.MARKDOWN:
                return clean_text(decode_text(data), self._limits.max_text_chars)
            case DocumentType.PDF:
                return extract_pdf(data, self._limits)
            case DocumentType.DOCX:
                return extract_docx(data, self._limits)
        raise ValidationFailed.on("document_type", f"cannot extract text from {document_type}")
