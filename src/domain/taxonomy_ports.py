"""Ports of the taxonomy area."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from uuid import UUID

from domain.pagination import Page, PageRequest
from domain.taxonomy import Classification, Path, TaxonomyNode, TaxonomyVersion
from domain.users import User


class TaxonomyRepository(Protocol):
    async def add_version(self, version: TaxonomyVersion) -> None:
        """Raises `Conflict` if the version exists."""
        ...

    async def get_version(self, version: str) -> TaxonomyVersion | None: ...

    async def list_versions(self) -> Sequence[TaxonomyVersion]:
        """Every version, oldest first."""
        ...

    async def latest_published(self) -> TaxonomyVersion | None:
        """The most recently published version, if any."""
        ...

    async def update_version(self, version: TaxonomyVersion) -> None: ...

    async def add_node(self, node: TaxonomyNode) -> None:
        """Raises `Conflict` if the version already has a node at this path."""
        ...

    async def get_node(self, node_id: UUID) -> TaxonomyNode | None: ...

    async def node_at(self, version: str, path: Path) -> TaxonomyNode | None:
        """Exact match on (version, canonical_path)."""
        ...

    async def nodes(self, version: str) -> Sequence[TaxonomyNode]:
        """Every node of a version, in path order."""
        ...


class ClassificationRepository(Protocol):
    async def add(self, classification: Classification) -> None:
        """Raises `Conflict` if (doc_id, node_id, version) is already classified."""
        ...

    async def get(self, doc_id: UUID, node_id: UUID) -> Classification | None: ...

    async def for_document(self, doc_id: UUID) -> Sequence[Classification]:
        """A document's classifications, by version then path."""
        ...

    async def update(self, classification: Classification) -> None: ...

    async def remove(self, doc_id: UUID, node_id: UUID) -> bool: ...

    async def review_queue(self, reader: User, page: PageRequest) -> Page[Classification]:
        """Classifications needing review on live documents `reader` may read, oldest first."""
        ...
