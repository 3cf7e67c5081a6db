"""Ports for file bytes and the text inside them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from domain.documents import DocumentType


@dataclass(frozen=True, slots=True)
class StoredBlob:
    key: str  # where the store keeps it: derived from the SHA-256, so equal bytes share a key
    sha256: str
    size_bytes: int


class BlobStore(Protocol):
    """Content-addressed storage of file bytes. A blob is never overwritten: writing bytes
    that are already stored is a no-op returning the same key."""

    def key_for(self, sha256: str) -> str:
        """The key the bytes with this SHA-256 are (or would be) stored under."""
        ...

    async def put(self, chunks: AsyncIterator[bytes], max_bytes: int) -> StoredBlob:
        """Stream `chunks` in, hashing as they come. Raises `TooLarge` as soon as more than
        `max_bytes` arrived (leaving nothing behind), `ValidationFailed` on an empty stream."""
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


class TextExtractor(Protocol):
    def extract(self, data: bytes, document_type: DocumentType) -> str:
        """The text of a file. Raises `ContentMismatch` when the bytes are not what the type
        claims (a .pdf that is text, a .docx that is not a zip), `ValidationFailed` when they
        cannot be read safely (undecodable text, a zip bomb, a truncated PDF)."""
        ...
