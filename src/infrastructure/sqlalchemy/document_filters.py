"""Document filters compiled to SQL conditions: tag and category names resolved to ids, the
taxonomy subtree condition shaped by its share of the archive, and the column conditions.
Shared by document listings and search."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Text, bindparam, exists, func, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.document_ports import DocumentFilter
from domain.documents import category_found
from domain.processing import NEEDS_OCR, OCR
from infrastructure.sqlalchemy import tables as t
from infrastructure.tuning import Tuning

d = t.documents.c


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
            conds.append(d.category_id == category_found(filters.category, category_id))
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
    if filters.processing is not None:
        conds.append(
            _in_processing(
                [filters.processing.state.value],
                filters.processing.kind,
            )
        )
    if filters.needs_ocr is not None:
        needing = _in_processing([s.value for s in NEEDS_OCR], OCR)
        conds.append(needing if filters.needs_ocr else ~needing)
    if filters.title_contains is not None:
        conds.extend(title_contains(filters.title_contains))
    return conds


def escape_like(text: str) -> str:
    """`text` as a LIKE pattern matching itself (escape character `\\`)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def title_contains(text: str) -> list[ColumnElement[bool]]:
    """The title holds `text`, both lower-cased by the database. From three characters on,
    the title's trigrams must hold the text's (`archivist_trigrams`, migration 0012): the GIN
    index finds the candidates of a rare text, and the LIKE then checks them; a common text
    is found walking the page's order, testing the LIKE first (the cheaper condition).
    The text is written into the SQL (quoted by the dialect), not bound: a generic plan would
    not know how rare it is."""
    value = bindparam(None, text, type_=Text, literal_execute=True, unique=True)
    pattern = bindparam(
        None, f"%{escape_like(text)}%", type_=Text, literal_execute=True, unique=True
    )
    conds: list[ColumnElement[bool]] = []
    if len(text) >= 3:
        trigrams = func.archivist_trigrams
        conds.append(
            trigrams(d.title, type_=_TEXT_ARRAY).contains(trigrams(value, type_=_TEXT_ARRAY))
        )
    conds.append(func.lower(d.title).like(func.lower(pattern), escape="\\"))
    return conds


_TEXT_ARRAY = ARRAY(Text)


def _in_processing(states: list[str], kind: str | None) -> ColumnElement[bool]:
    """Documents with a kind (`kind`, or any) in one of `states`. EXISTS, so that negated
    it is an anti-join: a rare state is found through the index on (state, kind,
    document_id), a common one checked per listed document through the primary key."""
    p = t.document_processing.c
    found = exists().where(p.document_id == d.id, p.state.in_(states))
    if kind is not None:
        found = found.where(p.kind == kind)
    return found


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
