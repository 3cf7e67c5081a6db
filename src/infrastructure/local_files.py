"""A file of a local folder as an `ImportSource` (application/document_import.py): what
`archivist import DIR` and the consume folder read, named by its path under the folder."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

CHUNK: Final = 1024 * 1024  # bytes read at a time, in a worker thread


@dataclass(frozen=True)
class FolderFile:
    """A file under `root`, `size` bytes when it was found."""

    path: Path
    root: Path
    size: int

    @property
    def relative(self) -> Path:
        return self.path.relative_to(self.root)

    @property
    def name(self) -> str:
        """How reports name it: its path under the folder."""
        return self.relative.as_posix()

    @property
    def filename(self) -> str:
        return self.path.name

    @property
    def folders(self) -> tuple[str, ...]:
        """The sub-folders it is in, outermost first."""
        return self.relative.parts[:-1]

    async def sha256(self) -> str:
        return await asyncio.to_thread(_sha256, self.path)

    async def chunks(self) -> AsyncIterator[bytes]:
        with await asyncio.to_thread(self.path.open, "rb") as file:
            while chunk := await asyncio.to_thread(file.read, CHUNK):
                yield chunk


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
