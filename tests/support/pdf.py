"""A tiny, valid PDF writer for tests: real files, no PDF library on the writing side.

Each page shows its lines in Helvetica (a standard font every reader has, so no font file is
embedded). The cross-reference table holds the exact byte offset of every object, as the
format requires, so a strict reader opens the file without any repair.
"""

from __future__ import annotations


def _escape(text: str) -> str:
    # Parentheses and backslashes are the only special characters of a literal string.
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _content_stream(lines: list[str]) -> bytes:
    ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
    for line in lines:
        ops.append(f"({_escape(line)}) Tj T*")
    ops.append("ET")
    return "\n".join(ops).encode("latin-1")


def pdf_with_pages(*pages: str) -> bytes:
    """A PDF with one page per argument; each page shows its text, one line per `\\n`.
    Text must be Latin-1 (Helvetica's WinAnsi encoding covers the ASCII a test needs)."""
    if not pages:
        raise ValueError("a PDF needs at least one page")
    page_count = len(pages)
    # Object numbers: 1 catalog, 2 page tree, 3 font, then a (page, content) pair per page.
    page_ids = [4 + 2 * i for i in range(page_count)]
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: (
            f"<< /Type /Pages /Kids [{' '.join(f'{p} 0 R' for p in page_ids)}] "
            f"/Count {page_count} >>"
        ).encode(),
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    }
    for page_id, text in zip(page_ids, pages, strict=True):
        stream = _content_stream(text.split("\n"))
        objects[page_id] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {page_id + 1} 0 R >>"
        ).encode()
        objects[page_id + 1] = (
            b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream"
        )

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")  # binary comment: marks the file as binary
    offsets: dict[int, int] = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += f"{number} 0 obj\n".encode() + objects[number] + b"\nendobj\n"
    xref_at = len(out)
    size = max(objects) + 1
    out += f"xref\n0 {size}\n".encode()
    out += b"0000000000 65535 f \n"  # each entry is exactly 20 bytes, EOL included
    for number in range(1, size):
        out += f"{offsets[number]:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {size} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(out)


def one_page_pdf(text: str) -> bytes:
    """A one-page PDF showing `text`."""
    return pdf_with_pages(text)
