"""Taxonomies: versions, nodes, path resolution (cached, with suggestions), classification
and its human review."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from application import document_access
from application.cache import LruCache
from application.context import RequestContext
from domain import events
from domain.clock import Clock
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.pagination import Page, PageRequest
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.taxonomy import (
    Classification,
    Path,
    TaxonomyNode,
    TaxonomyNodeNotFound,
    TaxonomyStatus,
    TaxonomyVersion,
    format_path,
    nearest_paths,
    parse_confidence,
    parse_path,
    parse_version,
)
from domain.users import User

_ON_BEHALF = "classification is done on behalf of a user"


class TaxonomyResolver:
    """Path -> node, exact on (version, canonical_path), with an in-process bounded LRU.

    Nodes are never renamed or removed, so a cached hit stays true; misses are not cached
    (a draft may gain the node a moment later), and adding nodes to a version drops that
    version's entries anyway, so the cache never outlives a change made through it."""

    # How long "the latest published version" is trusted without asking the database: a
    # publish in this process resets it at once, one in another process within this time.
    LATEST_TTL_SECONDS = 5.0

    def __init__(self, capacity: int = 10_000) -> None:
        self.cache: LruCache[tuple[str, Path], TaxonomyNode] = LruCache(capacity)
        self._latest: tuple[str, float] | None = None  # (version, when it was read)

    def cached(self, version: str | None, path: Path) -> TaxonomyNode | None:
        """The node from the cache alone, or None (then ask `resolve`)."""
        if version is None:
            if self._latest is None or time.monotonic() - self._latest[1] > self.LATEST_TTL_SECONDS:
                return None
            version = self._latest[0]
        return self.cache.get((version, path))

    async def version_or_latest(self, uow: UnitOfWork, version: str | None) -> TaxonomyVersion:
        if version is not None:
            found = await uow.taxonomy.get_version(parse_version(version))
            if found is None:
                raise NotFound("taxonomy version", version)
            return found
        latest = await uow.taxonomy.latest_published()
        if latest is None:
            raise NotFound("published taxonomy version", "latest")
        self._latest = (latest.version, time.monotonic())
        return latest

    async def resolve(self, uow: UnitOfWork, version: str, path: Path) -> TaxonomyNode:
        """The node at `path`, or `TaxonomyNodeNotFound` with the five nearest paths."""
        key = (version, path)
        node = self.cache.get(key)
        if node is not None:
            return node
        node = await uow.taxonomy.node_at(version, path)
        if node is None:
            existing = [n.canonical_path for n in await uow.taxonomy.nodes(version)]
            raise TaxonomyNodeNotFound(version, path, nearest_paths(path, existing))
        self.cache.put(key, node)
        return node

    def forget(self, version: str) -> None:
        self.cache.discard_where(lambda key: key[0] == version)
        self._latest = None


@dataclass(frozen=True, slots=True)
class Classify:
    path: str
    confidence: float
    version: str | None = None
    hitl_required: bool = False


