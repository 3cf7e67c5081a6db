"""Upload records in PostgreSQL: the `uploads` table (migration 0010), newest first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.pagination import UPLOADS, Page, PageRequest
from domain.uploads import UploadFilter, UploadRecord, UploadSource, UploadStatus
from infrastructure.sqlalchemy import tables as t
from infrastructure.sqlalchemy.errors import translate_integrity_error
from infrastructure.sqlalchemy.paging import one_page

u = t.uploads.c
_ORDER = (u.started_at, u.id)


def _record(row: Any) -> UploadRecord:
    m = row._mapping
    return UploadRecord(
        id=m["id"],
        source=UploadSource(m["source"]),
        user_id=m["user_id"],
        client_ip=m["client_ip"],
        user_agent=m["user_agent"],
        filename=m["filename"],
        size_bytes=m["size_bytes"],
        sha256=m["sha256"],
        status=UploadStatus(m["status"]),
        error_code=m["error_code"],
        started_at=m["started_at"],
        completed_at=m["completed_at"],
        document_id=m["document_id"],
    )


_INSERT_UPLOAD = insert(t.uploads)


def _upload_values(record: UploadRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "source": record.source.value,
        "user_id": record.user_id,
        "client_ip": record.client_ip,
        "user_agent": record.user_agent,
        "filename": record.filename,
        "size_bytes": record.size_bytes,
        "sha256": record.sha256,
        "status": record.status.value,
        "error_code": record.error_code,
        "started_at": record.started_at,
        "completed_at": record.completed_at,
        "document_id": record.document_id,
    }


class SqlAlchemyUploadRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, record: UploadRecord) -> None:
        await self.add_all([record])

    async def add_all(self, records: Sequence[UploadRecord]) -> None:
        if not records:
            return
        try:  # one executemany: the driver sends the rows in one round trip
            await self._conn.execute(_INSERT_UPLOAD, [_upload_values(r) for r in records])
        except IntegrityError as err:
            raise translate_integrity_error(err) from err

    async def list(self, filters: UploadFilter, page: PageRequest) -> Page[UploadRecord]:
        conds: list[ColumnElement[bool]] = []
        if filters.status is not None:
            conds.append(u.status == filters.status.value)
        if filters.source is not None:
            conds.append(u.source == filters.source.value)
        if filters.user_id is not None:
            conds.append(u.user_id == filters.user_id)
        if filters.since is not None:
            conds.append(u.started_at >= filters.since)
        if filters.until is not None:
            conds.append(u.started_at < filters.until)
        stmt = one_page(select(t.uploads).where(*conds), UPLOADS, _ORDER, page)
        rows = (await self._conn.execute(stmt)).all()
        return UPLOADS.page([_record(r) for r in rows], page.limit, lambda r: (r.started_at, r.id))

    async def delete_before(self, cutoff: datetime, limit: int, *, dry_run: bool = False) -> int:
        oldest = select(u.id).where(u.started_at < cutoff).order_by(*_ORDER).limit(limit)
        if dry_run:
            counted = select(func.count()).select_from(oldest.subquery())
            return int((await self._conn.execute(counted)).scalar_one())
        result = await self._conn.execute(
            delete(t.uploads).where(u.id.in_(oldest.scalar_subquery()))
        )
        return int(result.rowcount)
