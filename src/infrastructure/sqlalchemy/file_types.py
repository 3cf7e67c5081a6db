"""SQLAlchemy repository of the file types uploads are checked against."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.documents import FileType
from infrastructure.sqlalchemy import tables as t


def _file_type(row: Any) -> FileType:
    m = row._mapping
    return FileType(
        m["extension"], m["mime_type"], m["is_allowed"], m["max_size_bytes"], m["description"]
    )


class SqlAlchemyFileTypeRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, extension: str) -> FileType | None:
        row = (
            await self._conn.execute(
                select(t.file_types).where(t.file_types.c.extension == extension)
            )
        ).first()
        return _file_type(row) if row is not None else None

    async def list(self) -> Sequence[FileType]:
        rows = await self._conn.execute(select(t.file_types).order_by(t.file_types.c.extension))
        return [_file_type(r) for r in rows]

    async def put(self, file_type: FileType) -> None:
        values = {
            "extension": file_type.extension,
            "mime_type": file_type.mime_type,
            "is_allowed": file_type.is_allowed,
            "max_size_bytes": file_type.max_size_bytes,
            "description": file_type.description,
        }
        stmt = pg_insert(t.file_types).values(values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.file_types.c.extension],
            set_={k: stmt.excluded[k] for k in values if k != "extension"},
        )
        await self._conn.execute(stmt)
