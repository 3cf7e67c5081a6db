"""`BlobStore` in memory: the filesystem store's behaviour without the filesystem.

Held to the same contract suite (`tests/contract/test_blob_store.py`) as
`FilesystemBlobStore`: the same keys, the same errors, the same refusal of malformed keys, and
the same ages (a put of bytes already stored makes the blob young again). A put in progress
is a partial upload, as its temporary file is on disk, so the sweep of those is the same too.
"""

from __future__ import annotations

import errno
import hashlib
import itertools
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from domain.blobs import PartialUpload, StoredBlob
from domain.errors import NotFound, TooLarge, ValidationFailed
from infrastructure.blobs.keys import blob_key, checked_key

_PARTIAL_NAME = re.compile(r"put-[A-Za-z0-9_]{1,64}")


@dataclass(slots=True)
class _Blob:
    data: bytes
    stored_at: float


@dataclass(slots=True)
class _Partial:
    size_bytes: int
    written_at: float


class InMemoryBlobStore:
    """Blobs in an instance-level dict; `clock` gives the time in seconds (any epoch)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._blobs: dict[str, _Blob] = {}
        self._partial: dict[str, _Partial] = {}  # puts in progress, by name
        self._names = itertools.count(1)
        self._clock = clock

    def key_for(self, sha256: str) -> str:
        return blob_key(sha256)

    async def put(
        self, chunks: AsyncIterator[bytes], max_bytes: int, sha256: str | None = None
    ) -> StoredBlob:
        """Raises `TooLarge` as soon as more than `max_bytes` arrived, `ValidationFailed` on an
        empty stream; nothing is stored until the whole stream is in."""
        hasher = hashlib.sha256() if sha256 is None else None  # given: not hashed again
        parts: list[bytes] = []
        size = 0
        name = f"put-{next(self._names)}"
        partial = self._partial[name] = _Partial(0, self._clock())
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(f"file is larger than {max_bytes} bytes")
                if hasher is not None:
                    hasher.update(chunk)
                parts.append(bytes(chunk))
                partial.size_bytes, partial.written_at = size, self._clock()
            if size == 0:
                raise ValidationFailed.on("file", "is empty")
            if self._partial.get(name) is not partial:  # swept while it streamed in
                raise FileNotFoundError(errno.ENOENT, "the partial upload was deleted", name)
        finally:
            if self._partial.get(name) is partial:
                del self._partial[name]
        digest = hasher.hexdigest() if hasher is not None else sha256
        assert digest is not None  # one of the two is set
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

    async def partial_uploads_older_than(self, seconds: float) -> list[PartialUpload]:
        cutoff = self._clock() - seconds
        return [
            PartialUpload(name, partial.size_bytes)
            for name, partial in sorted(self._partial.items())
            if partial.written_at < cutoff
        ]

    async def delete_partial_upload(self, name: str) -> None:
        if _PARTIAL_NAME.fullmatch(name) is None:
            raise ValidationFailed.on("name", "is not the name of a partial upload")
        self._partial.pop(name, None)

    def _get(self, key: str) -> _Blob:
        blob = self._blobs.get(checked_key(key))
        if blob is None:
            raise NotFound("blob", key)
        return blob


async def _chunks(data: bytes, chunk_size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), chunk_size):
        yield data[start : start + chunk_size]
