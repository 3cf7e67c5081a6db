"""SQLAlchemy repositories of the taxonomy area."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, delete, insert, literal_column, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.pagination import REVIEW_QUEUE, Page, PageRequest
from domain.taxonomy import (
    Classification,
    Path,
    TaxonomyNode,
    TaxonomyStatus,
    TaxonomyVersion,
)
from domain.users import User
from infrastructure.sqlalchemy import tables as t
from infrastructure.sqlalchemy.access import readable_by
from infrastructure.sqlalchemy.errors import translate_integrity_error
from infrastructure.sqlalchemy.paging import one_page

v = t.taxonomy_versions.c
n = t.taxonomy_nodes.c
dt = t.doc_taxonomy.c
# Paths sort label by label in byte order ("C" collation), as the in-memory adapter sorts.
_PATH_IN_BYTE_ORDER: ColumnElement[Any] = literal_column(
    'taxonomy_nodes.canonical_path COLLATE "C"'
)
_CLASSIFIED_PATH_IN_BYTE_ORDER: ColumnElement[Any] = literal_column('doc_taxonomy.path COLLATE "C"')


def _version(row: Any) -> TaxonomyVersion:
    m = row._mapping
    return TaxonomyVersion(
        m["version"], TaxonomyStatus(m["status"]), m["created_at"], m["published_at"]
    )


def _node(row: Any) -> TaxonomyNode:
    m = row._mapping
    return TaxonomyNode(
        m["node_id"],
        m["version"],
        m["label"],
        tuple(m["canonical_path"]),
        m["parent_id"],
        m["created_at"],
    )


def _classification(row: Any) -> Classification:
    m = row._mapping
    return Classification(
        doc_id=m["doc_id"],
        node_id=m["node_id"],
        version=m["version"],
        path=tuple(m["path"]),
        confidence=m["confidence"],
        hitl_required=m["hitl_required"],
        created_at=m["created_at"],
        reviewed_by=m["reviewed_by"],
        reviewed_at=m["reviewed_at"],
    )


async def _insert(conn: AsyncConnection, stmt: Any, values: dict[str, Any]) -> None:
    try:
        await conn.execute(stmt, values)
    except IntegrityError as err:
        raise translate_integrity_error(err) from err


class SqlAlchemyTaxonomyRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add_version(self, version: TaxonomyVersion) -> None:
        await _insert(
            self._conn,
            insert(t.taxonomy_versions),
            {
                "version": version.version,
                "status": version.status.value,
                "created_at": version.created_at,
                "published_at": version.published_at,
            },
        )

    async def get_version(self, version: str) -> TaxonomyVersion | None:
        row = (
            await self._conn.execute(select(t.taxonomy_versions).where(v.version == version))
        ).first()
        return _version(row) if row is not None else None

    async def list_versions(self) -> Sequence[TaxonomyVersion]:
        rows = await self._conn.execute(
            select(t.taxonomy_versions).order_by(v.created_at, v.version)
        )
        return [_version(r) for r in rows]

    async def latest_published(self) -> TaxonomyVersion | None:
        row = (
            await self._conn.execute(
                select(t.taxonomy_versions)
                .where(v.status == TaxonomyStatus.PUBLISHED.value)
                .order_by(v.published_at.desc(), v.version.desc())
                .limit(1)
            )
        ).first()
        return _version(row) if row is not None else None

    async def update_version(self, version: TaxonomyVersion) -> None:
        await self._conn.execute(
            update(t.taxonomy_versions)
            .where(v.version == version.version)
            .values(status=version.status.value, published_at=version.published_at)
        )

    async def add_node(self, node: TaxonomyNode) -> None:
        await _insert(
            self._conn,
            insert(t.taxonomy_nodes),
            {
                "node_id": node.node_id,
                "version": node.version,
                "label": node.label,
                "canonical_path": list(node.canonical_path),
                "parent_id": node.parent_id,
                "created_at": node.created_at,
            },
        )

    async def get_node(self, node_id: UUID) -> TaxonomyNode | None:
        row = (
            await self._conn.execute(select(t.taxonomy_nodes).where(n.node_id == node_id))
        ).first()
        return _node(row) if row is not None else None

    async def node_at(self, version: str, path: Path) -> TaxonomyNode | None:
        row = (
            await self._conn.execute(
                select(t.taxonomy_nodes).where(n.version == version, n.canonical_path == list(path))
            )
        ).first()
        return _node(row) if row is not None else None

    async def nodes(self, version: str) -> Sequence[TaxonomyNode]:
        rows = await self._conn.execute(
            select(t.taxonomy_nodes).where(n.version == version).order_by(_PATH_IN_BYTE_ORDER)
        )
        return [_node(r) for r in rows]


class SqlAlchemyClassificationRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, classification: Classification) -> None:
        c = classification
        await _insert(
            self._conn,
            insert(t.doc_taxonomy),
            {
                "doc_id": c.doc_id,
                "node_id": c.node_id,
                "version": c.version,
                "path": list(c.path),
                "confidence": c.confidence,
                "hitl_required": c.hitl_required,
                "reviewed_by": c.reviewed_by,
                "reviewed_at": c.reviewed_at,
                "created_at": c.created_at,
            },
        )

    async def get(self, doc_id: UUID, node_id: UUID) -> Classification | None:
        row = (
            await self._conn.execute(
                select(t.doc_taxonomy).where(dt.doc_id == doc_id, dt.node_id == node_id)
            )
        ).first()
        return _classification(row) if row is not None else None

    async def for_document(self, doc_id: UUID) -> Sequence[Classification]:
        rows = await self._conn.execute(
            select(t.doc_taxonomy)
            .where(dt.doc_id == doc_id)
            .order_by(dt.version, _CLASSIFIED_PATH_IN_BYTE_ORDER)
        )
        return [_classification(r) for r in rows]

    async def update(self, classification: Classification) -> None:
        c = classification
        await self._conn.execute(
            update(t.doc_taxonomy)
            .where(dt.doc_id == c.doc_id, dt.node_id == c.node_id, dt.version == c.version)
            .values(
                confidence=c.confidence,
                hitl_required=c.hitl_required,
                reviewed_by=c.reviewed_by,
                reviewed_at=c.reviewed_at,
            )
        )

    async def remove(self, doc_id: UUID, node_id: UUID) -> bool:
        result = await self._conn.execute(
            delete(t.doc_taxonomy).where(dt.doc_id == doc_id, dt.node_id == node_id)
        )
        return bool(result.rowcount)

    async def review_queue(self, reader: User, page: PageRequest) -> Page[Classification]:
        stmt = (
            select(t.doc_taxonomy)
            .join(t.documents, t.documents.c.id == dt.doc_id)
            .where(dt.hitl_required, readable_by(reader, include_trash=False))
        )
        stmt = one_page(stmt, REVIEW_QUEUE, (dt.created_at, dt.doc_id, dt.node_id), page)
        rows = (await self._conn.execute(stmt)).all()
        return REVIEW_QUEUE.page(
            [_classification(r) for r in rows],
            page.limit,
            lambda c: (c.created_at, c.doc_id, c.node_id),
        )
