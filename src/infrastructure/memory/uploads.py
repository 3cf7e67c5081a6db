"""Upload records in memory: a staged table, newest first by (started_at, id)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from domain.pagination import UPLOADS, Page, PageRequest
from domain.uploads import UploadFilter, UploadRecord
from infrastructure import constraints
from infrastructure.constraints import conflict
from infrastructure.memory.table import StagedTable


class InMemoryUploadRepository:
    def __init__(self, table: StagedTable[UUID, UploadRecord]) -> None:
        self._t = table

    async def add(self, record: UploadRecord) -> None:
        if self._t.exists(record.id):
            raise conflict(constraints.PK_UPLOADS)
        self._t.put(record.id, copy.deepcopy(record))

    async def add_all(self, records: Sequence[UploadRecord]) -> None:
        if len({r.id for r in records}) < len(records):
            raise conflict(constraints.PK_UPLOADS)
        if any(self._t.exists(r.id) for r in records):  # all or none, as one statement
            raise conflict(constraints.PK_UPLOADS)
        for record in records:
            await self.add(record)

    async def list(self, filters: UploadFilter, page: PageRequest) -> Page[UploadRecord]:
        rows = sorted(
            (r for r in self._t.values() if filters.matches(r)),
            key=lambda r: (r.started_at, r.id),
            reverse=True,
        )
        after = UPLOADS.after(page)
        if after is not None:
            rows = [r for r in rows if UPLOADS.beyond((r.started_at, r.id), after)]
        items = [copy.deepcopy(r) for r in rows[: page.limit + 1]]
        return UPLOADS.page(items, page.limit, lambda r: (r.started_at, r.id))

    async def delete_before(self, cutoff: datetime, limit: int, *, dry_run: bool = False) -> int:
        doomed = sorted(
            (r for r in self._t.values() if r.started_at < cutoff),
            key=lambda r: (r.started_at, r.id),
        )[:limit]
        if not dry_run:
            for record in doomed:
                self._t.remove(record.id)
        return len(doomed)
