"""SQLAlchemy repository of per-document grants (permissions)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.documents import Access, Permission
from infrastructure.sqlalchemy import tables as t
from infrastructure.sqlalchemy.errors import translate_integrity_error


def _permission(row: Any) -> Permission:
    m = row._mapping
    return Permission(
        m["id"],
        m["user_id"],
        m["document_id"],
        Access.parse(m["access"]),
        m["granted_by"],
        m["granted_at"],
    )


class SqlAlchemyPermissionRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, user_id: UUID, document_id: UUID) -> Permission | None:
        p = t.permissions.c
        row = (
            await self._conn.execute(
                select(t.permissions).where(p.user_id == user_id, p.document_id == document_id)
            )
        ).first()
        return _permission(row) if row is not None else None

    async def list_for(self, document_id: UUID) -> Sequence[Permission]:
        p = t.permissions.c
        rows = await self._conn.execute(
            select(t.permissions).where(p.document_id == document_id).order_by(p.granted_at, p.id)
        )
        return [_permission(r) for r in rows]

    async def put(self, permission: Permission) -> None:
        values = {
            "id": permission.id,
            "user_id": permission.user_id,
            "document_id": permission.document_id,
            "access": permission.access.label,
            "granted_by": permission.granted_by,
            "granted_at": permission.granted_at,
        }
        stmt = pg_insert(t.permissions).values(values)
        stmt = stmt.on_conflict_do_update(
            constraint="uq_permissions_user_id",
            set_={
                "access": stmt.excluded.access,
                "granted_by": stmt.excluded.granted_by,
                "granted_at": stmt.excluded.granted_at,
            },
        )
        try:
            await self._conn.execute(stmt)
        except IntegrityError as err:
            raise translate_integrity_error(err) from err

    async def delete(self, user_id: UUID, document_id: UUID) -> bool:
        p = t.permissions.c
        result = await self._conn.execute(
            delete(t.permissions).where(p.user_id == user_id, p.document_id == document_id)
        )
        return bool(result.rowcount)
