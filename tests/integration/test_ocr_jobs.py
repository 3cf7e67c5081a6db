"""OCR of an uploaded scan, end to end on both storages: the upload of a PDF with a page
without text queues an `ocr` job with itself, a worker runs it (the memory runner; a real
pgqueuer worker on PostgreSQL), and search then finds the scan by a word on its picture.
Without Tesseract the job fails for good and the document stays flagged."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from dependency_injector import providers

from application.context import RequestContext
from application.document_ocr import JOB
from application.document_store import DocumentFields
from application.users import CreateUser
from domain.documents import Document
from domain.events import DOCUMENT_OCR, EventFilter
from domain.pagination import MAX_LIMIT, PageRequest
from domain.processing import ProcessingState
from infrastructure.container import Container
from infrastructure.memory.job_runner import InMemoryJobRunner
from tests.support.pdf import one_page_pdf
from tests.support.scans import need_tesseract, scanned_pdf

SCAN = scanned_pdf("Quarterly harbour", "inspection ledger")


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _upload(
    container: Container, filename: str, data: bytes
) -> tuple[RequestContext, Document]:
    user = await container.users().create(
        RequestContext.system(), CreateUser(email="a@example.com", name="A")
    )
    ctx = RequestContext(actor=user)
    doc = await container.document_uploads().upload(ctx, filename, _chunks(data), DocumentFields())
    return ctx, doc


async def _run_jobs(container: Container) -> None:
    """Run every queued job to its end: done, or failed for good."""
    worker = container.job_worker()
    if isinstance(worker, InMemoryJobRunner):
        await worker.run_pending()
        return
    await worker.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            async with container.uow_factory()(autocommit=True) as uow:
                if not await uow.jobs.queued():
                    return
            await asyncio.sleep(0.05)
        raise AssertionError("the jobs did not finish within 60 s")
    finally:
        await worker.stop()


async def _ocr_state(container: Container, doc: Document) -> ProcessingState:
    async with container.uow_factory()(autocommit=True) as uow:
        return (await uow.processing.of(doc.id))[JOB].state


async def test_an_uploaded_scan_is_found_by_a_word_on_its_picture(container: Container) -> None:
    need_tesseract("eng+kor")
    ctx, doc = await _upload(container, "scan.pdf", SCAN)
    assert await _ocr_state(container, doc) is ProcessingState.PENDING
    search = container.search()
    assert (await search.search(ctx, "harbour")).results == []

    await _run_jobs(container)

    found = await search.search(ctx, "harbour")
    assert [hit.document_id for hit in found.results] == [doc.id]
    assert await _ocr_state(container, doc) is ProcessingState.DONE
    async with container.uow_factory()(autocommit=True) as uow:
        stored = await uow.documents.get(doc.id)
        ocr_events = await uow.events.list(
            EventFilter(action=DOCUMENT_OCR), PageRequest(limit=MAX_LIMIT)
        )
    assert stored is not None and "ledger" in (stored.content or "").lower()
    assert stored.version == doc.version + 1
    assert [(e.subject_id, e.actor_id, e.data["pages"]) for e in ocr_events.items] == [
        (str(doc.id), None, 1)
    ]


async def test_ocr_run_again_adds_nothing(container: Container) -> None:
    need_tesseract("eng+kor")
    _, doc = await _upload(container, "scan.pdf", SCAN)
    document_ocr = container.document_ocr()
    await document_ocr.run(doc.id)
    async with container.uow_factory()(autocommit=True) as uow:
        first = await uow.documents.get(doc.id)

    assert await document_ocr.run(doc.id)

    async with container.uow_factory()(autocommit=True) as uow:
        second = await uow.documents.get(doc.id)
        ocr_events = await uow.events.list(
            EventFilter(action=DOCUMENT_OCR), PageRequest(limit=MAX_LIMIT)
        )
    assert first is not None and second is not None
    assert (second.content, second.version) == (first.content, first.version)
    assert len(ocr_events.items) == 1


async def test_without_tesseract_the_job_fails_for_good_and_the_scan_stays_flagged(
    container: Container,
) -> None:
    container.ocr_check.override(
        providers.Object(lambda languages: "Tesseract is not installed: see README, OCR")
    )
    _, doc = await _upload(container, "scan.pdf", SCAN)

    await _run_jobs(container)

    async with container.uow_factory()(autocommit=True) as uow:
        failures = [f for f in await uow.jobs.failures(10) if f.kind == JOB]
        stored = await uow.documents.get(doc.id)
    assert [(f.payload, f.attempts) for f in failures] == [({"document_id": str(doc.id)}, 1)]
    assert failures[0].error == "OcrUnavailable: Tesseract is not installed: see README, OCR"
    # needs_ocr: its OCR is pending or failed, never done.
    assert await _ocr_state(container, doc) in (ProcessingState.PENDING, ProcessingState.FAILED)
    assert stored is not None and stored.version == doc.version


async def test_a_pdf_with_text_on_every_page_gets_no_ocr_job(container: Container) -> None:
    _, doc = await _upload(container, "typed.pdf", one_page_pdf("typed report"))

    async with container.uow_factory()(autocommit=True) as uow:
        assert await uow.jobs.queued(JOB) == []
        assert JOB not in await uow.processing.of(doc.id)
