"""OCR of scanned PDFs (issue #12 item 3): a PDF with pages that have no text layer gets an
`ocr` job with its upload; the job reads those pages with the `OcrEngine` (Tesseract, in the
extraction worker processes) and makes their text part of the document's, so search finds it.

The document's text after OCR is a function of its file (the text layer's text, then the
recognised pages'), so running the job again changes nothing. Without Tesseract the job fails
for good with `OcrUnavailable` and the document's `ocr` processing stays flagged
(`needs_ocr`); once Tesseract is installed, retrying the job reads it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from domain import events
from domain.blobs import BlobStore, OcrEngine, TextExtractor
from domain.clock import Clock
from domain.documents import DocumentType
from domain.errors import OcrUnavailable
from domain.events import Event
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.processing import OCR, ProcessingState

# The background job that reads a document's scanned pages (payload: {"document_id": ...}),
# and the kind of processing it marks (`needs_ocr` reads it).
JOB = OCR


async def enqueue_ocr(uow: UnitOfWork, doc_ids: Sequence[UUID], now: datetime) -> None:
    """Queue the OCR of documents' scanned pages in `uow` (with the change that stored them:
    no job for an upload that rolls back; one job a document however often it is asked), and
    mark their `ocr` processing pending."""
    await uow.jobs.enqueue_all(
        JOB,
        [{"document_id": str(doc_id)} for doc_id in doc_ids],
        dedupe_keys=[f"{JOB}:{doc_id}" for doc_id in doc_ids],
    )
    await uow.processing.mark_all(doc_ids, JOB, ProcessingState.PENDING, now)


class DocumentChangedMeanwhile(RuntimeError):
    """The document changed between reading it and writing its recognised text: the job
    runs again (not a `DomainError`, so it is retried)."""


class DocumentOcr:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        blobs: BlobStore,
        extractor: TextExtractor,
        engine: OcrEngine,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._blobs = blobs
        self._extractor = extractor
        self._engine = engine

    async def run(self, doc_id: UUID) -> bool:
        """Read the scanned pages of a document and make their text part of its own: a new
        version (its search index follows), a `document.ocr` event, its `ocr` processing
        done. Idempotent: a document whose text holds its pages' text already is left as it
        is (and marked done). False for a document that is gone.

        Raises `OcrUnavailable` when OCR cannot run here (the job fails for good, the
        document stays flagged); what extraction raises for a file it cannot read or that
        costs more than one file may (`DomainError`s too); `DocumentChangedMeanwhile`
        when the document changed while it was read (the job is retried)."""
        async with self._uow(autocommit=True) as uow:
            doc = await uow.documents.get(doc_id)
        if doc is None:
            return False
        if doc.document_type is not DocumentType.PDF:
            await self._mark(doc_id, ProcessingState.NOT_APPLICABLE)
            return True
        # Asked of Tesseract the first time (two short processes): off the event loop.
        problem = await asyncio.to_thread(lambda: self._engine.ocr_problem)
        if problem is not None:
            raise OcrUnavailable(problem)
        data = await self._blobs.read(doc.storage_key)
        extracted = await asyncio.to_thread(self._extractor.read, data, DocumentType.PDF)
        content = extracted.text
        if extracted.pages_without_text:
            content = await asyncio.to_thread(self._engine.ocr, data, extracted)
        now = self._clock.now()
        async with self._uow() as uow:
            current = await uow.documents.get(doc_id)
            if current is None:
                return False
            changed = current.with_recognised_text(content, now)
            if changed is not current:
                if not await uow.documents.update(changed, current.version):
                    raise DocumentChangedMeanwhile(f"document {doc_id} changed during its OCR")
                await uow.events.add(
                    Event(
                        occurred_at=now,
                        actor_id=None,
                        action=events.DOCUMENT_OCR,
                        subject_type="document",
                        subject_id=str(doc_id),
                        data={
                            "pages": len(extracted.pages_without_text),
                            "version": changed.version,
                        },
                    )
                )
            await uow.processing.mark(doc_id, JOB, ProcessingState.DONE, now)
            await uow.commit()
        return True

    async def _mark(self, doc_id: UUID, state: ProcessingState) -> None:
        async with self._uow() as uow:
            await uow.processing.mark(doc_id, JOB, state, self._clock.now())
            await uow.commit()
