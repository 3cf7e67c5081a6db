"""SQLAlchemy repositories of the documents area. Reads filter by the reader's rights in SQL."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Integer,
    Text,
    bindparam,
    cast,
    delete,
    exists,
    func,
    insert,
    literal_column,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import INET, JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.document_ports import (
    DocumentFilter,
    DocumentSort,
    DuplicateGroup,
    Readable,
)
from domain.documents import (
    Access,
    Category,
    Document,
    DocumentType,
    FileType,
    Permission,
    Tag,
)
from domain.errors import ValidationFailed
from domain.events import Event
from domain.pagination import Page, PageRequest, SortKey
from domain.users import User
from domain.values import AccessLevel
from infrastructure.search_index.analysis import document_vector
from infrastructure.sqlalchemy import tables as t
from infrastructure.sqlalchemy.access import (
    ReaderShape,
    compile_for_asyncpg,
    example_reader,
    in_trash_of,
    readable_by,
    reader_id,
    reader_shape,
    reader_values,
)
from infrastructure.sqlalchemy.errors import translate_integrity_error
from infrastructure.sqlalchemy.repositories import driver_fetchrow
from infrastructure.tuning import Tuning

d = t.documents.c
_CATEGORY_NAME = t.categories.c.name.label("category_name")
# Never read the search vector back: it can be large and nothing but the index needs it.
_DOC_COLUMNS = [c for c in t.documents.c if c.name != "search_vector"]
_LIST_COLUMNS = [*(c for c in _DOC_COLUMNS if c.name != "content"), _CATEGORY_NAME]
_WITH_CATEGORY = t.documents.outerjoin(t.categories, t.categories.c.id == d.category_id)


def _document(row: Any, tags: list[str] | None = None) -> Document:
    m = row._mapping
    return Document(
        id=m["id"],
        title=m["title"],
        content=m.get("content"),
        document_type=DocumentType(m["document_type"]),
        source=m["source"],
        access_level=AccessLevel(m["access_level"]),
        department=m["department"],
        metadata=m["metadata"],
        owner_id=m["owner_id"],
        category_id=m["category_id"],
        original_filename=m["original_filename"],
        extension=m["extension"],
        mime_type=m["mime_type"],
        size_bytes=m["size_bytes"],
        sha256=m["sha256"],
        storage_key=m["storage_key"],
        thumbnail_key=m["thumbnail_key"],
        version=m["version"],
        deleted_at=m["deleted_at"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        tags=tags if tags is not None else [],
        category_name=m.get("category_name"),
    )


async def _search_vector(doc: Document) -> str:
    """The document's search vector (tsvector text). A long text is analysed in a worker
    thread (~1 ms per 1,000 words, 0.2-0.4 s for the longest indexed text), so the event loop
    keeps serving meanwhile."""
    if len(doc.content or "") < _ANALYSE_INLINE_CHARS:
        return document_vector(doc.title, doc.content)
    return await asyncio.to_thread(document_vector, doc.title, doc.content)


_ANALYSE_INLINE_CHARS = 20_000


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


_SORT_COLUMNS: dict[DocumentSort, tuple[ColumnElement[Any], bool]] = {
    DocumentSort.CREATED: (d.created_at, False),
    DocumentSort.CREATED_DESC: (d.created_at, True),
    # Byte order ("C" collation) so every server, and the in-memory adapter, sort alike.
    DocumentSort.TITLE: (d.title.collate("C"), False),
    DocumentSort.SIZE: (d.size_bytes, False),
}

_TAGS_OF = (
    select(t.document_tags.c.document_id, t.tags.c.name)
    .join_from(t.document_tags, t.tags, t.tags.c.id == t.document_tags.c.tag_id)
    .where(t.document_tags.c.document_id.in_(bindparam("ids", expanding=True)))
    .order_by(t.document_tags.c.document_id, t.tags.c.name.collate("C"))
)


# A document's tag names, byte order, as an array column.
_TAG_NAMES = func.array(
    select(t.tags.c.name)
    .join_from(t.document_tags, t.tags, t.tags.c.id == t.document_tags.c.tag_id)
    .where(t.document_tags.c.document_id == d.id)
    .order_by(t.tags.c.name.collate("C"))
    .scalar_subquery()
).label("tag_names")


def _sort_value(doc: Document, sort: DocumentSort) -> str | int | datetime:
    if sort in (DocumentSort.CREATED, DocumentSort.CREATED_DESC):
        return doc.created_at
    if sort is DocumentSort.TITLE:
        return doc.title
    return doc.size_bytes


async def filter_conditions(
    conn: AsyncConnection, filters: DocumentFilter, tuning: Tuning
) -> list[ColumnElement[bool]] | None:
    """The filters as SQL conditions, or None when no document can match (an unknown tag).

    Tags and the taxonomy subtree are resolved to ids first, in one small statement each, so
    the planner sees constants it has statistics for: a tag on a fifth of the archive is
    then listed by walking documents in order, a rare one through its tag index."""
    conds: list[ColumnElement[bool]] = []
    wanted = {name.lower() for name in filters.tags}
    tag_ids: list[UUID] = []
    if wanted or filters.category is not None:
        # Tag and category names to ids in one statement.
        lookups: list[ColumnElement[Any]] = [
            func.array(
                select(t.tags.c.id)
                .where(func.lower(t.tags.c.name).in_(list(wanted) or [""]))
                .scalar_subquery()
            ),
            select(t.categories.c.id)
            .where(t.categories.c.name == (filters.category or ""))
            .scalar_subquery(),
        ]
        found_tags, category_id = (await conn.execute(select(*lookups))).one()
        if filters.category is not None:
            if category_id is None:
                raise ValidationFailed.on("category", f"no category named {filters.category!r}")
            conds.append(d.category_id == category_id)
        tag_ids = list(found_tags) if wanted else []
        if len(tag_ids) < len(wanted):
            return None
    for tag_id in tag_ids:
        # Inlined, not bound: a prepared statement reused with a bound id gets a generic
        # plan after five runs and forgets how common this tag is. The id is a UUID read
        # from the database just above, so writing it into the SQL is safe.
        literal_id: ColumnElement[Any] = literal_column(f"'{UUID(str(tag_id))}'::uuid")
        conds.append(
            exists().where(
                t.document_tags.c.document_id == d.id, t.document_tags.c.tag_id == literal_id
            )
        )
    if filters.taxonomy_path is not None:
        subtree = await _subtree_condition(
            conn, filters.taxonomy_version, filters.taxonomy_path, tuning.subtree_walk_share
        )
        if subtree is None:
            return None
        conds.append(subtree)
    if filters.category_id is not None:
        conds.append(d.category_id == filters.category_id)
    if filters.document_type is not None:
        conds.append(d.document_type == filters.document_type.value)
    if filters.department is not None:
        conds.append(d.department == filters.department)
    if filters.access_level is not None:
        conds.append(d.access_level == filters.access_level)
    if filters.owner_id is not None:
        conds.append(d.owner_id == filters.owner_id)
    if filters.metadata is not None:
        conds.append(d.metadata.contains(filters.metadata))  # @>, served by the GIN index
    if filters.created_after is not None:
        conds.append(d.created_at >= filters.created_after)
    if filters.created_before is not None:
        conds.append(d.created_at < filters.created_before)
    return conds


async def _subtree_condition(
    conn: AsyncConnection, version: str | None, prefix: tuple[str, ...], walk_share: float
) -> ColumnElement[bool] | None:
    """Documents classified at `prefix` or below in `version`. One probe finds the subtree's
    nodes (GIN index on canonical_path), how many documents they hold, and the archive's
    size estimate; the condition then takes the shape that suits that share."""
    n = t.taxonomy_nodes.c
    labels = list(prefix)
    nodes = (
        select(n.node_id)
        .where(
            n.version == version,
            n.canonical_path.contains(labels),
            n.canonical_path[1 : len(labels)] == labels,
        )
        .cte("nodes")
    )
    dt = t.doc_taxonomy.c
    probe = select(
        func.array(select(nodes.c.node_id).scalar_subquery()),
        select(func.count())
        .select_from(t.doc_taxonomy)
        .where(dt.node_id.in_(select(nodes.c.node_id)))
        .scalar_subquery(),
        literal_column("(SELECT reltuples FROM pg_class WHERE oid = 'documents'::regclass)"),
    )
    node_ids, size, total = (await conn.execute(probe)).one()
    if not node_ids:
        return None
    if size >= walk_share * max(float(total or 0), 1.0):
        # A per-row subquery with LIMIT cannot become a join: documents are read in the
        # page's order and the scan stops once the page is full.
        return (
            select(literal_column("true"))
            .select_from(t.doc_taxonomy)
            .where(dt.doc_id == d.id, dt.node_id.in_(node_ids))
            .limit(1)
            .scalar_subquery()
        )
    return d.id.in_(select(dt.doc_id).where(dt.node_id.in_(node_ids)))


class SqlAlchemyDocumentRepository:
    def __init__(self, conn: AsyncConnection, tuning: Tuning) -> None:
        self._conn = conn
        self._tuning = tuning

    async def add(self, doc: Document) -> None:
        values = _document_values(doc, await _search_vector(doc))
        try:
            await self._conn.execute(insert(t.documents), values)
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
            select(*_DOC_COLUMNS, _CATEGORY_NAME, grant.label("grant_access"))
            .select_from(_WITH_CATEGORY)
            .where(d.id == doc_id, readable_by(reader, include_trash=include_trash))
        )
        row = (await self._conn.execute(stmt)).first()
        if row is None:
            return None
        tags = (await self.tags_of([doc_id])).get(doc_id, [])
        access = row.grant_access
        return Readable(_document(row, tags), Access.parse(access) if access else None)

    async def view_readable(self, doc_id: UUID, reader: User, viewed: Event) -> Readable | None:
        """One statement, one round trip: the readable document with its category name,
        tags and the reader's grant, and — only if a row came back — the view event, inserted
        by a data-modifying CTE. Built with Core from the same `readable_by` predicate as
        every read, compiled once per reader shape, run on the driver connection (the hot
        read of the documents area; docs/benchmarks.md)."""
        if not reader.is_active:
            return None
        sql, names, defaults = _view_statement(reader_shape(reader))
        values = {
            **defaults,
            "doc_id": doc_id,
            **reader_values(reader),
            "actor_id": viewed.actor_id,
            "occurred_at": viewed.occurred_at,
            "action": viewed.action,
            "client_ip": viewed.client_ip,
            "user_agent": viewed.user_agent[:500] if viewed.user_agent else None,
            "data": json.dumps(viewed.data),
        }
        record = await driver_fetchrow(self._conn, sql, *(values[n] for n in names))
        if record is None:
            return None
        row = dict(record.items())
        access = row.pop("grant_access")
        tags = list(row.pop("tag_names"))
        return Readable(_document(_Record(row), tags), Access.parse(access) if access else None)

    async def list_readable(
        self, reader: User, filters: DocumentFilter, sort: DocumentSort, page: PageRequest
    ) -> Page[Document]:
        visible = (
            in_trash_of(reader) if filters.deleted else readable_by(reader, include_trash=False)
        )
        conditions = await filter_conditions(self._conn, filters, self._tuning)
        if conditions is None:
            return Page([], None)
        column, descending = _SORT_COLUMNS[sort]
        # Deferred join: the page's ids first, from columns the covering indexes hold
        # (migration 0007), so a filtered walk reads the heap only for the page's rows;
        # then those rows with their category name and tags, in one statement.
        keys = select(d.id.label("id")).where(visible, *conditions)
        if page.cursor is not None:
            key = SortKey.decode(page.cursor, sort.value)
            position = tuple_(column, d.id)
            after = tuple_(literal_column_value(key.value, column), key.id)
            keys = keys.where(position < after if descending else position > after)
        order = (column.desc(), d.id.desc()) if descending else (column, d.id)
        # The limit is written into the SQL, not bound: with a bound LIMIT, PostgreSQL's
        # generic plan (chosen after five runs of a prepared statement) cannot tell a page of
        # 51 from a scan of everything, and a filtered page took twice as long.
        limit = bindparam("page_limit", page.limit + 1, type_=Integer, literal_execute=True)
        paged = keys.order_by(*order).limit(limit).subquery("page")
        stmt = (
            select(*_LIST_COLUMNS, _TAG_NAMES)
            .select_from(_WITH_CATEGORY.join(paged, paged.c.id == d.id))
            .order_by(*order)
        )
        rows = (await self._conn.execute(stmt)).all()
        items = [_document(r, list(r.tag_names)) for r in rows[: page.limit]]
        next_cursor = None
        if len(rows) > page.limit:
            last = items[-1]
            next_cursor = SortKey(sort.value, _sort_value(last, sort), last.id).encode()
        return Page(items, next_cursor)

    async def update(self, doc: Document, expected_version: int) -> bool:
        values = _document_values(doc, await _search_vector(doc))
        del values["id"], values["created_at"]
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
            select(*_LIST_COLUMNS)
            .select_from(_WITH_CATEGORY)
            .where(d.sha256 == sha256, readable_by(reader, include_trash=False))
            .order_by(d.created_at, d.id)
        )
        rows = (await self._conn.execute(stmt)).all()
        return [_document(r) for r in rows]

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
            select(*_LIST_COLUMNS)
            .select_from(_WITH_CATEGORY)
            .where(visible, d.sha256.in_(select(shared.c.sha256)))
            .order_by(d.sha256, d.created_at, d.id)
        )
        groups: dict[str, list[Document]] = defaultdict(list)
        for row in (await self._conn.execute(stmt)).all():
            groups[row.sha256].append(_document(row))
        ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        return [DuplicateGroup(sha, tuple(docs)) for sha, docs in ordered]

    async def count_referencing(self, storage_key: str) -> int:
        stmt = select(func.count()).select_from(t.documents).where(d.storage_key == storage_key)
        return int((await self._conn.execute(stmt)).scalar_one())

    async def storage_keys(self) -> set[str]:
        rows = await self._conn.execute(select(d.storage_key).distinct())
        return {r[0] for r in rows}

    async def trashed_before(self, cutoff: datetime, limit: int) -> Sequence[Document]:
        stmt = (
            select(*_LIST_COLUMNS)
            .select_from(_WITH_CATEGORY)
            .where(d.deleted_at.is_not(None), d.deleted_at < cutoff)
            .order_by(d.deleted_at, d.id)
            .limit(limit)
        )
        return [_document(r) for r in (await self._conn.execute(stmt)).all()]


class _Record:
    """A driver record where `_document` expects a row."""

    __slots__ = ("_mapping",)

    def __init__(self, mapping: dict[str, Any]) -> None:
        self._mapping = mapping


@cache
def _view_statement(shape: ReaderShape) -> tuple[str, list[str], dict[str, Any]]:
    """The view statement for readers of one shape, rendered for asyncpg: (SQL, parameter
    names in `$n` order, values of the constant parameters)."""
    example = example_reader(shape)
    grant = (
        select(t.permissions.c.access)
        .where(t.permissions.c.document_id == d.id, t.permissions.c.user_id == reader_id(example))
        .scalar_subquery()
    )
    doc = (
        select(
            *_DOC_COLUMNS,
            _CATEGORY_NAME,
            grant.label("grant_access"),
            _TAG_NAMES,
        )
        .select_from(_WITH_CATEGORY)
        .where(d.id == bindparam("doc_id", type_=d.id.type), readable_by(example))
        .cte("doc")
    )
    e = t.events.c
    viewed = (
        insert(t.events)
        .from_select(
            [
                "occurred_at",
                "actor_id",
                "action",
                "subject_type",
                "subject_id",
                "client_ip",
                "user_agent",
                "data",
            ],
            select(
                bindparam("occurred_at", type_=e.occurred_at.type),
                bindparam("actor_id", type_=e.actor_id.type),
                bindparam("action", type_=e.action.type),
                literal_column("'document'"),
                cast(doc.c.id, Text),
                cast(bindparam("client_ip", type_=Text), INET),
                bindparam("user_agent", type_=e.user_agent.type),
                cast(bindparam("data", type_=Text), JSONB),
            ).select_from(doc),
        )
        .cte("viewed")
    )
    return compile_for_asyncpg(select(doc).add_cte(viewed))


def literal_column_value(value: object, column: ColumnElement[Any]) -> ColumnElement[Any]:
    """A bound parameter typed like `column` (so a title compares under the same collation)."""
    param = bindparam(None, value, type_=column.type, unique=True)
    if isinstance(value, str):
        return param.collate("C")
    return param


# --- categories -----------------------------------------------------------------------------


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


# --- tags -----------------------------------------------------------------------------------


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


# --- file types -----------------------------------------------------------------------------


def _file_type(row: Any) -> FileType:
    m = row._mapping
    return FileType(
        m["extension"], m["mime_type"], m["is_allowed"], m["max_size_bytes"], m["description"]
    )


class SqlAlchemyFileTypeRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, extension: str) -> FileType | None:
        row = (
            await self._conn.execute(
                select(t.file_types).where(t.file_types.c.extension == extension)
            )
        ).first()
        return _file_type(row) if row is not None else None

    async def list(self) -> Sequence[FileType]:
        rows = await self._conn.execute(select(t.file_types).order_by(t.file_types.c.extension))
        return [_file_type(r) for r in rows]

    async def put(self, file_type: FileType) -> None:
        values = {
            "extension": file_type.extension,
            "mime_type": file_type.mime_type,
            "is_allowed": file_type.is_allowed,
            "max_size_bytes": file_type.max_size_bytes,
            "description": file_type.description,
        }
        stmt = pg_insert(t.file_types).values(values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.file_types.c.extension],
            set_={k: stmt.excluded[k] for k in values if k != "extension"},
        )
        await self._conn.execute(stmt)


# --- grants ---------------------------------------------------------------------------------


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