class TaxonomyService:
    def __init__(
        self, uow_factory: UnitOfWorkFactory, clock: Clock, resolver: TaxonomyResolver
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self.resolver = resolver

    # --- versions and nodes (admins) ----------------------------------------------------------

    async def versions(self) -> Sequence[TaxonomyVersion]:
        async with self._uow(autocommit=True) as uow:
            return await uow.taxonomy.list_versions()

    async def create_version(
        self, ctx: RequestContext, version: str, copy_from: str | None = None
    ) -> TaxonomyVersion:
        """A new draft, empty or with a copy of another version's tree."""
        ctx.require_admin()
        name = parse_version(version)
        now = self._clock.now()
        created = TaxonomyVersion(name, TaxonomyStatus.DRAFT, now)
        async with self._uow() as uow:
            if await uow.taxonomy.get_version(name) is not None:
                raise Conflict(f"taxonomy version {name} exists")
            await uow.taxonomy.add_version(created)
            copied = 0
            if copy_from is not None:
                source = await uow.taxonomy.get_version(parse_version(copy_from))
                if source is None:
                    raise NotFound("taxonomy version", copy_from)
                new_ids: dict[UUID, UUID] = {}
                for node in await uow.taxonomy.nodes(source.version):  # parents come first
                    new_ids[node.node_id] = uuid4()
                    await uow.taxonomy.add_node(
                        TaxonomyNode(
                            new_ids[node.node_id],
                            name,
                            node.label,
                            node.canonical_path,
                            new_ids[node.parent_id] if node.parent_id else None,
                            now,
                        )
                    )
                    copied += 1
            await uow.events.add(
                ctx.event(
                    events.TAXONOMY_CREATED,
                    "taxonomy",
                    name,
                    now,
                    {"copy_from": copy_from, "nodes": copied},
                )
            )
            await uow.commit()
        return created

    async def add_node(self, ctx: RequestContext, version: str, path: str) -> TaxonomyNode:
        """Add a node to a draft; its parent must already exist in the same version."""
        ctx.require_admin()
        wanted = parse_path(path)
        now = self._clock.now()
        async with self._uow() as uow:
            found = await uow.taxonomy.get_version(parse_version(version))
            if found is None:
                raise NotFound("taxonomy version", version)
            found.require_draft()
            parent_id = None
            if len(wanted) > 1:
                parent = await uow.taxonomy.node_at(found.version, wanted[:-1])
                if parent is None:
                    raise ValidationFailed.on(
                        "path", f"parent {format_path(wanted[:-1])!r} does not exist in {version}"
                    )
                parent_id = parent.node_id
            if await uow.taxonomy.node_at(found.version, wanted) is not None:
                raise Conflict(f"{format_path(wanted)!r} already exists in {version}")
            node = TaxonomyNode(uuid4(), found.version, wanted[-1], wanted, parent_id, now)
            await uow.taxonomy.add_node(node)
            await uow.events.add(
                ctx.event(
                    events.TAXONOMY_NODE_ADDED,
                    "taxonomy",
                    found.version,
                    now,
                    {"path": list(wanted), "node_id": str(node.node_id)},
                )
            )
            await uow.commit()
        self.resolver.forget(found.version)
        return node

    async def publish(self, ctx: RequestContext, version: str) -> TaxonomyVersion:
        ctx.require_admin()
        now = self._clock.now()
        async with self._uow() as uow:
            found = await uow.taxonomy.get_version(parse_version(version))
            if found is None:
                raise NotFound("taxonomy version", version)
            found.publish(now)
            await uow.taxonomy.update_version(found)
            await uow.events.add(ctx.event(events.TAXONOMY_PUBLISHED, "taxonomy", version, now))
            await uow.commit()
        self.resolver.forget(found.version)
        return found

    async def nodes(self, version: str) -> Sequence[TaxonomyNode]:
        async with self._uow(autocommit=True) as uow:
            found = await uow.taxonomy.get_version(parse_version(version))
            if found is None:
                raise NotFound("taxonomy version", version)
            return await uow.taxonomy.nodes(found.version)

    async def resolve(self, path: str, version: str | None = None) -> TaxonomyNode:
        """The node at `path` in `version` (default: the latest published). A cached path
        answers without touching the database."""
        wanted = parse_path(path)
        hit = self.resolver.cached(parse_version(version) if version else None, wanted)
        if hit is not None:
            return hit
        async with self._uow(autocommit=True) as uow:
            found = await self.resolver.version_or_latest(uow, version)
            return await self.resolver.resolve(uow, found.version, parse_path(path))

    # --- classification -----------------------------------------------------------------------

    async def classify(
        self, ctx: RequestContext, doc_id: UUID, command: Classify
    ) -> Classification:
        """Classify a document the caller may change (write rights) into a node.

        `NotFound` for an unreadable document or unknown version, `TaxonomyNodeNotFound`
        (with suggestions) for an unknown path, `Conflict` if already classified there."""
        actor = ctx.require_user(_ON_BEHALF)
        path = parse_path(command.path)
        confidence = parse_confidence(command.confidence)
        now = self._clock.now()
        async with self._uow() as uow:
            await self._writable(uow, actor, doc_id, "classifying a document")
            classification = await self.classify_in(
                uow, ctx, doc_id, path, command.version, confidence, command.hitl_required, now
            )
            await uow.commit()
        return classification

    async def _writable(self, uow: UnitOfWork, actor: User, doc_id: UUID, what: str) -> None:
        """As for every change of a document: `NotFound` if the actor cannot read it,
        `PermissionDenied` without write rights, `Conflict` while it is in the trash."""
        await document_access.changeable(uow, actor, doc_id, refusal=f"{what} needs write rights")

    async def classify_in(
        self,
        uow: UnitOfWork,
        ctx: RequestContext,
        doc_id: UUID,
        path: Path,
        version: str | None,
        confidence: float,
        hitl_required: bool,
        now: datetime,
    ) -> Classification:
        """Classify within an open unit of work (uploads classify in their own)."""
        taxonomy = await self.resolver.version_or_latest(uow, version)
        node = await self.resolver.resolve(uow, taxonomy.version, path)
        if await uow.classifications.get(doc_id, node.node_id) is not None:
            raise Conflict(f"the document is already classified as {format_path(path)!r}")
        classification = Classification(
            doc_id,
            node.node_id,
            taxonomy.version,
            node.canonical_path,
            confidence,
            hitl_required,
            now,
        )
        await uow.classifications.add(classification)
        await uow.events.add(
            ctx.event(
                events.CLASSIFICATION_ADDED,
                "document",
                doc_id,
                now,
                {
                    "node_id": str(node.node_id),
                    "version": taxonomy.version,
                    "path": list(node.canonical_path),
                    "confidence": confidence,
                    "hitl_required": hitl_required,
                },
            )
        )
        return classification

    async def classifications(self, ctx: RequestContext, doc_id: UUID) -> Sequence[Classification]:
        actor = ctx.require_user(_ON_BEHALF)
        async with self._uow(autocommit=True) as uow:
            await document_access.readable(uow, actor, doc_id)
            return await uow.classifications.for_document(doc_id)

    async def remove(self, ctx: RequestContext, doc_id: UUID, node_id: UUID) -> None:
        actor = ctx.require_user(_ON_BEHALF)
        now = self._clock.now()
        async with self._uow() as uow:
            await self._writable(uow, actor, doc_id, "removing a classification")
            if not await uow.classifications.remove(doc_id, node_id):
                raise NotFound("classification", node_id)
            await uow.events.add(
                ctx.event(
                    events.CLASSIFICATION_REMOVED,
                    "document",
                    doc_id,
                    now,
                    {"node_id": str(node_id)},
                )
            )
            await uow.commit()

    async def review_queue(self, ctx: RequestContext, page: PageRequest) -> Page[Classification]:
        """Classifications waiting for a human, on documents the caller may read."""
        actor = ctx.require_user(_ON_BEHALF)
        async with self._uow(autocommit=True) as uow:
            return await uow.classifications.review_queue(actor, page)

    async def approve(self, ctx: RequestContext, doc_id: UUID, node_id: UUID) -> Classification:
        """Mark a classification reviewed (write rights on the document)."""
        actor = ctx.require_user(_ON_BEHALF)
        now = self._clock.now()
        async with self._uow() as uow:
            await self._writable(uow, actor, doc_id, "approving a classification")
            classification = await uow.classifications.get(doc_id, node_id)
            if classification is None:
                raise NotFound("classification", node_id)
            classification.approve(actor.id, now)
            await uow.classifications.update(classification)
            await uow.events.add(
                ctx.event(
                    events.CLASSIFICATION_APPROVED,
                    "document",
                    doc_id,
                    now,
                    {"node_id": str(node_id)},
                )
            )
            await uow.commit()
        return classification
