"""SQLAlchemy repository of documents: writes (with the search vector), reads filtered by the
reader's rights in SQL, keyset-paged listings and their sort columns, duplicates, trash."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    union,
    update,
)
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.document_ports import DocumentFilter, DocumentSort, DuplicateGroup, Readable
from domain.documents import Access, Document
from domain.events import Event
from domain.pagination import Page, PageRequest
from domain.users import User
from infrastructure.search_index.analysis import document_vector
from infrastructure.sqlalchemy import tables as t
from infrastructure.sqlalchemy.access import in_trash_of, readable_by, reader_shape, reader_values
from infrastructure.sqlalchemy.document_filters import filter_conditions
from infrastructure.sqlalchemy.document_rows import (
    CATEGORY_NAME,
    DOC_COLUMNS,
    LIST_COLUMNS,
    TAG_NAMES,
    WITH_CATEGORY,
    Record,
    document,
    view_statement,
)
from infrastructure.sqlalchemy.errors import translate_integrity_error
from infrastructure.sqlalchemy.paging import in_order, one_page
from infrastructure.tuning import Tuning

d = t.documents.c


async def _search_vector(doc: Document) -> str:
    """The document's search vector (tsvector text). A long text is analysed in a worker
    thread (~1 ms per 1,000 words, 0.2-0.4 s for the longest indexed text), so the event loop
    keeps serving meanwhile."""
    if len(doc.content or "") < _ANALYSE_INLINE_CHARS:
        return document_vector(doc.title, doc.content)
    return await asyncio.to_thread(document_vector, doc.title, doc.content)


_ANALYSE_INLINE_CHARS = 20_000
_INSERT_DOCUMENT = insert(t.documents)


def _document_values(doc: Document, search_vector: str) -> dict[str, Any]:
    """The row, with its search vector (a text literal, cast by the column's bind)."""
    return {
        "search_vector": search_vector,
        "id": doc.id,
        "title": doc.title,
        "content": doc.content or "",
        "document_type": doc.document_type.value,
        "source": doc.source,
        "access_level": int(doc.access_level),
        "department": doc.department,
        "metadata": doc.metadata,
        "owner_id": doc.owner_id,
        "category_id": doc.category_id,
        "original_filename": doc.original_filename,
        "extension": doc.extension,
        "mime_type": doc.mime_type,
        "size_bytes": doc.size_bytes,
        "sha256": doc.sha256,
        "storage_key": doc.storage_key,
        "thumbnail_key": doc.thumbnail_key,
        "version": doc.version,
        "deleted_at": doc.deleted_at,
        "created_at": doc.created_at,
        "updated_at": doc.updated_at,
    }


# The sorted column of each sort (then the id; the direction is the sort's `keyset`).
_SORT_COLUMNS: dict[DocumentSort, ColumnElement[Any]] = {
    DocumentSort.CREATED: d.created_at,
    DocumentSort.CREATED_DESC: d.created_at,
    # Byte order ("C" collation) so every server, and the in-memory adapter, sort alike.
    DocumentSort.TITLE: d.title.collate("C"),
    DocumentSort.TITLE_DESC: d.title.collate("C"),
    DocumentSort.SIZE: d.size_bytes,
    DocumentSort.SIZE_DESC: d.size_bytes,
}

_TAGS_OF = (
    select(t.document_tags.c.document_id, t.tags.c.name)
    .join_from(t.document_tags, t.tags, t.tags.c.id == t.document_tags.c.tag_id)
    .where(t.document_tags.c.document_id.in_(bindparam("ids", expanding=True)))
    .order_by(t.document_tags.c.document_id, t.tags.c.name.collate("C"))
)


def _sort_value(doc: Document, sort: DocumentSort) -> str | int | datetime:
    if sort in (DocumentSort.CREATED, DocumentSort.CREATED_DESC):
        return doc.created_at
    if sort in (DocumentSort.TITLE, DocumentSort.TITLE_DESC):
        return doc.title
    return doc.size_bytes


class SqlAlchemyDocumentRepository:
    def __init__(self, conn: AsyncConnection, tuning: Tuning) -> None:
        self._conn = conn
        self._tuning = tuning

    async def add(self, doc: Document) -> None:
        await self.add_all([doc])

    async def add_all(self, docs: Sequence[Document]) -> None:
        if not docs:
            return
        values = [_document_values(doc, await _search_vector(doc)) for doc in docs]
        try:  # one executemany: the driver sends the rows in one round trip
            await self._conn.execute(_INSERT_DOCUMENT, values)
        except IntegrityError as err:
            raise translate_integrity_error(err) from err

    async def tags_of(self, ids: Sequence[UUID]) -> dict[UUID, list[str]]:
        out: dict[UUID, list[str]] = defaultdict(list)
        if ids:
            for row in await self._conn.execute(_TAGS_OF, {"ids": list(ids)}):
                out[row.document_id].append(row.name)
        return out

    async def get_readable(
        self, doc_id: UUID, reader: User, *, include_trash: bool = True
    ) -> Readable | None:
        grant = (
            select(t.permissions.c.access)
            .where(t.permissions.c.document_id == d.id, t.permissions.c.user_id == reader.id)
            .scalar_subquery()
        )
        stmt = (
            select(*DOC_COLUMNS, CATEGORY_NAME, grant.label("grant_access"))
            .select_from(WITH_CATEGORY)
            .where(d.id == doc_id, readable_by(reader, include_trash=include_trash))
        )
        row = (await self._conn.execute(stmt)).first()
        if row is None:
            return None
        tags = (await self.tags_of([doc_id])).get(doc_id, [])
        access = row.grant_access
        return Readable(document(row, tags), Access.parse(access) if access else None)

    async def list_readable(
        self, reader: User, filters: DocumentFilter, sort: DocumentSort, page: PageRequest
    ) -> Page[Document]:
        visible = (
            in_trash_of(reader) if filters.deleted else readable_by(reader, include_trash=False)
        )
        conditions = await filter_conditions(self._conn, filters, self._tuning)
        if conditions is None:
            return Page([], None)
        column = _SORT_COLUMNS[sort]
        # Deferred join: the page's ids first, from columns the covering indexes hold
        # (migration 0007), so a filtered walk reads the heap only for the page's rows;
        # then those rows with their category name and tags, in one statement.
        keys = select(d.id.label("id")).where(visible, *conditions)
        keyset, columns = sort.keyset, (column, d.id)
        # A filtered page took twice as long with a bound LIMIT (`one_page`).
        paged = one_page(keys, keyset, columns, page, literal_limit=True).subquery("page")
        stmt = (
            select(*LIST_COLUMNS, TAG_NAMES)
            .select_from(WITH_CATEGORY.join(paged, paged.c.id == d.id))
            .order_by(*in_order(keyset, columns))
        )
        rows = (await self._conn.execute(stmt)).all()
        items = [document(r, list(r.tag_names)) for r in rows]
        return keyset.page(items, page.limit, lambda doc: (_sort_value(doc, sort), doc.id))

    async def update(self, doc: Document, expected_version: int) -> bool:
        values = _document_values(doc, await _search_vector(doc))
        # The thumbnail is `set_thumbnail`'s: a change must not put back the one it read.
        del values["id"], values["created_at"], values["thumbnail_key"]
        result = await self._conn.execute(
            update(t.documents).where(d.id == doc.id, d.version == expected_version).values(values)
        )
        return bool(result.rowcount)

    async def set_tags(self, doc_id: UUID, tag_ids: Sequence[UUID]) -> None:
        await self._conn.execute(
            delete(t.document_tags).where(t.document_tags.c.document_id == doc_id)
        )
        if tag_ids:
            await self._conn.execute(
                insert(t.document_tags),
                [{"document_id": doc_id, "tag_id": tag_id} for tag_id in dict.fromkeys(tag_ids)],
            )

    async def purge(self, doc_id: UUID) -> None:
        await self._conn.execute(delete(t.documents).where(d.id == doc_id))

    async def readable_with_sha256(self, sha256: str, reader: User) -> Sequence[Document]:
        stmt = (
            select(*LIST_COLUMNS)
            .select_from(WITH_CATEGORY)
            .where(d.sha256 == sha256, readable_by(reader, include_trash=False))
            .order_by(d.created_at, d.id)
        )
        rows = (await self._conn.execute(stmt)).all()
        return [document(r) for r in rows]

    async def first_readable_with_sha256(
        self, sha256s: Collection[str], reader: User
    ) -> Mapping[str, Document]:
        if not sha256s:
            return {}
        stmt = (
            select(*LIST_COLUMNS)
            .select_from(WITH_CATEGORY)
            .where(d.sha256.in_(sorted(set(sha256s))), readable_by(reader, include_trash=False))
            .order_by(d.sha256, d.created_at, d.id)
            .ext(distinct_on(d.sha256))
        )
        return {row.sha256: document(row) for row in (await self._conn.execute(stmt)).all()}

    async def duplicate_groups(self, reader: User, limit: int) -> Sequence[DuplicateGroup]:
        visible = readable_by(reader, include_trash=False)
        shared = (
            select(d.sha256)
            .where(visible)
            .group_by(d.sha256)
            .having(func.count() > 1)
            .order_by(func.count().desc(), d.sha256)
            .limit(limit)
        ).subquery()
        stmt = (
            select(*LIST_COLUMNS)
            .select_from(WITH_CATEGORY)
            .where(visible, d.sha256.in_(select(shared.c.sha256)))
            .order_by(d.sha256, d.created_at, d.id)
        )
        groups: dict[str, list[Document]] = defaultdict(list)
        for row in (await self._conn.execute(stmt)).all():
            groups[row.sha256].append(document(row))
        ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        return [DuplicateGroup(sha, tuple(docs)) for sha, docs in ordered]

    async def get(self, doc_id: UUID) -> Document | None:
        stmt = select(*DOC_COLUMNS, CATEGORY_NAME).select_from(WITH_CATEGORY).where(d.id == doc_id)
        row = (await self._conn.execute(stmt)).first()
        if row is None:
            return None
        return document(row, (await self.tags_of([doc_id])).get(doc_id, []))

    async def set_thumbnail(self, doc_id: UUID, key: str) -> bool:
        stmt = update(t.documents).where(d.id == doc_id).values(thumbnail_key=key)
        return bool((await self._conn.execute(stmt)).rowcount)

    async def without_thumbnail(self) -> Sequence[UUID]:
        stmt = select(d.id).where(d.thumbnail_key.is_(None)).order_by(d.created_at, d.id)
        return list((await self._conn.execute(stmt)).scalars())

    async def count_referencing(self, storage_key: str) -> int:
        """Documents whose file or thumbnail is the blob `storage_key`."""
        stmt = (
            select(func.count())
            .select_from(t.documents)
            .where(or_(d.storage_key == storage_key, d.thumbnail_key == storage_key))
        )
        return int((await self._conn.execute(stmt)).scalar_one())

    async def storage_keys(self) -> set[str]:
        files = select(d.storage_key)
        thumbnails = select(d.thumbnail_key).where(d.thumbnail_key.is_not(None))
        rows = await self._conn.execute(union(files, thumbnails))
        return {r[0] for r in rows}

    async def trashed_before(self, cutoff: datetime, limit: int) -> Sequence[Document]:
        stmt = (
            select(*LIST_COLUMNS)
            .select_from(WITH_CATEGORY)
            .where(d.deleted_at.is_not(None), d.deleted_at < cutoff)
            .order_by(d.deleted_at, d.id)
            .limit(limit)
        )
        return [document(r) for r in (await self._conn.execute(stmt)).all()]


class SqlAlchemyDocumentViews:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def open(self, doc_id: UUID, reader: User, viewed: Event) -> Readable | None:
        """One statement, one round trip: the readable document with its category name,
        tags and the reader's grant, and — only if a row came back — the view event, inserted
        by a data-modifying CTE. Built with Core from the same `readable_by` predicate as
        every read, compiled once per reader shape, run on the driver connection as a
        `PreparedStatement` (the hot read of the documents area; docs/benchmarks.md)."""
        if not reader.is_active:
            return None
        values = {
            "doc_id": doc_id,
            **reader_values(reader),
            "actor_id": viewed.actor_id,
            "occurred_at": viewed.occurred_at,
            "action": viewed.action,
            "client_ip": viewed.client_ip,
            "user_agent": viewed.user_agent[:500] if viewed.user_agent else None,
            "data": json.dumps(viewed.data),
        }
        record = await view_statement(reader_shape(reader)).fetchrow(self._conn, values)
        if record is None:
            return None
        row = dict(record.items())
        access = row.pop("grant_access")
        tags = list(row.pop("tag_names"))
        return Readable(document(Record(row), tags), Access.parse(access) if access else None)
