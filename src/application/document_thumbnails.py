"""Thumbnails of documents (issue #12 item 2): made once per document from its file (the first
page of a PDF, a card of the title and first lines for DOCX, TXT and Markdown: the
`ThumbnailRenderer`, in the extraction worker processes), kept in the blob store like any file
(content-addressed, so equal pictures are one blob) and read under the document's own rule.

`make` is the system's work: a background job after an upload, or `archivist thumbnails` for
documents stored before there were thumbnails. It is idempotent: a document that has one
keeps it."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from uuid import UUID

from application import document_access
from application.context import RequestContext
from application.document_access import ON_BEHALF
from domain.blobs import BlobLocks, BlobStore, ThumbnailRenderer
from domain.clock import Clock
from domain.documents import DocumentType
from domain.errors import ThumbnailNotReady
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.processing import ProcessingState

# The background job that makes a document's thumbnail (payload: {"document_id": ...}).
JOB = "thumbnail"
MEDIA_TYPE = "image/webp"
MAX_BYTES = 4 * 1024 * 1024  # a 400-px WebP is tens of KB; anything near this is a fault
# The types the renderer draws (every type today); another is marked "not_applicable".
THUMBNAIL_TYPES: Final = frozenset(DocumentType)


async def enqueue_thumbnails(uow: UnitOfWork, doc_ids: Sequence[UUID], at: datetime) -> None:
    """Queue the making of documents' thumbnails in `uow` (with the change that stored them:
    no job for an upload that rolls back; one job a document however often it is asked), and
    mark their "thumbnail" processing pending, a statement for all."""
    await uow.jobs.enqueue_all(
        JOB,
        [{"document_id": str(doc_id)} for doc_id in doc_ids],
        dedupe_keys=[f"{JOB}:{doc_id}" for doc_id in doc_ids],
    )
    await uow.processing.mark_all(doc_ids, JOB, ProcessingState.PENDING, at)


@dataclass(frozen=True)
class Thumbnail:
    data: bytes
    sha256: str  # of `data`: a strong validator (the picture never changes under its key)
    media_type: str = MEDIA_TYPE


class DocumentThumbnails:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        blobs: BlobStore,
        blob_locks: BlobLocks,
        renderer: ThumbnailRenderer,
        clock: Clock,
    ) -> None:
        self._uow = uow_factory
        self._blobs = blobs
        self._locks = blob_locks
        self._renderer = renderer
        self._clock = clock

    async def get(self, ctx: RequestContext, doc_id: UUID) -> Thumbnail:
        """The thumbnail of a document the caller may read (`NotFound` otherwise, as for the
        document itself); `ThumbnailNotReady` while it is not made."""
        user = ctx.require_user(ON_BEHALF)
        async with self._uow(autocommit=True) as uow:
            doc = (await document_access.readable(uow, user, doc_id)).document
        if doc.thumbnail_key is None:
            raise ThumbnailNotReady(doc_id)
        data = await self._blobs.read(doc.thumbnail_key)
        return Thumbnail(data, hashlib.sha256(data).hexdigest())

    async def make(self, doc_id: UUID) -> str | None:
        """Render and keep the thumbnail of a document; its blob key, or None for a document
        that is gone or of a type without thumbnails. Marks the document's "thumbnail"
        processing done (or not_applicable). Raises what the renderer raises for a file it
        cannot render (a `DomainError`: the job is held as failed, not retried, and the
        worker marks the processing failed)."""
        async with self._uow(autocommit=True) as uow:
            doc = await uow.documents.get(doc_id)
            if doc is not None and doc.thumbnail_key is not None:
                await uow.processing.mark(doc_id, JOB, ProcessingState.DONE, self._clock.now())
        if doc is None:
            return None
        if doc.thumbnail_key is not None:
            return doc.thumbnail_key
        if doc.document_type not in THUMBNAIL_TYPES:
            async with self._uow(autocommit=True) as uow:
                await uow.processing.mark(
                    doc_id, JOB, ProcessingState.NOT_APPLICABLE, self._clock.now()
                )
            return None
        data = await self._blobs.read(doc.storage_key)
        picture = await asyncio.to_thread(
            self._renderer.thumbnail, data, doc.document_type, doc.title, doc.content or ""
        )
        sha256 = hashlib.sha256(picture).hexdigest()

        async def once() -> AsyncIterator[bytes]:
            yield picture

        # Under the blob's lock, as an upload stores a file: a purge that finds the key
        # unreferenced cannot delete it between the put and the row that references it.
        async with self._locks.hold(self._blobs.key_for(sha256)):
            stored = await self._blobs.put(once(), max_bytes=MAX_BYTES, sha256=sha256)
            async with self._uow() as uow:
                if not await uow.documents.set_thumbnail(doc_id, stored.key):
                    return None  # purged meanwhile; the sweep of unreferenced blobs takes it
                await uow.processing.mark(doc_id, JOB, ProcessingState.DONE, self._clock.now())
                await uow.commit()
        return stored.key

    async def missing(self) -> list[UUID]:
        """Documents without a thumbnail, oldest first (for `archivist thumbnails`)."""
        async with self._uow(autocommit=True) as uow:
            return list(await uow.documents.without_thumbnail())
