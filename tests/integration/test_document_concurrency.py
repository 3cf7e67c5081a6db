"""Concurrency on a real PostgreSQL (acceptance item 4 of issue #3): optimistic locking lets
exactly one of many simultaneous changes through, and simultaneous uploads of the same bytes
share one blob."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from dependency_injector import providers

from application.context import RequestContext
from application.document_store import DocumentFields
from application.users import CreateUser
from domain.document_ports import DocumentFilter, DocumentSort
from domain.documents import DocumentChanges, DocumentType
from domain.errors import PreconditionFailed
from domain.pagination import PageRequest
from infrastructure.blobs import FilesystemBlobStore
from infrastructure.config import AppSettings
from infrastructure.container import Container, build_container
from infrastructure.sqlalchemy.database import Database
from tests.conftest import truncate_all

pytestmark = pytest.mark.postgres


@pytest.fixture
async def app(pg_database: Database, tmp_path: Path) -> Container:
    await truncate_all(pg_database.engine)
    container = build_container(
        AppSettings(storage="postgres", slow_query_ms=0, blob_dir=tmp_path), pg_database.url
    )
    container.database.override(pg_database)
    container.blobs.override(providers.Object(FilesystemBlobStore(tmp_path / "blobs")))
    return container


async def _member(app: Container) -> RequestContext:
    user = await app.users().create(
        RequestContext.system(), CreateUser(email="m@example.com", name="M", access_level=2)
    )
    return RequestContext(actor=user)


async def test_of_twenty_simultaneous_changes_with_the_same_if_match_exactly_one_wins(
    app: Container,
) -> None:
    ctx = await _member(app)
    doc = await app.document_uploads().create_text(
        ctx, "hello", DocumentType.TXT, DocumentFields(title="Original")
    )

    async def rename(n: int) -> str:
        try:
            await app.document_lifecycle().update(
                ctx, doc.id, DocumentChanges({"title": f"Title {n}"}), expected_version=1
            )
        except PreconditionFailed:
            return "412"
        return "200"

    outcomes = await asyncio.gather(*(rename(n) for n in range(20)))
    after = await app.document_reads().get(ctx, doc.id)

    assert sorted(outcomes) == ["200"] + ["412"] * 19
    assert after.document.version == 2


async def test_simultaneous_changes_without_if_match_all_apply(app: Container) -> None:
    # No precondition, no 412 (RFC 9110 §13.1.1): each change is retried on the version it
    # lost to, so all of them land, one version each (issue #9, item 6).
    ctx = await _member(app)
    doc = await app.document_uploads().create_text(
        ctx, "hello", DocumentType.TXT, DocumentFields(title="Original")
    )
    n = 20

    async def change(i: int) -> int:
        if i % 2:
            changed = await app.document_lifecycle().add_tags(ctx, doc.id, [f"tag-{i}"])
        else:
            changed = await app.document_lifecycle().update(
                ctx, doc.id, DocumentChanges({"metadata": {"by": i}})
            )
        return changed.version

    versions = await asyncio.gather(*(change(i) for i in range(n)))
    after = await app.document_reads().get(ctx, doc.id)
    updates = await app.document_reads().events(ctx, doc.id, PageRequest(200))

    assert sorted(versions) == list(range(2, n + 2))
    assert after.document.version == 1 + n
    assert sorted(after.document.tags) == sorted(f"tag-{i}" for i in range(1, n, 2))
    assert [e.action for e in updates.items].count("document.updated") == n


async def test_ten_simultaneous_uploads_of_the_same_bytes_make_ten_documents_and_one_blob(
    app: Container, tmp_path: Path
) -> None:
    ctx = await _member(app)
    data = b"the same bytes, ten times\n"

    async def upload(n: int) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            yield data[:10]
            yield data[10:]

        await app.document_uploads().upload(
            ctx, f"copy{n}.txt", chunks(), DocumentFields(on_duplicate="allow")
        )

    await asyncio.gather(*(upload(n) for n in range(10)))
    page = await app.document_reads().list_documents(
        ctx, DocumentFilter(), DocumentSort.CREATED, PageRequest(50)
    )
    blob_files = [
        p for p in (tmp_path / "blobs").rglob("*") if p.is_file() and ".tmp" not in p.parts
    ]

    assert len(page.items) == 10
    assert len({d.storage_key for d in page.items}) == 1
    assert len(blob_files) == 1


async def test_simultaneous_first_uses_of_a_new_tag_all_succeed(app: Container) -> None:
    ctx = await _member(app)
    docs = [
        await app.document_uploads().create_text(
            ctx, f"doc {n}", DocumentType.TXT, DocumentFields(title=f"d{n}")
        )
        for n in range(8)
    ]
    await asyncio.gather(
        *(
            app.document_lifecycle().add_tags(ctx, d.id, ["Brand-New" if n % 2 else "brand-new"])
            for n, d in enumerate(docs)
        )
    )
    tags = await app.catalog().tags()
    assert [t.name.lower() for t in tags] == ["brand-new"]
