"""In-memory repository of the file types uploads are checked against."""

from __future__ import annotations

from collections.abc import Sequence

from domain.documents import FileType
from infrastructure.memory.table import StagedTable


class InMemoryFileTypeRepository:
    def __init__(self, table: StagedTable[str, FileType]) -> None:
        self._t = table

    async def get(self, extension: str) -> FileType | None:
        return self._t.get(extension)

    async def list(self) -> Sequence[FileType]:
        return sorted(self._t.values(), key=lambda f: f.extension)

    async def put(self, file_type: FileType) -> None:
        self._t.put(file_type.extension, file_type)
