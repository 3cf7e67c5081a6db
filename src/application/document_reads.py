"""Reading documents: one by id, its file, a filtered page, duplicates, its audit trail.

What the caller may read is decided by the repository's access-filtered queries
(`document_access.readable`), so an unreadable document is a `NotFound`, never a 403. Reads
that leave a trace (a view, a download) write their event in the same unit of work. Creating
and changing documents are `document_uploads` and `document_lifecycle`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from uuid import UUID

from application import document_access
from application.context import RequestContext
from application.document_access import ON_BEHALF
from application.taxonomy import TaxonomyResolver
from domain import events, policy
from domain.blobs import BlobStore
from domain.clock import Clock
from domain.document_ports import DocumentFilter, DocumentSort, DuplicateGroup, Readable
from domain.documents import Document, tag_name
from domain.errors import NotFound
from domain.events import EventFilter
from domain.pagination import Page, PageRequest
from domain.ports import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class Download:
    document: Document
    chunks: AsyncIterator[bytes]


class DocumentReads:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        blobs: BlobStore,
        taxonomy_resolver: TaxonomyResolver,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._blobs = blobs
        self._taxonomy_resolver = taxonomy_resolver

    async def get(self, ctx: RequestContext, doc_id: UUID) -> Readable:
        """A document the caller may read (trash included for owner and admins); records
        `document.viewed`. Raises `NotFound` otherwise."""
        user = ctx.require_user(ON_BEHALF)
        viewed = ctx.event(events.DOCUMENT_VIEWED, "document", doc_id, self._clock.now())
        async with self._uow(autocommit=True) as uow:  # one atomic statement, no transaction
            found = await uow.views.open(doc_id, user, viewed)
        if found is None:
            raise NotFound("document", doc_id)
        return found

    async def download(self, ctx: RequestContext, doc_id: UUID) -> Download:
        """The original bytes, streamed; records `document.downloaded`."""
        user = ctx.require_user(ON_BEHALF)
        now = self._clock.now()
        async with self._uow() as uow:
            found = await document_access.readable(uow, user, doc_id)
            chunks = await self._blobs.open(found.document.storage_key)
            await uow.events.add(ctx.event(events.DOCUMENT_DOWNLOADED, "document", doc_id, now))
            await uow.commit()
        return Download(found.document, chunks)

    async def list_documents(
        self,
        ctx: RequestContext,
        filters: DocumentFilter,
        sort: DocumentSort,
        page: PageRequest,
    ) -> Page[Document]:
        """A keyset page of the documents the caller may read that match `filters`
        (`filters.deleted`: the caller's trash)."""
        user = ctx.require_user(ON_BEHALF)
        for name in filters.tags:
            tag_name(name)
        async with self._uow(autocommit=True) as uow:
            if filters.taxonomy_path is not None:
                version = await self._taxonomy_resolver.version_or_latest(
                    uow, filters.taxonomy_version
                )
                filters = replace(filters, taxonomy_version=version.version)
            return await uow.documents.list_readable(user, filters, sort, page)

    async def duplicates(self, ctx: RequestContext, limit: int = 50) -> Sequence[DuplicateGroup]:
        """Groups of readable live documents sharing the same bytes."""
        user = ctx.require_user(ON_BEHALF)
        async with self._uow(autocommit=True) as uow:
            return await uow.documents.duplicate_groups(user, limit)

    async def events(
        self, ctx: RequestContext, doc_id: UUID, page: PageRequest
    ) -> Page[events.Event]:
        """The audit trail of a document the caller may read, newest first. Where each
        event came from (`client_ip`, `user_agent`) is shown only to those who
        `policy.can_see_audit_details`; other readers get None for both."""
        user = ctx.require_user(ON_BEHALF)
        async with self._uow(autocommit=True) as uow:
            found = await document_access.readable(uow, user, doc_id)
            trail = await uow.events.list(
                EventFilter(subject_type="document", subject_id=str(doc_id)), page
            )
        if policy.can_see_audit_details(user, found.document):
            return trail
        anonymous = [replace(e, client_ip=None, user_agent=None) for e in trail.items]
        return Page(anonymous, trail.next_cursor)
