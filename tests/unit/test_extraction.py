"""What `SafeTextExtractor` reads, what it refuses, and that it refuses nothing else.

Every file here is made by the test: PDFs by `tests.support.pdf`, DOCX archives by `zipfile`.
"""

from __future__ import annotations

import io
import struct
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.documents import DocumentType
from domain.errors import ContentMismatch, ExtractionLimitExceeded, ValidationFailed
from infrastructure.extraction import ExtractionLimits, SafeTextExtractor
from tests.support.pdf import one_page_pdf, pdf_with_pages

MiB = 1024 * 1024
TEXT_TYPES = [DocumentType.TXT, DocumentType.MARKDOWN]
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)


@pytest.fixture
def extractor() -> SafeTextExtractor:
    return SafeTextExtractor()


def document_xml(body: str, prolog: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'{prolog}<w:document xmlns:w="{W_NS}"><w:body>{body}</w:body></w:document>'
    )


def paragraph(*runs: str) -> str:
    return "<w:p>" + "".join(f"<w:r>{run}</w:r>" for run in runs) + "</w:p>"


def docx(
    document: str | None,
    extra: dict[str, bytes] | None = None,
    compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    """A DOCX-shaped ZIP: content types, `word/document.xml` (unless None) and `extra`."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        if document is not None:
            archive.writestr("word/document.xml", document)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def header_of(data: bytearray, signature: bytes, fixed_size: int, name: bytes) -> int:
    """Offset of the ZIP header with `signature` whose file name (after `fixed_size` bytes)
    is `name`."""
    at = data.find(signature)
    while at != -1:
        if data[at + fixed_size : at + fixed_size + len(name)] == name:
            return at
        at = data.find(signature, at + 4)
    raise AssertionError(f"no header for {name!r}")


def field_of(error: ValidationFailed) -> str:
    return error.errors[0].field


# -- plain text ------------------------------------------------------------------------------


@pytest.mark.parametrize("document_type", TEXT_TYPES)
def test_utf8_text_is_decoded(extractor: SafeTextExtractor, document_type: DocumentType) -> None:
    assert extractor.extract("Grüße, 세계 — ✓\n".encode(), document_type) == "Grüße, 세계 — ✓\n"


def test_a_utf8_byte_order_mark_is_dropped(extractor: SafeTextExtractor) -> None:
    data = b"\xef\xbb\xbf" + "# Überschrift\n".encode()

    assert extractor.extract(data, DocumentType.MARKDOWN) == "# Überschrift\n"


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_a_byte_order_mark_are_decoded(
    extractor: SafeTextExtractor, codec: str
) -> None:
    bom = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}.get(codec, b"")
    data = bom + "Notes: 한국어 text\r\nline two".encode(codec)

    assert extractor.extract(data, DocumentType.TXT) == "Notes: 한국어 text\nline two"


def test_latin1_bytes_are_refused_with_a_clear_message(extractor: SafeTextExtractor) -> None:
    data = "Café crème".encode("latin-1")

    with pytest.raises(ValidationFailed) as caught:
        extractor.extract(data, DocumentType.TXT)

    assert field_of(caught.value) == "file"
    assert "not UTF-8" in caught.value.message
    assert "0xe9" in caught.value.message


def test_newlines_are_normalised(extractor: SafeTextExtractor) -> None:
    assert extractor.extract(b"a\r\nb\rc\n", DocumentType.TXT) == "a\nb\nc\n"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"plain\x00text", id="nul-bytes"),
        pytest.param(one_page_pdf("hello"), id="pdf"),
        pytest.param(docx(document_xml(paragraph("<w:t>hi</w:t>"))), id="docx"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", id="png"),
    ],
)
@pytest.mark.parametrize("document_type", TEXT_TYPES)
def test_binary_bytes_claimed_as_text_are_a_mismatch(
    extractor: SafeTextExtractor, data: bytes, document_type: DocumentType
) -> None:
    with pytest.raises(ContentMismatch):
        extractor.extract(data, document_type)


def test_nul_characters_from_utf16_do_not_survive(extractor: SafeTextExtractor) -> None:
    data = b"\xff\xfe" + "before\x00after".encode("utf-16-le")

    assert extractor.extract(data, DocumentType.TXT) == "beforeafter"


# -- PDF -------------------------------------------------------------------------------------


def test_the_text_of_a_pdf_is_extracted(extractor: SafeTextExtractor) -> None:
    text = extractor.extract(one_page_pdf("Quarterly report (draft)"), DocumentType.PDF)

    assert text == "Quarterly report (draft)"


def test_pdf_pages_are_separated_by_a_blank_line(extractor: SafeTextExtractor) -> None:
    data = pdf_with_pages("First page\nstill first", "Second page")

    assert extractor.extract(data, DocumentType.PDF) == "First page\nstill first\n\nSecond page"


def test_leading_whitespace_before_the_pdf_header_is_allowed(
    extractor: SafeTextExtractor,
) -> None:
    assert extractor.extract(b"\r\n  " + one_page_pdf("late start"), DocumentType.PDF) == (
        "late start"
    )


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"This is a text file named .pdf\n%PDF-1.4", id="text"),
        pytest.param(b" " * 1025 + one_page_pdf("too late"), id="header-after-1KiB"),
        pytest.param(docx(document_xml(paragraph("<w:t>hi</w:t>"))), id="zip"),
    ],
)
def test_a_pdf_without_a_pdf_header_is_a_mismatch(
    extractor: SafeTextExtractor, data: bytes
) -> None:
    with pytest.raises(ContentMismatch):
        extractor.extract(data, DocumentType.PDF)


def test_a_truncated_pdf_is_refused(extractor: SafeTextExtractor) -> None:
    whole = one_page_pdf("cut in half")

    with pytest.raises(ValidationFailed) as caught:
        extractor.extract(whole[: len(whole) // 2], DocumentType.PDF)

    assert "truncated" in caught.value.message


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"%PDF-1.7\nthis is no pdf at all\n%%EOF\n", id="garbage-with-eof"),
        pytest.param(b"%PDF-\x00\xff\xfe garbage", id="garbage"),
        pytest.param(b"%PDF-", id="header-only"),
    ],
)
def test_garbage_after_the_pdf_header_is_refused(extractor: SafeTextExtractor, data: bytes) -> None:
    with pytest.raises(ValidationFailed) as caught:
        extractor.extract(data, DocumentType.PDF)

    assert field_of(caught.value) == "file"


def test_a_password_protected_pdf_is_refused(extractor: SafeTextExtractor) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(one_page_pdf("secret"))))
    writer.encrypt(user_password="hunter2", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)

    with pytest.raises(ValidationFailed) as caught:
        extractor.extract(out.getvalue(), DocumentType.PDF)

    assert "password" in caught.value.message


def test_a_pdf_at_the_page_limit_is_read() -> None:
    extractor = SafeTextExtractor(ExtractionLimits(max_pdf_pages=2))

    assert extractor.extract(pdf_with_pages("one", "two"), DocumentType.PDF) == "one\n\ntwo"


def test_a_pdf_over_the_page_limit_is_refused_naming_the_pages_limit() -> None:
    # Refused rather than cut short: reading even the first pages of a 20,000-page file costs
    # its whole page tree, and a silently partial text is worse than a clear refusal.
    extractor = SafeTextExtractor(ExtractionLimits(max_pdf_pages=2))

    with pytest.raises(ExtractionLimitExceeded) as caught:
        extractor.extract(pdf_with_pages("one", "two", "three"), DocumentType.PDF)

    assert caught.value.limit == "pages"
    assert field_of(caught.value) == "file"
    assert "3 pages" in caught.value.message
    assert "at most 2" in caught.value.message


def test_a_pdf_whose_page_count_lies_is_still_held_to_the_page_limit() -> None:
    data = pdf_with_pages("one", "two", "three").replace(b"/Count 3", b"/Count 1")
    extractor = SafeTextExtractor(ExtractionLimits(max_pdf_pages=2))

    with pytest.raises(ExtractionLimitExceeded) as caught:
        extractor.extract(data, DocumentType.PDF)

    assert caught.value.limit == "pages"


def test_text_beyond_the_limit_is_cut_off() -> None:
    extractor = SafeTextExtractor(ExtractionLimits(max_text_chars=10))

    assert extractor.extract(one_page_pdf("0123456789abcdef"), DocumentType.PDF) == "0123456789"
    assert extractor.extract(b"0123456789abcdef", DocumentType.TXT) == "0123456789"


# -- DOCX ------------------------------------------------------------------------------------


def test_the_text_of_a_docx_is_extracted(extractor: SafeTextExtractor) -> None:
    body = (
        paragraph("<w:t>Title</w:t>")
        + paragraph('<w:t xml:space="preserve">Name: </w:t>', "<w:tab/>", "<w:t>Ada</w:t>")
        + paragraph("<w:t>line one</w:t><w:br/><w:t>line two</w:t>")
        + "<w:p/>"
        + paragraph("<w:t>한국어</w:t>")
    )

    text = extractor.extract(docx(document_xml(body)), DocumentType.DOCX)

    assert text == "Title\nName: \tAda\nline one\nline two\n\n한국어"


def test_tab_stop_definitions_are_not_tabs(extractor: SafeTextExtractor) -> None:
    body = (
        '<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr>'
        "<w:r><w:t>no tab here</w:t></w:r></w:p>"
    )

    assert extractor.extract(docx(document_xml(body)), DocumentType.DOCX) == "no tab here"


def test_deleted_text_of_tracked_changes_is_left_out(extractor: SafeTextExtractor) -> None:
    body = (
        "<w:p><w:del><w:r><w:delText>gone</w:delText></w:r></w:del><w:r><w:t>kept</w:t></w:r></w:p>"
    )

    assert extractor.extract(docx(document_xml(body)), DocumentType.DOCX) == "kept"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"not a zip at all", id="text"),
        pytest.param(one_page_pdf("a pdf"), id="pdf"),
    ],
)
def test_a_docx_that_is_not_a_zip_is_a_mismatch(extractor: SafeTextExtractor, data: bytes) -> None:
    with pytest.raises(ContentMismatch):
        extractor.extract(data, DocumentType.DOCX)


def test_a_zip_without_word_document_xml_is_a_mismatch(extractor: SafeTextExtractor) -> None:
    spreadsheet = docx(None, {"xl/workbook.xml": b"<workbook/>"})

    with pytest.raises(ContentMismatch) as caught:
        extractor.extract(spreadsheet, DocumentType.DOCX)

    assert "not a Word document" in caught.value.message


def test_a_damaged_zip_is_refused(extractor: SafeTextExtractor) -> None:
    whole = docx(document_xml(paragraph("<w:t>hi</w:t>")))

    with pytest.raises(ValidationFailed):
        extractor.extract(whole[: len(whole) // 2], DocumentType.DOCX)


def test_a_member_inflating_past_50_mib_is_refused(extractor: SafeTextExtractor) -> None:
    bomb = docx(document_xml(paragraph("<w:t>hi</w:t>")), {"word/media/zeros.bin": bytes(60 * MiB)})
    assert len(bomb) < MiB  # the point of a bomb: small on the wire

    with pytest.raises(ValidationFailed) as caught:
        extractor.extract(bomb, DocumentType.DOCX)

    assert "zip bomb" in caught.value.message


def test_too_many_members_are_refused(extractor: SafeTextExtractor) -> None:
    many = {f"word/media/{i}.xml": b"<x/>" for i in range(1000)}

    with pytest.raises(ValidationFailed) as caught:
        extractor.extract(docx(document_xml(""), many), DocumentType.DOCX)

    assert "more than 1000 members" in caught.value.message


def test_the_default_limits_are_the_documented_ones() -> None:
    limits = ExtractionLimits()

    assert (limits.max_zip_members, limits.max_member_bytes, limits.max_total_bytes) == (
        1000,
        50 * MiB,
        100 * MiB,
    )
    assert (limits.max_compression_ratio, limits.ratio_checked_above) == (100, MiB)
    assert (limits.max_pdf_pages, limits.max_text_chars) == (2000, 5_000_000)


def test_a_total_uncompressed_size_over_the_limit_is_refused() -> None:
    # Scaled down (100 MiB of incompressible test data is slow): each member alone is within
    # the member limit, only their sum is not.
    limits = ExtractionLimits(max_member_bytes=600, max_total_bytes=1500)
    parts = {f"word/part{i}.bin": bytes(range(250)) * 2 for i in range(3)}

    with pytest.raises(ValidationFailed) as caught:
        SafeTextExtractor(limits).extract(docx(document_xml(""), parts), DocumentType.DOCX)

    assert "holds more than 1500 bytes uncompressed" in caught.value.message


def test_a_highly_compressed_member_over_1_mib_is_refused(extractor: SafeTextExtractor) -> None:
    # 2 MiB of zeros deflate about 1000:1: within the size limits, far past the ratio.
    bomb = docx(document_xml(""), {"word/media/zeros.bin": bytes(2 * MiB)})

    with pytest.raises(ValidationFailed) as caught:
        extractor.extract(bomb, DocumentType.DOCX)

    assert "compressed more than 100:1" in caught.value.message


def test_a_member_larger_than_its_header_declares_is_refused(
    extractor: SafeTextExtractor,
) -> None:
    real = document_xml(paragraph("<w:t>" + "padding " * 200 + "</w:t>"))
    data = bytearray(docx(real, compression=zipfile.ZIP_STORED))
    # Rewrite the declared uncompressed size of word/document.xml to 10 bytes, in both its
    # local header (offset 22) and its central-directory entry (offset 24).
    local = header_of(data, b"PK\x03\x04", 30, b"word/document.xml")
    central = header_of(data, b"PK\x01\x02", 46, b"word/document.xml")
    struct.pack_into("<I", data, local + 22, 10)
    struct.pack_into("<I", data, central + 24, 10)

    with pytest.raises(ValidationFailed):
        extractor.extract(bytes(data), DocumentType.DOCX)


BILLION_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
    '<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>'
)


@pytest.mark.parametrize(
    ("prolog", "body"),
    [
        pytest.param(BILLION_LAUGHS, paragraph("<w:t>&lol4;</w:t>"), id="billion-laughs"),
        pytest.param(
            '<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
            paragraph("<w:t>&xxe;</w:t>"),
            id="external-entity",
        ),
        pytest.param("<!DOCTYPE w:document>", paragraph("<w:t>hi</w:t>"), id="bare-doctype"),
    ],
)
def test_xml_with_a_dtd_is_refused(extractor: SafeTextExtractor, prolog: str, body: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        extractor.extract(docx(document_xml(body, prolog)), DocumentType.DOCX)

    assert "DTD" in caught.value.message


def test_malformed_document_xml_is_refused(extractor: SafeTextExtractor) -> None:
    with pytest.raises(ValidationFailed) as caught:
        extractor.extract(docx("<w:document><unclosed>"), DocumentType.DOCX)

    assert "not well-formed" in caught.value.message


def test_an_encrypted_zip_member_is_refused(extractor: SafeTextExtractor) -> None:
    data = bytearray(docx(document_xml(paragraph("<w:t>hi</w:t>"))))
    # Set the "encrypted" flag (bit 0 of the general-purpose flags) on every central entry.
    at = data.find(b"PK\x01\x02")
    while at != -1:
        data[at + 8] |= 1
        at = data.find(b"PK\x01\x02", at + 4)

    with pytest.raises(ValidationFailed):
        extractor.extract(bytes(data), DocumentType.DOCX)


# -- never NUL, never anything but the two errors --------------------------------------------


@pytest.mark.parametrize(
    ("data", "document_type"),
    [
        (b"\xff\xfe" + "a\x00b".encode("utf-16-le"), DocumentType.TXT),
        (b"\xff\xfe\x00\x00" + "a\x00b".encode("utf-32-le"), DocumentType.MARKDOWN),
        (docx(document_xml(paragraph("<w:t>a</w:t>"))), DocumentType.DOCX),
        (one_page_pdf("a"), DocumentType.PDF),
    ],
)
def test_output_never_holds_nul(
    extractor: SafeTextExtractor, data: bytes, document_type: DocumentType
) -> None:
    assert "\x00" not in extractor.extract(data, document_type)


_PREFIXES = [
    b"",
    b"%PDF-1.4\n",
    b"PK\x03\x04",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\xfe\xff",
    b"\xff\xfe\x00\x00",
]
_SAMPLES = [one_page_pdf("sample text"), docx(document_xml(paragraph("<w:t>sample</w:t>")))]


@st.composite
def hostile_bytes(draw: st.DrawFn) -> bytes:
    """Random bytes, random bytes behind a real signature, or a real file damaged at random."""
    kind = draw(st.sampled_from(["random", "prefixed", "mutated"]))
    if kind == "random":
        return draw(st.binary(max_size=2048))
    if kind == "prefixed":
        return draw(st.sampled_from(_PREFIXES)) + draw(st.binary(max_size=2048))
    data = bytearray(draw(st.sampled_from(_SAMPLES)))
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(data) - 1))
        data[at] = draw(st.integers(0, 255))
    cut = draw(st.integers(len(data) // 2, len(data)))
    return bytes(data[:cut])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=hostile_bytes(), document_type=st.sampled_from(list(DocumentType)))
def test_any_bytes_give_text_or_one_of_the_two_errors(
    data: bytes, document_type: DocumentType
) -> None:
    try:
        text = SafeTextExtractor().extract(data, document_type)
    except (ValidationFailed, ContentMismatch):
        return
    assert isinstance(text, str)
    assert "\x00" not in text
    assert "\r" not in text
