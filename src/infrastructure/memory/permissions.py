"""In-memory repository of per-document grants (permissions), with the SQL foreign keys."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from domain.documents import Document, Permission
from infrastructure import constraints
from infrastructure.constraints import conflict
from infrastructure.memory.table import StagedTable

PermKey = tuple[UUID, UUID]  # (user_id, document_id)


class InMemoryPermissionRepository:
    def __init__(
        self,
        table: StagedTable[PermKey, Permission],
        users: StagedTable[UUID, Any],
        documents: StagedTable[UUID, Document],
    ) -> None:
        self._t = table
        self._users = users
        self._docs = documents

    async def get(self, user_id: UUID, document_id: UUID) -> Permission | None:
        return self._t.get((user_id, document_id))

    async def list_for(self, document_id: UUID) -> Sequence[Permission]:
        rows = [p for p in self._t.values() if p.document_id == document_id]
        return sorted(rows, key=lambda p: (p.granted_at, p.id))

    async def put(self, permission: Permission) -> None:
        if not self._users.exists(permission.user_id):
            raise conflict(constraints.FK_PERMISSIONS_USER_ID_USERS)
        if not self._docs.exists(permission.document_id):
            raise conflict(constraints.FK_PERMISSIONS_DOCUMENT_ID_DOCUMENTS)
        existing = self._t.get((permission.user_id, permission.document_id))
        if existing is not None:  # an upsert keeps the row's id, as ON CONFLICT DO UPDATE does
            permission = dataclasses.replace(permission, id=existing.id)
        self._t.put((permission.user_id, permission.document_id), permission)

    async def delete(self, user_id: UUID, document_id: UUID) -> bool:
        return self._t.remove((user_id, document_id))
