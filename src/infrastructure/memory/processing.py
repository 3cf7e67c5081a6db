"""Documents' processing state in memory: rows keyed by (document id, kind), staged with the
unit of work like every table. A purge removes a document's rows (the SQL cascade:
`InMemoryDocumentRepository.purge`), and a unit of work's rows for a document purged by
another before it commits are dropped at commit (`settle`), as the SQL foreign key would
leave nothing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.processing import Processing, ProcessingState, check_kind, kept_reason
from infrastructure.memory.table import StagedTable

ProcessingKey = tuple[UUID, str]  # (document_id, kind)


class InMemoryProcessingRepository:
    def __init__(
        self,
        rows: StagedTable[ProcessingKey, Processing],
        documents: StagedTable[UUID, Any],
        *,
        autocommit: bool = False,
    ) -> None:
        self._t = rows
        self._docs = documents
        self._autocommit = autocommit

    async def mark(
        self,
        document_id: UUID,
        kind: str,
        state: ProcessingState,
        at: datetime,
        reason: str | None = None,
    ) -> None:
        check_kind(kind)
        state = ProcessingState(state)
        if not self._docs.exists(document_id):
            return
        self._t.put((document_id, kind), Processing(kind, state, kept_reason(state, reason), at))
        if self._autocommit:  # the SQL statement commits on its own
            self._t.apply()

    async def mark_all(
        self, document_ids: Sequence[UUID], kind: str, state: ProcessingState, at: datetime
    ) -> None:
        for document_id in document_ids:
            await self.mark(document_id, kind, state, at)

    async def of(self, document_id: UUID) -> Mapping[str, Processing]:
        return (await self.of_many([document_id])).get(document_id, {})

    async def of_many(
        self, document_ids: Sequence[UUID]
    ) -> Mapping[UUID, Mapping[str, Processing]]:
        wanted = set(document_ids)
        found: dict[UUID, dict[str, Processing]] = defaultdict(dict)
        for key in sorted(k for k in self._t.all_keys() if k[0] in wanted):
            row = self._t.get(key)
            if row is not None:
                found[key[0]][key[1]] = row
        return dict(found)

    def settle(self, documents: StagedTable[UUID, Any]) -> None:
        """Before commit: drop this unit's rows whose document is gone by now."""
        for key, _ in list(self._t.pending()):
            if not documents.exists(key[0]):
                self._t.remove(key)


def in_state(
    rows: StagedTable[ProcessingKey, Processing],
    document_id: UUID,
    states: frozenset[ProcessingState],
    kind: str | None,
) -> bool:
    """Whether a document has a row (of `kind`, or any kind) in one of `states`."""
    if kind is not None:
        row = rows.get((document_id, kind))
        return row is not None and row.state in states
    return any(
        k[0] == document_id and (row := rows.get(k)) is not None and row.state in states
        for k in rows.all_keys()
    )
