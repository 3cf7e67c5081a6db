"""Which PDF pages reading finds without text, and OCR of those pages (Tesseract on a page
picture the test draws), in this process and in the extraction worker processes."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import pytesseract
import pytest
from pydantic import ValidationError

from domain.blobs import ExtractedText
from domain.documents import DocumentType
from domain.errors import OcrUnavailable
from infrastructure.config import AppSettings
from infrastructure.container import Container
from infrastructure.extraction import ExtractionLimits, ProcessTextExtractor, SafeTextExtractor, ocr
from tests.support.pdf import pdf_with_pages
from tests.support.scans import SCANNED_WORDS, need_tesseract, scanned_pdf, with_pages_of

SCAN = scanned_pdf("Quarterly harbour", "inspection ledger")


def _blank_page() -> bytes:
    from io import BytesIO

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_scanned_page_is_read_as_a_page_without_text() -> None:
    extracted = SafeTextExtractor().read(SCAN, DocumentType.PDF)

    assert extracted == ExtractedText("", (1,))


def test_only_the_pages_without_a_text_layer_are_reported() -> None:
    data = with_pages_of(pdf_with_pages("typed first page"), SCAN, _blank_page(), SCAN)

    extracted = SafeTextExtractor().read(data, DocumentType.PDF)

    # The empty page draws nothing: it is no scan.
    assert extracted == ExtractedText("typed first page", (2, 4))


def test_a_pdf_with_text_on_every_page_has_no_page_without_text() -> None:
    extracted = SafeTextExtractor().read(pdf_with_pages("one", "two"), DocumentType.PDF)

    assert extracted.pages_without_text == ()


def test_other_types_have_no_pages_without_text() -> None:
    assert SafeTextExtractor().read(b"plain", DocumentType.TXT) == ExtractedText("plain")


def test_the_recognised_text_follows_the_text_layer_and_is_never_added_twice() -> None:
    extracted = ExtractedText("typed", (2, 3))

    once = ocr.with_recognised_text(extracted, ["scan two", "", "scan three"], 1000)

    assert once == "typed\n\nscan two\n\nscan three"
    assert ocr.with_recognised_text(extracted, ["scan two", "", "scan three"], 1000) == once
    assert ocr.with_recognised_text(extracted, ["scan two"], 9) == "typed\n\nsc"


@pytest.mark.parametrize("languages", ["eng", "eng+kor", "chi_sim+eng"])
def test_tesseract_language_lists_are_accepted(languages: str) -> None:
    assert ocr.check_languages(languages) == languages


@pytest.mark.parametrize("languages", ["", "eng kor", "eng+", "+eng", "eng;rm", "-l eng"])
def test_anything_else_is_refused_as_ocr_languages(languages: str) -> None:
    with pytest.raises(ValueError, match="Tesseract language names"):
        ocr.check_languages(languages)


@pytest.mark.parametrize("languages", ["eng", "eng+kor", "script/Hangul", "eng kor", "eng+", ""])
def test_the_languages_setting_takes_what_ocr_takes(languages: str) -> None:
    try:
        ocr.check_languages(languages)
        accepted = True
    except ValueError:
        accepted = False

    try:
        AppSettings(ocr_languages=languages)
        taken = True
    except ValidationError:
        taken = False

    assert taken == accepted
    assert AppSettings().ocr_languages == "eng+kor"


def test_without_the_tesseract_program_ocr_is_unavailable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")

    problem = ocr.tesseract_problem.__wrapped__("eng")  # not the answer cached for the process

    assert problem == "Tesseract is not installed: see README, OCR"


def test_ocr_refuses_with_the_reason_when_tesseract_cannot_run() -> None:
    asked: list[str] = []

    def missing(languages: str) -> str:
        asked.append(languages)
        return "Tesseract is not installed"

    extractor = SafeTextExtractor(ocr_languages="eng", ocr_check=missing)

    assert extractor.ocr_problem == "Tesseract is not installed"
    with pytest.raises(OcrUnavailable, match="Tesseract is not installed") as refused:
        extractor.ocr(SCAN, ExtractedText("", (1,)))
    assert refused.value.message == "Tesseract is not installed"
    assert set(asked) == {"eng"}


def test_the_extractors_ask_tesseract_unless_told_otherwise() -> None:
    for extractor in (SafeTextExtractor, ProcessTextExtractor):
        assert inspect.signature(extractor).parameters["ocr_check"].default is ocr.tesseract_problem
    assert Container.ocr_check() is ocr.tesseract_problem  # what the server's extractor asks


def test_the_worker_extractor_refuses_ocr_with_the_reason_it_is_told() -> None:
    extractor = ProcessTextExtractor(ocr_check=lambda languages: "Tesseract is not installed")
    try:
        assert extractor.ocr_problem == "Tesseract is not installed"
        with pytest.raises(OcrUnavailable, match="Tesseract is not installed"):
            extractor.ocr(SCAN, ExtractedText("", (1,)))
    finally:
        extractor.close()


def test_a_language_without_its_data_makes_ocr_unavailable() -> None:
    need_tesseract()

    problem = ocr.tesseract_problem("eng+zzz")

    assert problem == "Tesseract has no data for zzz: see README, OCR"


def test_the_words_of_a_scanned_page_are_recognised() -> None:
    need_tesseract()
    extractor = SafeTextExtractor(ocr_languages="eng")
    assert extractor.ocr_problem is None

    text = extractor.ocr(SCAN, extractor.read(SCAN, DocumentType.PDF))

    assert set(SCANNED_WORDS) <= set(text.lower().split())


@pytest.fixture
def process_extractor() -> Iterator[ProcessTextExtractor]:
    extractor = ProcessTextExtractor(ExtractionLimits(), ocr_languages="eng+kor")
    yield extractor
    extractor.close()


def test_the_extraction_workers_recognise_the_scanned_pages_after_the_typed_ones(
    process_extractor: ProcessTextExtractor,
) -> None:
    need_tesseract("eng+kor")
    data = with_pages_of(SCAN, pdf_with_pages("typed second page"))
    extracted = process_extractor.read(data, DocumentType.PDF)
    assert extracted == ExtractedText("typed second page", (1,))

    text = process_extractor.ocr(data, extracted)

    typed, recognised = text.split("\n\n", 1)
    assert typed == "typed second page"
    assert set(SCANNED_WORDS) <= set(recognised.lower().split())
