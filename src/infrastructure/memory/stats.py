"""`StatsRepository` over an `InMemoryStore`'s committed state: the same figures, order and
rounding as the SQL adapter (held to `tests/contract/test_stats.py`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

from domain import events
from domain.documents import Document
from domain.stats import (
    ArchiveSize,
    CategoryStatistics,
    DailyCount,
    DailyUploadOutcomes,
    DocumentActivity,
    TagUsage,
)
from domain.uploads import UploadStatus
from infrastructure.memory.store import InMemoryStore


def _utf8(text: str) -> bytes:
    return text.encode()


def _rounded_average(total: int, count: int) -> int:
    # PostgreSQL's round(numeric) rounds half away from zero; sizes are never negative.
    return (2 * total + count) // (2 * count) if count else 0


class InMemoryStatsRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    def _live(self) -> dict[UUID, Document]:
        return {k: d for k, d in self._store.documents.items() if d.deleted_at is None}

    async def category_statistics(self) -> Sequence[CategoryStatistics]:
        live = list(self._live().values())
        out = []
        for category in self._store.categories.values():
            docs = [d for d in live if d.category_id == category.id]
            total = sum(d.size_bytes for d in docs)
            out.append(
                CategoryStatistics(
                    category_id=category.id,
                    category=category.name,
                    document_count=len(docs),
                    total_size_bytes=total,
                    average_size_bytes=_rounded_average(total, len(docs)),
                    last_upload_at=max((d.created_at for d in docs), default=None),
                )
            )
        return sorted(out, key=lambda s: _utf8(s.category))

    async def uploads_per_day(self, since: datetime) -> Sequence[DailyCount]:
        days = Counter(
            e.occurred_at.astimezone(UTC).date()
            for e in self._store.events
            if e.action == events.DOCUMENT_UPLOADED and e.occurred_at >= since
        )
        return [DailyCount(day, days[day]) for day in sorted(days)]

    async def upload_outcomes_per_day(self, since: datetime) -> Sequence[DailyUploadOutcomes]:
        counted = Counter(
            (r.started_at.astimezone(UTC).date(), r.status.value)
            for r in self._store.uploads.values()
            if r.started_at >= since
        )
        days = sorted({day for day, _ in counted})
        return [
            DailyUploadOutcomes(day, **{s.value: counted[day, s.value] for s in UploadStatus})
            for day in days
        ]

    async def popular_tags(self, limit: int) -> Sequence[TagUsage]:
        live = self._live()
        uses = Counter(tag_id for doc_id, tag_id in self._store.doc_tags if doc_id in live)
        ranked = [
            TagUsage(tag.id, tag.name, uses[tag.id])
            for tag in self._store.tags.values()
            if uses[tag.id] > 0
        ]
        ranked.sort(key=lambda u: (-u.document_count, _utf8(u.name)))
        return ranked[:limit]

    async def most_active_documents(self, action: str, limit: int) -> Sequence[DocumentActivity]:
        live = {str(k): d for k, d in self._live().items()}
        counts = Counter(
            e.subject_id
            for e in self._store.events
            if e.action == action and e.subject_type == "document" and e.subject_id in live
        )
        ranked = [DocumentActivity(live[sid].id, live[sid].title, n) for sid, n in counts.items()]
        ranked.sort(key=lambda a: (-a.count, _utf8(a.title), a.document_id))
        return ranked[:limit]

    async def archive_size(self) -> ArchiveSize:
        documents = list(self._store.documents.values())
        live = sum(1 for d in documents if d.deleted_at is None)
        blobs: dict[str, int] = {}
        for d in documents:
            blobs[d.storage_key] = max(blobs.get(d.storage_key, 0), d.size_bytes)
        return ArchiveSize(live, len(documents) - live, sum(blobs.values()))
