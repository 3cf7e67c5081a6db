"""SQLAlchemy repository of tags, with the most used tags among the documents a reader may read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.documents import Tag
from domain.users import User
from infrastructure.sqlalchemy import tables as t
from infrastructure.sqlalchemy.access import readable_by
from infrastructure.sqlalchemy.errors import translate_integrity_error

d = t.documents.c


def _tag(row: Any) -> Tag:
    m = row._mapping
    return Tag(m["id"], m["name"], m["color"], m["description"], m["is_active"], m["created_at"])


class SqlAlchemyTagRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, tag: Tag) -> None:
        try:
            await self._conn.execute(
                insert(t.tags),
                {
                    "id": tag.id,
                    "name": tag.name,
                    "color": tag.color,
                    "description": tag.description,
                    "is_active": tag.is_active,
                    "created_at": tag.created_at,
                },
            )
        except IntegrityError as err:
            raise translate_integrity_error(err) from err

    async def ensure(self, tag: Tag) -> Tag:
        # ON CONFLICT on the lower(name) index: a racing insert of the same name waits for
        # the other transaction and then does nothing, instead of aborting this one.
        await self._conn.execute(
            pg_insert(t.tags)
            .values(
                id=tag.id,
                name=tag.name,
                color=tag.color,
                description=tag.description,
                is_active=tag.is_active,
                created_at=tag.created_at,
            )
            .on_conflict_do_nothing(index_elements=[func.lower(t.tags.c.name)])
        )
        found = await self.get_by_names([tag.name])
        return found[0]

    async def get(self, tag_id: UUID) -> Tag | None:
        row = (await self._conn.execute(select(t.tags).where(t.tags.c.id == tag_id))).first()
        return _tag(row) if row is not None else None

    async def get_by_names(self, names: Sequence[str]) -> Sequence[Tag]:
        if not names:
            return []
        lowered = list({n.lower() for n in names})
        rows = await self._conn.execute(
            select(t.tags)
            .where(func.lower(t.tags.c.name).in_(lowered))
            .order_by(t.tags.c.name.collate("C"))
        )
        return [_tag(r) for r in rows]

    async def list(self) -> Sequence[Tag]:
        rows = await self._conn.execute(select(t.tags).order_by(t.tags.c.name.collate("C")))
        return [_tag(r) for r in rows]

    async def popular(self, reader: User, limit: int) -> Sequence[tuple[Tag, int]]:
        uses = func.count(t.document_tags.c.document_id)
        stmt = (
            select(t.tags, uses.label("uses"))
            .join_from(t.tags, t.document_tags, t.document_tags.c.tag_id == t.tags.c.id)
            .join(t.documents, d.id == t.document_tags.c.document_id)
            .where(readable_by(reader, include_trash=False))
            .group_by(t.tags.c.id)
            .order_by(uses.desc(), t.tags.c.name.collate("C"))
            .limit(limit)
        )
        return [(_tag(r), int(r.uses)) for r in await self._conn.execute(stmt)]

    async def update(self, tag: Tag) -> None:
        try:
            await self._conn.execute(
                update(t.tags)
                .where(t.tags.c.id == tag.id)
                .values(
                    name=tag.name,
                    color=tag.color,
                    description=tag.description,
                    is_active=tag.is_active,
                )
            )
        except IntegrityError as err:
            raise translate_integrity_error(err) from err

    async def delete(self, tag_id: UUID) -> None:
        await self._conn.execute(delete(t.tags).where(t.tags.c.id == tag_id))
