"""In-memory repositories of the taxonomy area: same order, pages and errors as SQL."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from domain import policy
from domain.documents import Document, Permission
from domain.pagination import REVIEW_QUEUE, Page, PageRequest
from domain.taxonomy import Classification, Path, TaxonomyNode, TaxonomyVersion
from domain.users import User
from infrastructure import constraints
from infrastructure.constraints import conflict
from infrastructure.memory.table import StagedTable

ClassKey = tuple[UUID, UUID, str]  # (doc_id, node_id, version)


def path_order(path: Path) -> tuple[bytes, ...]:
    # PostgreSQL compares text[] element by element under the "C" collation: by bytes.
    return tuple(label.encode() for label in path)


class InMemoryTaxonomyRepository:
    def __init__(
        self, versions: StagedTable[str, TaxonomyVersion], nodes: StagedTable[UUID, TaxonomyNode]
    ) -> None:
        self._versions = versions
        self._nodes = nodes

    async def add_version(self, version: TaxonomyVersion) -> None:
        if self._versions.exists(version.version):
            raise conflict(constraints.PK_TAXONOMY_VERSIONS)
        self._versions.put(version.version, version)

    async def get_version(self, version: str) -> TaxonomyVersion | None:
        return self._versions.get(version)

    async def list_versions(self) -> Sequence[TaxonomyVersion]:
        return sorted(self._versions.values(), key=lambda x: (x.created_at, x.version.encode()))

    async def latest_published(self) -> TaxonomyVersion | None:
        published = [x for x in self._versions.values() if x.is_published]
        published.sort(key=lambda x: (x.published_at, x.version.encode()), reverse=True)
        return published[0] if published else None

    async def update_version(self, version: TaxonomyVersion) -> None:
        self._versions.patch(
            version.version, status=version.status, published_at=version.published_at
        )

    async def add_node(self, node: TaxonomyNode) -> None:
        if not self._versions.exists(node.version):
            raise conflict(constraints.FK_TAXONOMY_NODES_VERSION_TAXONOMY_VERSIONS)
        if node.parent_id is not None and not self._nodes.exists(node.parent_id):
            raise conflict(constraints.FK_TAXONOMY_NODES_PARENT_ID_TAXONOMY_NODES)
        clash = self._nodes.find(
            lambda x: x.version == node.version and x.canonical_path == node.canonical_path
        )
        if clash is not None or self._nodes.exists(node.node_id):
            raise conflict(constraints.UQ_TAXONOMY_NODES_VERSION)
        self._nodes.put(node.node_id, node)

    async def get_node(self, node_id: UUID) -> TaxonomyNode | None:
        return self._nodes.get(node_id)

    async def node_at(self, version: str, path: Path) -> TaxonomyNode | None:
        return self._nodes.find(lambda x: x.version == version and x.canonical_path == path)

    async def nodes(self, version: str) -> Sequence[TaxonomyNode]:
        rows = [x for x in self._nodes.values() if x.version == version]
        return sorted(rows, key=lambda x: path_order(x.canonical_path))


class InMemoryClassificationRepository:
    def __init__(
        self,
        table: StagedTable[ClassKey, Classification],
        documents: StagedTable[UUID, Document],
        nodes: StagedTable[UUID, TaxonomyNode],
        permissions: StagedTable[tuple[UUID, UUID], Permission],
    ) -> None:
        self._t = table
        self._docs = documents
        self._nodes = nodes
        self._perms = permissions

    async def add(self, classification: Classification) -> None:
        c = classification
        if not self._docs.exists(c.doc_id):
            raise conflict(constraints.FK_DOC_TAXONOMY_DOC_ID_DOCUMENTS)
        if not self._nodes.exists(c.node_id):
            raise conflict(constraints.FK_DOC_TAXONOMY_NODE_ID_TAXONOMY_NODES)
        key = (c.doc_id, c.node_id, c.version)
        if self._t.exists(key):
            raise conflict(constraints.PK_DOC_TAXONOMY)
        self._t.put(key, c)

    def _key_of(self, doc_id: UUID, node_id: UUID) -> ClassKey | None:
        return next((k for k in self._t.all_keys() if k[0] == doc_id and k[1] == node_id), None)

    async def get(self, doc_id: UUID, node_id: UUID) -> Classification | None:
        key = self._key_of(doc_id, node_id)
        return self._t.get(key) if key is not None else None

    async def for_document(self, doc_id: UUID) -> Sequence[Classification]:
        rows = [c for c in self._t.values() if c.doc_id == doc_id]
        return sorted(rows, key=lambda c: (c.version.encode(), path_order(c.path)))

    async def update(self, classification: Classification) -> None:
        c = classification
        self._t.patch(
            (c.doc_id, c.node_id, c.version),
            confidence=c.confidence,
            hitl_required=c.hitl_required,
            reviewed_by=c.reviewed_by,
            reviewed_at=c.reviewed_at,
        )

    async def remove(self, doc_id: UUID, node_id: UUID) -> bool:
        key = self._key_of(doc_id, node_id)
        return key is not None and self._t.remove(key)

    async def review_queue(self, reader: User, page: PageRequest) -> Page[Classification]:
        def readable(doc_id: UUID) -> bool:
            doc = self._docs.get(doc_id)
            if doc is None or doc.in_trash:
                return False
            grant = self._perms.get((reader.id, doc_id))
            return policy.can_read(reader, doc, grant.access if grant else None)

        rows = [c for c in self._t.values() if c.hitl_required and readable(c.doc_id)]
        rows.sort(key=_review_position)
        after = REVIEW_QUEUE.after(page)
        if after is not None:
            rows = [c for c in rows if REVIEW_QUEUE.beyond(_review_position(c), after)]
        items = [dataclasses.replace(c) for c in rows[: page.limit + 1]]
        return REVIEW_QUEUE.page(items, page.limit, _review_position)


def _review_position(c: Classification) -> tuple[datetime, UUID, UUID]:
    """A classification's place in the review queue (`REVIEW_QUEUE`)."""
    return (c.created_at, c.doc_id, c.node_id)
