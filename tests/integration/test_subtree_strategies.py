"""Both ways of listing a taxonomy subtree (walking documents in order, or fetching the
subtree's documents) give the same pages; which one runs depends on the subtree's share."""

from __future__ import annotations

from pathlib import Path

import pytest
from dependency_injector import providers

from application.context import RequestContext
from application.document_store import DocumentFields
from application.users import CreateUser
from domain.document_ports import DocumentFilter, DocumentSort
from domain.documents import DocumentType
from domain.pagination import PageRequest
from infrastructure.config import AppSettings
from infrastructure.container import Container, build_container
from infrastructure.sqlalchemy.database import Database
from infrastructure.tuning import Tuning
from tests.conftest import truncate_all

pytestmark = pytest.mark.postgres


def _build(database: Database, blobs: Path, tuning: Tuning | None = None) -> Container:
    container = build_container(
        AppSettings(storage="postgres", slow_query_ms=0, blob_dir=blobs), database.url
    )
    container.database.override(database)
    if tuning is not None:
        container.tuning.override(providers.Object(tuning))
    return container


@pytest.fixture
async def app(pg_database: Database, tmp_path: Path) -> Container:
    await truncate_all(pg_database.engine)
    return _build(pg_database, tmp_path)


async def _pages(app: Container, ctx: RequestContext, path: tuple[str, ...]) -> list[list[str]]:
    pages, cursor = [], None
    for _ in range(20):
        page = await app.document_reads().list_documents(
            ctx,
            DocumentFilter(taxonomy_path=path),
            DocumentSort.CREATED_DESC,
            PageRequest(3, cursor),
        )
        pages.append([d.title for d in page.items])
        cursor = page.next_cursor
        if cursor is None:
            return pages
    raise AssertionError("paging did not end")


async def test_walking_and_fetching_the_subtree_agree(
    app: Container, pg_database: Database, tmp_path: Path
) -> None:
    system = RequestContext.system()
    admin = await app.users().create(
        system, CreateUser(email="a@example.com", name="A", role="admin", access_level=3)
    )
    member = await app.users().create(system, CreateUser(email="m@example.com", name="M"))
    ctx, reader = RequestContext(actor=admin), RequestContext(actor=member)
    tax = app.taxonomy()
    await tax.create_version(ctx, "1")
    for path in ("A", "A/B", "A/B/C", "A/D", "E"):
        await tax.add_node(ctx, "1", path)
    await tax.publish(ctx, "1")
    for n, (path, level) in enumerate(
        [("A/B/C", 1), ("A/B", 3), ("A/D", 1), ("E", 1), ("A", 1), ("A/B/C", 1), ("A/B", 1)] * 2
    ):
        await app.document_uploads().create_text(
            ctx,
            f"text {n}",
            DocumentType.TXT,
            DocumentFields(title=f"d{n:02}", access_level=level, taxonomy_path=path),
        )

    results = {}
    for share in (0.0, float("inf")):  # always walk; never walk
        view = _build(pg_database, tmp_path, Tuning(subtree_walk_share=share))
        results[share] = [
            await _pages(view, who, path) for who in (ctx, reader) for path in (("A",), ("A", "B"))
        ]

    assert results[0.0] == results[float("inf")]
    assert results[0.0][3] == [["d13", "d12", "d07"], ["d06", "d05", "d00"]]  # member, A/B
