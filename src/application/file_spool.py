"""An uploaded file as it arrives: counted against its type's limit, hashed and held (memory
first, then a temporary file) in one pass, so no layer spools or hashes it again."""

from __future__ import annotations

import asyncio
import hashlib
import tempfile

from domain.documents import FileType
from domain.errors import TooLarge

SPOOL_IN_MEMORY = 1024 * 1024  # bytes held in memory before an upload spills to a temp file
_WRITE_BATCH = 1024 * 1024  # bytes hashed and spooled per thread hop


class FileSpool:
    """An uploaded file as it arrives, under the limit of its type; made by
    `DocumentUploads.open_spool`, filled by whoever receives the bytes, read by
    `DocumentUploads.upload_spooled`.

    Each chunk is counted as it arrives, so the first byte over the limit raises `TooLarge`
    before more is read; bytes are hashed and spooled a batch at a time in a thread. Closing
    it (leaving its `with` block) removes its temporary file."""

    def __init__(self, filename: str, file_type: FileType) -> None:
        self.filename = filename
        self.file_type = file_type
        self.size = 0
        # Closed by `close` (the spool is itself the context manager).
        self._spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
        self._hasher = hashlib.sha256()
        self._batch: list[bytes] = []
        self._batched = 0

    def __enter__(self) -> FileSpool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._spool.close()

    async def write(self, chunk: bytes) -> None:
        """Take the next bytes of the file. Raises `TooLarge` past the type's limit."""
        self.size += len(chunk)
        if self.size > self.file_type.max_size_bytes:
            raise TooLarge(
                f".{self.file_type.extension} files may be at most "
                f"{self.file_type.max_size_bytes} bytes"
            )
        self._batch.append(chunk)
        self._batched += len(chunk)
        if self._batched >= _WRITE_BATCH:
            await self.flush()

    async def flush(self) -> None:
        """Hash and spool what `write` batched (`upload_spooled` does it too)."""
        if self._batch:
            data = b"".join(self._batch)
            self._batch, self._batched = [], 0
            await asyncio.to_thread(self._take, data)

    def _take(self, data: bytes) -> None:
        self._hasher.update(data)
        self._spool.write(data)

    @property
    def flushed(self) -> bool:
        """Every byte written is hashed (`sha256` may be read)."""
        return not self._batch

    @property
    def sha256(self) -> str:
        """The hex SHA-256 of every byte written (`flush` first)."""
        if self._batch:
            raise RuntimeError("the spool has bytes not yet flushed")
        return self._hasher.hexdigest()

    async def read(self) -> bytes:
        """Every byte written, once flushed."""
        await self.flush()

        def read_all() -> bytes:
            self._spool.seek(0)
            return self._spool.read()

        return await asyncio.to_thread(read_all)
