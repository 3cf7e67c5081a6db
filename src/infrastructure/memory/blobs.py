"""`BlobStore` in memory: the filesystem store's behaviour without the filesystem.

Held to the same contract suite (`tests/contract/test_blob_store.py`) as
`FilesystemBlobStore`: the same keys, the same errors, the same refusal of malformed keys, and
the same ages (a put of bytes already stored makes the blob young again).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from domain.blobs import StoredBlob
from domain.errors import NotFound, TooLarge, ValidationFailed
from infrastructure.blobs.keys import blob_key, checked_key


@dataclass(slots=True)
class _Blob:
    data: bytes
    stored_at: float


class InMemoryBlobStore:
    """Blobs in an instance-level dict; `clock` gives the time in seconds (any epoch)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._blobs: dict[str, _Blob] = {}
        self._clock = clock

    def key_for(self, sha256: str) -> str:
        return blob_key(sha256)

    async def put(self, chunks: AsyncIterator[bytes], max_bytes: int) -> StoredBlob:
        """Raises `TooLarge` as soon as more than `max_bytes` arrived, `ValidationFailed` on an
        empty stream; nothing is stored until the whole stream is in."""
        hasher = hashlib.sha256()
        parts: list[bytes] = []
        size = 0
        async for chunk in chunks:
            size += len(chunk)
            if size > max_bytes:
                raise TooLarge(f"file is larger than {max_bytes} bytes")
            hasher.update(chunk)
            parts.append(bytes(chunk))
        if size == 0:
            raise ValidationFailed.on("file", "is empty")
        digest = hasher.hexdigest()
        key = blob_key(digest)
        existing = self._blobs.get(key)
        if existing is None:
            self._blobs[key] = _Blob(b"".join(parts), self._clock())
        else:
            existing.stored_at = self._clock()
        return StoredBlob(key=key, sha256=digest, size_bytes=size)

    async def open(self, key: str, chunk_size: int = 64 * 1024) -> AsyncIterator[bytes]:
        """Raises `NotFound` here, before the first chunk, like the filesystem store."""
        checked_key(key)
        if chunk_size < 1:
            raise ValidationFailed.on("chunk_size", "must be positive")
        return _chunks(self._get(key).data, chunk_size)

    async def read(self, key: str) -> bytes:
        return self._get(key).data

    async def exists(self, key: str) -> bool:
        return checked_key(key) in self._blobs

    async def delete(self, key: str) -> None:
        self._blobs.pop(checked_key(key), None)

    async def keys_older_than(self, seconds: float) -> list[str]:
        cutoff = self._clock() - seconds
        return sorted(key for key, blob in self._blobs.items() if blob.stored_at < cutoff)

    def _get(self, key: str) -> _Blob:
        blob = self._blobs.get(checked_key(key))
        if blob is None:
            raise NotFound("blob", key)
        return blob


async def _chunks(data: bytes, chunk_size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), chunk_size):
        yield data[start : start + chunk_size]
