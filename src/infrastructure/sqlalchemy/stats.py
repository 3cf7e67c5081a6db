"""`StatsRepository` in SQL: the `category_statistics` view (migration 0002) read as a
lightweight Core `table()`, the other figures as Core aggregate queries.

Each method runs on a connection of its own in autocommit mode: the figures are read-only
and need not be consistent with each other, so a transaction would only add round trips."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, DateTime, String, Text, cast, column, func, select, table
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain import events
from domain.stats import (
    ArchiveSize,
    CategoryStatistics,
    DailyCount,
    DailyUploadOutcomes,
    DocumentActivity,
    TagUsage,
)
from infrastructure.sqlalchemy import tables as t
from infrastructure.sqlalchemy.availability import storage_errors

category_statistics = table(
    "category_statistics",
    column("category_id", UUID(as_uuid=True)),
    column("category", String),
    column("document_count", BigInteger),
    column("total_size_bytes", BigInteger),
    column("average_size_bytes", BigInteger),
    column("last_upload_at", DateTime(timezone=True)),
)

_d = t.documents
_e = t.events


class SqlAlchemyStatsRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def _all(self, stmt: Any) -> Sequence[Any]:
        async with storage_errors(connecting=True), self._engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            return await _rows(conn, stmt)

    async def category_statistics(self) -> Sequence[CategoryStatistics]:
        v = category_statistics.c
        stmt = select(category_statistics).order_by(v.category.collate("C"))
        return [
            CategoryStatistics(
                category_id=r.category_id,
                category=r.category,
                document_count=int(r.document_count),
                total_size_bytes=int(r.total_size_bytes),
                average_size_bytes=int(r.average_size_bytes),
                last_upload_at=r.last_upload_at,
            )
            for r in await self._all(stmt)
        ]

    async def uploads_per_day(self, since: datetime) -> Sequence[DailyCount]:
        day = cast(func.timezone("UTC", _e.c.occurred_at), Date).label("day")
        stmt = (
            select(day, func.count().label("n"))
            .where(_e.c.action == events.DOCUMENT_UPLOADED, _e.c.occurred_at >= since)
            .group_by(day)
            .order_by(day)
        )
        return [DailyCount(r.day, int(r.n)) for r in await self._all(stmt)]

    async def upload_outcomes_per_day(self, since: datetime) -> Sequence[DailyUploadOutcomes]:
        u = t.uploads.c
        day = cast(func.timezone("UTC", u.started_at), Date).label("day")
        stmt = (
            select(day, u.status, func.count().label("n"))
            .where(u.started_at >= since)
            .group_by(day, u.status)
            .order_by(day)
        )
        counted: dict[date, dict[str, int]] = {}
        for r in await self._all(stmt):
            counted.setdefault(r.day, {})[r.status] = int(r.n)
        return [DailyUploadOutcomes(day, **by_status) for day, by_status in counted.items()]

    async def popular_tags(self, limit: int) -> Sequence[TagUsage]:
        tags, links = t.tags, t.document_tags
        uses = func.count(links.c.document_id).label("uses")
        stmt = (
            select(tags.c.id, tags.c.name, uses)
            .join_from(tags, links, links.c.tag_id == tags.c.id)
            .join(_d, _d.c.id == links.c.document_id)
            .where(_d.c.deleted_at.is_(None))
            .group_by(tags.c.id, tags.c.name)
            .order_by(uses.desc(), tags.c.name.collate("C"))
            .limit(limit)
        )
        return [TagUsage(r.id, r.name, int(r.uses)) for r in await self._all(stmt)]

    async def most_active_documents(self, action: str, limit: int) -> Sequence[DocumentActivity]:
        n = func.count(_e.c.id).label("n")
        stmt = (
            select(_d.c.id, _d.c.title, n)
            .join_from(_d, _e, _e.c.subject_id == cast(_d.c.id, Text))
            .where(
                _e.c.action == action,
                _e.c.subject_type == "document",
                _d.c.deleted_at.is_(None),
            )
            .group_by(_d.c.id, _d.c.title)
            .order_by(n.desc(), _d.c.title.collate("C"), _d.c.id)
            .limit(limit)
        )
        return [DocumentActivity(r.id, r.title, int(r.n)) for r in await self._all(stmt)]

    async def archive_size(self) -> ArchiveSize:
        blobs = (
            select(func.max(_d.c.size_bytes).label("size")).group_by(_d.c.storage_key).subquery()
        )
        stmt = select(
            func.count().filter(_d.c.deleted_at.is_(None)).label("live"),
            func.count().filter(_d.c.deleted_at.is_not(None)).label("trashed"),
            select(func.coalesce(func.sum(blobs.c.size), 0)).scalar_subquery().label("bytes"),
        ).select_from(_d)
        row = (await self._all(stmt))[0]
        return ArchiveSize(int(row.live), int(row.trashed), int(row.bytes))


async def _rows(conn: AsyncConnection, stmt: Any) -> Sequence[Any]:
    return (await conn.execute(stmt)).all()
