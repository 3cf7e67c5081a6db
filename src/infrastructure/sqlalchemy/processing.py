"""Documents' processing state in PostgreSQL: the `document_processing` table (migration 0011),
one row per document and kind, gone with its document (ON DELETE CASCADE)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import DateTime, String, Text, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.processing import Processing, ProcessingState, check_kind, kept_reason
from infrastructure.sqlalchemy import tables as t

p = t.document_processing.c


def _processing(row: Any) -> Processing:
    return Processing(
        kind=row.kind,
        state=ProcessingState(row.state),
        reason=row.reason,
        updated_at=row.updated_at,
    )


class SqlAlchemyProcessingRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def mark(
        self,
        document_id: UUID,
        kind: str,
        state: ProcessingState,
        at: datetime,
        reason: str | None = None,
    ) -> None:
        await self._mark([document_id], kind, state, at, reason)

    async def mark_all(
        self, document_ids: Sequence[UUID], kind: str, state: ProcessingState, at: datetime
    ) -> None:
        if document_ids:
            await self._mark(document_ids, kind, state, at, None)

    async def _mark(
        self,
        document_ids: Sequence[UUID],
        kind: str,
        state: ProcessingState,
        at: datetime,
        reason: str | None,
    ) -> None:
        check_kind(kind)
        state = ProcessingState(state)
        d = t.documents.c
        # The row is written only for a document that exists, read with FOR KEY SHARE: a
        # purge committing meanwhile makes the select find nothing (after waiting for it),
        # where a plain INSERT would break the foreign key and abort the transaction.
        source = (
            select(
                d.id,
                literal(kind, String),
                literal(state.value, String),
                literal(kept_reason(state, reason), Text),
                literal(at, DateTime(timezone=True)),
            )
            .where(d.id.in_(list(dict.fromkeys(document_ids))))
            .with_for_update(read=True, key_share=True)
        )
        stmt = insert(t.document_processing).from_select(
            ["document_id", "kind", "state", "reason", "updated_at"], source
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[p.document_id, p.kind],
            set_={
                "state": stmt.excluded.state,
                "reason": stmt.excluded.reason,
                "updated_at": stmt.excluded.updated_at,
            },
        )
        await self._conn.execute(stmt)

    async def of(self, document_id: UUID) -> Mapping[str, Processing]:
        return (await self.of_many([document_id])).get(document_id, {})

    async def of_many(
        self, document_ids: Sequence[UUID]
    ) -> Mapping[UUID, Mapping[str, Processing]]:
        if not document_ids:
            return {}
        rows = await self._conn.execute(
            select(p.document_id, p.kind, p.state, p.reason, p.updated_at)
            .where(p.document_id.in_(list(dict.fromkeys(document_ids))))
            .order_by(p.document_id, p.kind)
        )
        found: dict[UUID, dict[str, Processing]] = defaultdict(dict)
        for row in rows:
            found[row.document_id][row.kind] = _processing(row)
        return dict(found)
