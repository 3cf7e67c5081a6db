"""Documents' processing state (issue #12 item 4): read with the documents a caller has read,
and marked failed when a document's job fails for good.

The use cases that enqueue a document's job mark its kind pending in the same unit of work
(`enqueue_thumbnails`), and the handlers mark it done or not_applicable; a handler that
raises need not mark anything: `job_failed` is the worker's hook (`JobHandlers.
on_failed_for_good`), on both storages. A job's processing kind is the job's kind, and its
document is the payload's "document_id"."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from uuid import UUID

from application import document_access
from application.context import RequestContext
from domain.clock import Clock
from domain.documents import Document
from domain.jobs import JsonObject
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.processing import Processing, ProcessingState, check_kind

States = Mapping[str, Processing]


def document_of(payload: JsonObject) -> UUID | None:
    """The document a job's payload names ("document_id"), or None."""
    raw = payload.get("document_id")
    if not isinstance(raw, str):
        return None
    try:
        return UUID(raw)
    except ValueError:
        return None


async def mark_job_document(
    uow: UnitOfWork,
    kind: str,
    payload: JsonObject,
    state: ProcessingState,
    at: datetime,
    reason: str | None = None,
) -> None:
    """Mark the document a job's payload names, under the job's kind, in `uow`. A job
    without a document, or of a kind that cannot name processing, marks nothing."""
    doc_id = document_of(payload)
    if doc_id is None:
        return
    try:
        check_kind(kind)
    except ValueError:
        return
    await uow.processing.mark(doc_id, kind, state, at, reason=reason)


class DocumentProcessing:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    async def of(self, documents: Sequence[Document]) -> Mapping[UUID, States]:
        """The processing state of documents the caller has read already (a listing's
        page, a document fetched): one query for them all; none for an empty page."""
        if not documents:
            return {}
        async with self._uow(autocommit=True) as uow:
            return await uow.processing.of_many([d.id for d in documents])

    async def of_readable(self, ctx: RequestContext, doc_id: UUID) -> States:
        """The processing state of one document the caller may read, by kind, without
        recording a view (a page waiting for an upload's thumbnail asks again and again);
        `NotFound` for a document they may not read."""
        user = ctx.require_user(document_access.ON_BEHALF)
        async with self._uow(autocommit=True) as uow:
            await document_access.readable(uow, user, doc_id)
            states = await uow.processing.of_many([doc_id])
        return states.get(doc_id, {})

    async def job_failed(self, kind: str, payload: JsonObject, error: str) -> None:
        """A job failed for good: mark its document's `kind` failed with `error`."""
        if document_of(payload) is None:
            return  # no unit of work for a job about no document
        async with self._uow() as uow:
            await mark_job_document(
                uow, kind, payload, ProcessingState.FAILED, self._clock.now(), error
            )
            await uow.commit()
