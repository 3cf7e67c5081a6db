"""Plain text (TXT, MARKDOWN): UTF-8, or UTF-16/32 announced by a byte-order mark."""

from __future__ import annotations

import codecs
from typing import Final

from domain.errors import ContentMismatch, ValidationFailed

# Byte-order marks, longest first: the UTF-32-LE mark begins with the UTF-16-LE one.
_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)
# Signatures of formats that are certainly not text, checked before decoding so a renamed
# binary gets "not what it claims" rather than a confusing decoding error.
_BINARY_SIGNATURES: Final = (
    (b"%PDF-", "a PDF"),
    (b"PK\x03\x04", "a ZIP archive (perhaps a Word document)"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
)


def decode_text(data: bytes) -> str:
    """The text of `data`. Raises `ContentMismatch` for plainly binary bytes (a known binary
    signature, or NUL bytes without a UTF-16/32 byte-order mark) and `ValidationFailed` for
    bytes that are not valid in their encoding."""
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            return _decode(data[len(bom) :], codec, label, offset=len(bom))
    for signature, what in _BINARY_SIGNATURES:
        if data.startswith(signature):
            raise ContentMismatch(f"file: claims to be text but is {what}")
    if b"\x00" in data:
        raise ContentMismatch("file: claims to be text but holds binary data (NUL bytes)")
    return _decode(data, "utf-8", "UTF-8")


def _decode(data: bytes, codec: str, label: str, offset: int = 0) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1].hex()
        raise ValidationFailed.on(
            "file",
            f"is not {label} text (byte 0x{bad} at offset {offset + exc.start} is invalid); "
            f"save it as {label} and upload it again",
        ) from None
