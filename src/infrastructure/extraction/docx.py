"""DOCX text from `word/document.xml`, read without trusting the archive or the XML.

Zip bombs are refused from the central directory's declared sizes before anything is
inflated, and the one member read is read in bounded steps that stop at its declared size (a
lying header cannot make it inflate more). The XML is parsed by defusedxml with DTDs
forbidden: WordprocessingML never has one, and refusing them refuses entity expansion
(billion laughs) and external entities in one rule.
"""

from __future__ import annotations

import zipfile
from io import BytesIO
from typing import Final
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from domain.errors import ContentMismatch, ValidationFailed
from infrastructure.extraction.limits import ExtractionLimits, clean_text

_ZIP_SIGNATURE: Final = b"PK\x03\x04"
_DOCUMENT: Final = "word/document.xml"
_READ_STEP: Final = 64 * 1024
_W: Final = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_TEXT: Final = _W + "t"
_TAB: Final = _W + "tab"
_BREAKS: Final = frozenset({_W + "br", _W + "cr"})
_PARAGRAPH: Final = _W + "p"
_RUN: Final = _W + "r"


def extract_docx(data: bytes, limits: ExtractionLimits) -> str:
    """The text of the document body: paragraphs separated by newlines, tabs as \\t, line
    breaks as \\n. Raises `ContentMismatch` for bytes that are not a ZIP or a ZIP without
    `word/document.xml`, `ValidationFailed` for a damaged archive, a likely zip bomb, or XML
    that is malformed or declares a DTD."""
    if not data.startswith(_ZIP_SIGNATURE):
        raise ContentMismatch("file: claims to be a Word document but is not a ZIP archive")
    try:
        archive = zipfile.ZipFile(BytesIO(data))
    except Exception:
        # BadZipFile mostly, but a mangled central directory can also raise ValueError,
        # struct.error, OverflowError or EOFError.
        raise ValidationFailed.on("file", "is a damaged ZIP archive") from None
    with archive:
        member = _checked_document_member(archive, limits)
        xml = _read_bounded(archive, member)
    return clean_text(_text_of(xml, limits.max_text_chars), limits.max_text_chars)


def _checked_document_member(archive: zipfile.ZipFile, limits: ExtractionLimits) -> zipfile.ZipInfo:
    members = archive.infolist()
    if len(members) > limits.max_zip_members:
        raise _bomb(f"has more than {limits.max_zip_members} members")
    total = 0
    for info in members:
        if info.file_size > limits.max_member_bytes:
            raise _bomb(f"has a member larger than {limits.max_member_bytes} bytes uncompressed")
        total += info.file_size
        if total > limits.max_total_bytes:
            raise _bomb(f"holds more than {limits.max_total_bytes} bytes uncompressed")
        if (
            info.file_size > limits.ratio_checked_above
            and info.file_size > limits.max_compression_ratio * max(info.compress_size, 1)
        ):
            raise _bomb(f"has a member compressed more than {limits.max_compression_ratio:g}:1")
    try:
        return archive.getinfo(_DOCUMENT)
    except KeyError:
        raise ContentMismatch(
            f"file: is a ZIP archive but not a Word document (no {_DOCUMENT})"
        ) from None


def _read_bounded(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bytes:
    """The member's bytes, refused as soon as more arrive than its header declared."""
    parts: list[bytes] = []
    size = 0
    try:
        with archive.open(member) as source:
            while step := source.read(_READ_STEP):
                size += len(step)
                if size > member.file_size:
                    raise _bomb("has a member larger than its header declares")
                parts.append(step)
    except (ValidationFailed, MemoryError):
        raise  # MemoryError: the memory limit of the extraction process, not a damaged file
    except Exception:
        # BadZipFile (CRC mismatch, bad local header), zlib.error, EOFError, RuntimeError for
        # encrypted members, NotImplementedError for unsupported compression methods.
        raise ValidationFailed.on("file", f"has a damaged or unreadable {_DOCUMENT}") from None
    return b"".join(parts)


def _text_of(xml: bytes, max_chars: int) -> str:
    """The text of WordprocessingML `xml`, stopping soon after `max_chars` characters."""
    pieces: list[str] = []
    length = 0
    # Open elements, innermost last: a w:tab is a tab character only inside a run (inside
    # paragraph properties it defines a tab stop instead).
    open_tags: list[str] = []
    try:
        for event, element in iterparse(BytesIO(xml), events=("start", "end"), forbid_dtd=True):
            tag = element.tag
            if event == "start":
                open_tags.append(tag)
                continue
            open_tags.pop()
            in_run = bool(open_tags) and open_tags[-1] == _RUN
            if tag == _TEXT and element.text:
                pieces.append(element.text)
                length += len(element.text)
                if length > max_chars:
                    break
            elif tag == _TAB and in_run:
                pieces.append("\t")
            elif (tag in _BREAKS and in_run) or tag == _PARAGRAPH:
                pieces.append("\n")
            # Finished elements are not needed again: clearing them keeps a large document's
            # tree from growing with it.
            element.clear()
    except (DefusedXmlException, ParseError) as exc:
        reason = (
            "declares a DTD or entities, which Word documents never do"
            if isinstance(exc, DefusedXmlException)
            else "is not well-formed XML"
        )
        raise ValidationFailed.on("file", f"{_DOCUMENT} {reason}") from None
    return "".join(pieces).rstrip("\n")


def _bomb(reason: str) -> ValidationFailed:
    return ValidationFailed.on("file", f"is refused as a possible zip bomb: the archive {reason}")
