"""SQLAlchemy repository of document categories."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.documents import Category
from infrastructure.sqlalchemy import tables as t
from infrastructure.sqlalchemy.errors import translate_integrity_error


def _category(row: Any) -> Category:
    m = row._mapping
    return Category(m["id"], m["name"], m["description"], m["is_active"], m["created_at"])


class SqlAlchemyCategoryRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, category: Category) -> None:
        try:
            await self._conn.execute(
                insert(t.categories),
                {
                    "id": category.id,
                    "name": category.name,
                    "description": category.description,
                    "is_active": category.is_active,
                    "created_at": category.created_at,
                },
            )
        except IntegrityError as err:
            raise translate_integrity_error(err) from err

    async def get(self, category_id: UUID) -> Category | None:
        row = (
            await self._conn.execute(select(t.categories).where(t.categories.c.id == category_id))
        ).first()
        return _category(row) if row is not None else None

    async def get_by_name(self, name: str) -> Category | None:
        row = (
            await self._conn.execute(select(t.categories).where(t.categories.c.name == name))
        ).first()
        return _category(row) if row is not None else None

    async def list(self) -> Sequence[Category]:
        rows = await self._conn.execute(
            select(t.categories).order_by(t.categories.c.name.collate("C"))
        )
        return [_category(r) for r in rows]

    async def update(self, category: Category) -> None:
        try:
            await self._conn.execute(
                update(t.categories)
                .where(t.categories.c.id == category.id)
                .values(
                    name=category.name,
                    description=category.description,
                    is_active=category.is_active,
                )
            )
        except IntegrityError as err:
            raise translate_integrity_error(err) from err

    async def delete(self, category_id: UUID) -> None:
        await self._conn.execute(delete(t.categories).where(t.categories.c.id == category_id))
