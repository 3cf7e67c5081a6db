"""Ports for file bytes and the text inside them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from domain.documents import DocumentType


@dataclass(frozen=True, slots=True)
class StoredBlob:
    key: str  # where the store keeps it: derived from the SHA-256, so equal bytes share a key
    sha256: str
    size_bytes: int


@dataclass(frozen=True, slots=True)
class PartialUpload:
    """The bytes of a put that never finished: the process died while they streamed in."""

    name: str  # the store's name for it (not a key: no row ever references it)
    size_bytes: int


class BlobStore(Protocol):
    """Content-addressed storage of file bytes. A blob is never overwritten: writing bytes
    that are already stored is a no-op returning the same key."""

    def key_for(self, sha256: str) -> str:
        """The key the bytes with this SHA-256 are (or would be) stored under."""
        ...

    async def put(
        self, chunks: AsyncIterator[bytes], max_bytes: int, sha256: str | None = None
    ) -> StoredBlob:
        """Stream `chunks` in, hashing as they come. Raises `TooLarge` as soon as more than
        `max_bytes` arrived (leaving nothing behind), `ValidationFailed` on an empty stream.

        A caller that already hashed the bytes (an upload does, to lock their key before
        storing them) passes their hex SHA-256: the store keys them by it and does not hash
        them again. It must be the digest of exactly these bytes."""
        ...

    async def open(self, key: str, chunk_size: int = 64 * 1024) -> AsyncIterator[bytes]:
        """The stored bytes, in chunks. Raises `NotFound` if the key is unknown."""
        ...

    async def read(self, key: str) -> bytes:
        """All the bytes of a (small) blob. Raises `NotFound`."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def delete(self, key: str) -> None:
        """Remove a blob if present (purge calls it once no row references the key)."""
        ...

    async def keys_older_than(self, seconds: float) -> list[str]:
        """Keys of blobs written more than `seconds` ago (for sweeping unreferenced ones)."""
        ...

    async def partial_uploads_older_than(self, seconds: float) -> list[PartialUpload]:
        """Unfinished puts last written to more than `seconds` ago, by name. A crash leaves
        them behind; a put still streaming is one too, so `seconds` must exceed any pause
        in a live upload (purge uses the same grace period as for unreferenced blobs)."""
        ...

    async def delete_partial_upload(self, name: str) -> None:
        """Remove a partial upload if present; a put still writing it then fails (nothing
        is stored). Raises `ValidationFailed` for a name the store would never give."""
        ...


@dataclass(frozen=True, slots=True)
class ExtractedText:
    """What reading a file found: its text, and the PDF pages that have none (a scan, or a
    page of drawings), numbered from 1: the pages OCR may read."""

    text: str
    pages_without_text: tuple[int, ...] = ()


class TextExtractor(Protocol):
    def extract(self, data: bytes, document_type: DocumentType) -> str:
        """The text of a file. Raises `ContentMismatch` when the bytes are not what the type
        claims (a .pdf that is text, a .docx that is not a zip), `ValidationFailed` when they
        cannot be read safely (undecodable text, a zip bomb, a truncated PDF), and its
        subclass `ExtractionLimitExceeded` when reading them would cost more than one file may
        (pages, CPU time, memory, wall time). Blocking: callers run it in a thread."""
        ...

    def read(self, data: bytes, document_type: DocumentType) -> ExtractedText:
        """`extract`'s text, with the pages of a PDF that have no text layer (none for
        other types). Raises as `extract`."""
        ...


class OcrEngine(Protocol):
    """Reads the text of PDF pages that have no text layer from their pictures."""

    @property
    def ocr_problem(self) -> str | None:
        """None when OCR can run here; else why not (Tesseract is not installed, or lacks
        the data of a configured language). Decided once per process."""
        ...

    def ocr(self, data: bytes, extracted: ExtractedText) -> str:
        """The text of a PDF whose reading gave `extracted`: its text layer's text, then the
        text recognised on each of `extracted.pages_without_text` in page order (blank
        lines between pages), at most as long as extraction allows. Raises `OcrUnavailable`
        (with `ocr_problem`'s reason) when OCR cannot run, and what `extract` raises for a
        file or page that cannot be rendered or costs more than one file may. Blocking:
        callers run it in a thread."""
        ...


class ThumbnailRenderer(Protocol):
    def thumbnail(self, data: bytes, document_type: DocumentType, title: str, text: str) -> bytes:
        """A small picture of a document (WebP, at most 400 px wide): the first page of a
        PDF, else a card with `title` and the first lines of `text`. Raises as `extract` does
        for a file that cannot be rendered, or that costs more than one file may. Blocking:
        callers run it in a thread."""
        ...


class BlobLocks(Protocol):
    """One lock per blob key, shared by every process that uses the same blob store.

    Storing bytes and deleting them race: a purge that finds no row referencing a blob must
    not delete it while an upload of the same bytes has stored it but not yet committed its
    row. So an upload holds the key's lock from `BlobStore.put` until its row commits (or
    its blob is released), and a deletion from its reference check until the bytes are gone.
    """

    def hold(self, key: str) -> AbstractAsyncContextManager[None]:
        """Wait for the key's lock and hold it for the block. Raises `StorageUnavailable`
        when the lock cannot be taken because the database is unreachable."""
        ...

    def hold_many(self, keys: Collection[str]) -> AbstractAsyncContextManager[None]:
        """`hold` for several keys at once (a batch of uploads), taken in one order every
        holder follows, so two holders of overlapping sets never wait for each other in a
        circle."""
        ...
