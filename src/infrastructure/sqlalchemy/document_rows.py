"""The document row as the documents area reads it: the column sets and join a read selects
(never the search vector), the tag-name array, the row-to-`Document` mapper, and the
prepared statement `SqlAlchemyDocumentViews.open` runs on the driver connection."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Text, bindparam, cast, func, insert, literal_column, select
from sqlalchemy.dialects.postgresql import INET, JSONB

from domain.documents import Document, DocumentType
from domain.values import AccessLevel
from infrastructure.sqlalchemy import tables as t
from infrastructure.sqlalchemy.access import ReaderShape, parameters_of, readable_by
from infrastructure.sqlalchemy.prepared import PreparedStatement

d = t.documents.c
CATEGORY_NAME = t.categories.c.name.label("category_name")
# Never read the search vector back: it can be large and nothing but the index needs it.
DOC_COLUMNS = [c for c in t.documents.c if c.name != "search_vector"]
LIST_COLUMNS = [*(c for c in DOC_COLUMNS if c.name != "content"), CATEGORY_NAME]
WITH_CATEGORY = t.documents.outerjoin(t.categories, t.categories.c.id == d.category_id)


def document(row: Any, tags: list[str] | None = None) -> Document:
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


# A document's tag names, byte order, as an array column.
TAG_NAMES = func.array(
    select(t.tags.c.name)
    .join_from(t.document_tags, t.tags, t.tags.c.id == t.document_tags.c.tag_id)
    .where(t.document_tags.c.document_id == d.id)
    .order_by(t.tags.c.name.collate("C"))
    .scalar_subquery()
).label("tag_names")


class Record:
    """A driver record where `document` expects a row."""

    __slots__ = ("_mapping",)

    def __init__(self, mapping: dict[str, Any]) -> None:
        self._mapping = mapping


@cache
def view_statement(shape: ReaderShape) -> PreparedStatement:
    """The view statement for active readers of one shape, compiled once. Parameters: the
    reader's (`access.reader_values`), `doc_id`, and the view event's `occurred_at`,
    `actor_id`, `action`, `client_ip`, `user_agent` and `data` (JSON text)."""
    reader = parameters_of(shape)
    grant = (
        select(t.permissions.c.access)
        .where(t.permissions.c.document_id == d.id, t.permissions.c.user_id == reader.id)
        .scalar_subquery()
    )
    doc = (
        select(
            *DOC_COLUMNS,
            CATEGORY_NAME,
            grant.label("grant_access"),
            TAG_NAMES,
        )
        .select_from(WITH_CATEGORY)
        .where(d.id == bindparam("doc_id", type_=d.id.type), readable_by(reader))
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
    return PreparedStatement(select(doc).add_cte(viewed))
