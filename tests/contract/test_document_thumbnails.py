"""Thumbnails on both storages (`application.document_thumbnails`, issue #12 item 2): made
once and kept as a blob the document references, read under the document's own rule, never
swept as unreferenced, and released when the document is purged."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from application.context import RequestContext
from application.document_store import DocumentFields
from application.document_thumbnails import JOB
from application.maintenance import MaintenanceService
from application.users import CreateUser
from domain.errors import DuplicateDocument, NotFound, ThumbnailNotReady
from infrastructure.container import Container
from tests.support.pdf import one_page_pdf


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _users(container: Container) -> tuple[RequestContext, RequestContext]:
    system = RequestContext.system()
    owner = await container.users().create(
        system, CreateUser(email="o@example.com", name="O", department="Ops")
    )
    other = await container.users().create(
        system, CreateUser(email="x@example.com", name="X", department="Sales")
    )
    return RequestContext(actor=owner), RequestContext(actor=other)


def _sweeper(container: Container) -> MaintenanceService:
    """A purge that sweeps unreferenced blobs however young (no grace period)."""
    return MaintenanceService(
        container.uow_factory(),
        container.clock(),
        container.blobs(),
        container.blob_locks(),
        container.search(),
        blob_grace_seconds=0.0,
    )


async def test_a_thumbnail_is_made_once_and_read_under_the_documents_rule(
    container: Container,
) -> None:
    owner, other = await _users(container)
    uploads, thumbnails = container.document_uploads(), container.document_thumbnails()
    pdf = await uploads.upload(owner, "a.pdf", _chunks(one_page_pdf("hi")), DocumentFields())
    secret = await uploads.upload(
        owner, "b.txt", _chunks(b"secret"), DocumentFields(access_level=1, department="Ops")
    )

    with pytest.raises(ThumbnailNotReady):
        await thumbnails.get(owner, pdf.id)
    key = await thumbnails.make(pdf.id)
    assert key is not None
    assert await thumbnails.make(pdf.id) == key  # idempotent
    got = await thumbnails.get(owner, pdf.id)
    assert got.data[:4] == b"RIFF" and got.data[8:12] == b"WEBP"
    assert await container.blobs().exists(key)
    await thumbnails.make(secret.id)
    with pytest.raises(NotFound) as refused:
        await thumbnails.get(other, secret.id)
    assert not isinstance(refused.value, ThumbnailNotReady)  # as if there were no document
    assert await thumbnails.missing() == []


async def test_a_thumbnail_is_never_swept_and_goes_with_its_document(
    container: Container,
) -> None:
    owner, _ = await _users(container)
    doc = await container.document_uploads().upload(
        owner, "a.txt", _chunks(b"alpha beta"), DocumentFields()
    )
    key = await container.document_thumbnails().make(doc.id)
    assert key is not None

    report = await _sweeper(container).purge(dry_run=False)
    assert key not in {b.key for b in report.blobs}
    assert await container.blobs().exists(key)

    await container.document_lifecycle().purge(owner, doc.id)
    assert not await container.blobs().exists(key)
    assert await container.document_thumbnails().make(doc.id) is None  # gone: nothing to do


async def test_an_upload_queues_its_thumbnail_with_it_and_a_refused_one_queues_nothing(
    container: Container,
) -> None:
    owner, _ = await _users(container)
    uploads = container.document_uploads()
    doc = await uploads.upload(owner, "a.txt", _chunks(b"alpha"), DocumentFields())
    with pytest.raises(DuplicateDocument):
        await uploads.upload(owner, "again.txt", _chunks(b"alpha"), DocumentFields())

    async with container.uow_factory()(autocommit=True) as uow:
        queued = await uow.jobs.queued(JOB)

    assert [(j.kind, j.payload) for j in queued] == [(JOB, {"document_id": str(doc.id)})]
