"""An upload's thumbnail made by the background job, end to end on both storages: the upload
queues it with itself, a worker runs it (the memory runner; a real pgqueuer worker on
PostgreSQL), and the thumbnail is then served."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from application.context import RequestContext
from application.document_store import DocumentFields
from application.document_thumbnails import JOB
from application.users import CreateUser
from domain.errors import ThumbnailNotReady
from infrastructure.container import Container
from infrastructure.memory.job_runner import InMemoryJobRunner
from tests.support.pdf import one_page_pdf


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def test_an_uploads_thumbnail_is_made_by_the_job_it_queued(container: Container) -> None:
    user = await container.users().create(
        RequestContext.system(), CreateUser(email="a@example.com", name="A")
    )
    ctx = RequestContext(actor=user)
    doc = await container.document_uploads().upload(
        ctx, "report.pdf", _chunks(one_page_pdf("annual report")), DocumentFields()
    )
    thumbnails = container.document_thumbnails()

    worker = container.job_worker()
    if isinstance(worker, InMemoryJobRunner):
        assert await worker.run_pending() == 1
    else:
        await worker.start()
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                async with container.uow_factory()(autocommit=True) as uow:
                    if not await uow.jobs.queued(JOB):
                        break
                await asyncio.sleep(0.05)
        finally:
            await worker.stop()

    got = await thumbnails.get(ctx, doc.id)
    assert got.data[8:12] == b"WEBP"
    async with container.uow_factory()(autocommit=True) as uow:
        assert await uow.jobs.queued() == []


async def test_without_a_worker_the_thumbnail_is_not_ready(container: Container) -> None:
    user = await container.users().create(
        RequestContext.system(), CreateUser(email="a@example.com", name="A")
    )
    ctx = RequestContext(actor=user)
    doc = await container.document_uploads().upload(
        ctx, "a.txt", _chunks(b"hello"), DocumentFields()
    )

    with pytest.raises(ThumbnailNotReady):
        await container.document_thumbnails().get(ctx, doc.id)
