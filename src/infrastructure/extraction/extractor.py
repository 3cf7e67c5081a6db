"""`TextExtractor` that reads each document type defensively."""

from __future__ import annotations

from domain.blobs import ExtractedText
from domain.documents import DocumentType
from domain.errors import OcrUnavailable, ValidationFailed
from infrastructure.extraction import ocr
from infrastructure.extraction.docx import extract_docx
from infrastructure.extraction.limits import ExtractionLimits, clean_text
from infrastructure.extraction.ocr import (
    DEFAULT_LANGUAGES,
    OcrCheck,
    check_languages,
    tesseract_problem,
)
from infrastructure.extraction.pdf import extract_pdf, read_pdf
from infrastructure.extraction.text import decode_text


class SafeTextExtractor:
    """The text of TXT, MARKDOWN, PDF and DOCX files, never containing NUL, newlines as \\n,
    at most `limits.max_text_chars` long.

    Raises `ContentMismatch` when the bytes are plainly not the claimed type (text that is a
    PDF, a .docx that is not a ZIP) and `ValidationFailed` when they cannot be read safely
    (undecodable text, a truncated or encrypted PDF, a zip bomb, XML with a DTD). Nothing else
    escapes, whatever the bytes: callers may map those two errors to 4xx and be done.
    """

    def __init__(
        self,
        limits: ExtractionLimits | None = None,
        ocr_languages: str = DEFAULT_LANGUAGES,
        ocr_check: OcrCheck = tesseract_problem,
    ) -> None:
        """`ocr_check(languages)` says why OCR cannot run on this machine, or None when it
        can (`ocr.tesseract_problem`, asked once per process, unless told otherwise)."""
        self._limits = limits or ExtractionLimits()
        self._ocr_languages = check_languages(ocr_languages)
        self._ocr_check = ocr_check

    @property
    def ocr_problem(self) -> str | None:
        """`OcrEngine`: why Tesseract cannot run here with the configured languages (None:
        it can)."""
        return self._ocr_check(self._ocr_languages)

    def ocr(self, data: bytes, extracted: ExtractedText) -> str:
        """`OcrEngine`, in this process and without a time limit (the server uses
        `ProcessTextExtractor`)."""
        problem = self.ocr_problem
        if problem is not None:
            raise OcrUnavailable(problem)
        recognised = ocr.ocr_pages(data, extracted.pages_without_text, self._ocr_languages, 0)
        return ocr.with_recognised_text(extracted, recognised, self._limits.max_text_chars)

    def read(self, data: bytes, document_type: DocumentType) -> ExtractedText:
        """`extract`'s text, with the PDF pages that have no text layer."""
        if document_type is DocumentType.PDF:
            return read_pdf(data, self._limits)
        return ExtractedText(self.extract(data, document_type))

    def extract(self, data: bytes, document_type: DocumentType) -> str:
        match document_type:
            case DocumentType.TXT | DocumentType.MARKDOWN:
                return clean_text(decode_text(data), self._limits.max_text_chars)
            case DocumentType.PDF:
                return extract_pdf(data, self._limits)
            case DocumentType.DOCX:
                return extract_docx(data, self._limits)
        raise ValidationFailed.on("document_type", f"cannot extract text from {document_type}")
