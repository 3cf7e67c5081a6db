"""The listing's title and size sorts and its `q` filter on their indexes (issue #13 item 7,
migration 0012), checked on PostgreSQL's plans at a few thousand documents: a page is found
from an index, never by reading and sorting every document."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.document_ports import DocumentFilter, DocumentSort
from domain.pagination import PageRequest
from domain.values import Role
from infrastructure.sqlalchemy.db_plans import StatementPlan, explain_statements
from infrastructure.sqlalchemy.documents import SqlAlchemyDocumentRepository
from infrastructure.sqlalchemy.uow import SqlAlchemyUnitOfWorkFactory
from infrastructure.tuning import Tuning
from tests.support import factories

pytestmark = pytest.mark.postgres

COUNT = 5000
# Titles of a few common words and a number; sizes spread; one owner.
_SEED = text(
    """
    INSERT INTO documents (id, title, document_type, owner_id, original_filename, extension,
                           mime_type, size_bytes, sha256, storage_key, created_at)
    SELECT gen_random_uuid(),
           (ARRAY['Invoice', 'Report', 'Memo', 'Contract', 'Minutes'])[1 + i % 5]
             || ' ' || (ARRAY['Acme', 'Globex', 'Initech'])[1 + i % 3] || ' ' || i,
           'TXT', :owner, 'f' || i || '.txt', 'txt', 'text/plain', (i * 7919) % 100000,
           lpad(to_hex(i), 64, '0'), 'seed/' || i, now() - i * interval '1 minute'
    FROM generate_series(1, :count) AS i
    """
)


@pytest.fixture
async def owner(pg_engine: AsyncEngine) -> Any:
    member = factories.user(role=Role.MEMBER, access_level=1, department="Eng")
    async with SqlAlchemyUnitOfWorkFactory(pg_engine)() as uow:
        await uow.users.add(member)
        await uow.commit()
    async with pg_engine.begin() as conn:
        await conn.execute(_SEED, {"owner": member.id, "count": COUNT})
    async with pg_engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("ANALYZE documents"))
    return member


async def _plans(
    engine: AsyncEngine, reader: Any, filters: DocumentFilter, sort: DocumentSort, cursor: Any
) -> tuple[list[StatementPlan], Any]:
    async with engine.connect() as conn, conn.begin():
        repository = SqlAlchemyDocumentRepository(conn, Tuning())
        pages: list[Any] = []

        async def listing() -> object:
            page = await repository.list_readable(reader, filters, sort, PageRequest(50, cursor))
            pages.append(page)
            return page

        plans = await explain_statements(conn, listing, {"documents": COUNT})
    return plans, pages[0]


def _indexes(plans: list[StatementPlan]) -> set[str]:
    """The indexes the plans read. (Joining the page's 51 ids back to their rows may read
    the table whole at this size: the planner's fair choice for a table of a few thousand.)"""
    return {s.index for p in plans for s in p.scans if s.index is not None}


@pytest.mark.parametrize(
    ("sort", "index"),
    [
        (DocumentSort.TITLE_DESC, "ix_documents_title_id"),
        (DocumentSort.TITLE, "ix_documents_title_id"),
        (DocumentSort.SIZE_DESC, "ix_documents_size_bytes_id"),
        (DocumentSort.SIZE, "ix_documents_size_bytes_id"),
    ],
)
async def test_a_title_or_size_page_walks_its_index_on_every_page(
    pg_engine: AsyncEngine, owner: Any, sort: DocumentSort, index: str
) -> None:
    plans, first = await _plans(pg_engine, owner, DocumentFilter(), sort, None)
    assert index in _indexes(plans)

    plans, second = await _plans(pg_engine, owner, DocumentFilter(), sort, first.next_cursor)
    assert index in _indexes(plans)
    assert len(second.items) == 50
    assert not {d.id for d in first.items} & {d.id for d in second.items}


async def test_a_rare_part_of_the_title_is_found_through_the_trigram_index(
    pg_engine: AsyncEngine, owner: Any
) -> None:
    plans, page = await _plans(
        pg_engine, owner, DocumentFilter(title_contains="GLOBEX 4"), DocumentSort.CREATED_DESC, None
    )

    assert "ix_documents_title_trigrams" in _indexes(plans)
    # Globex is every third title: 4, 40-49, 400-499, 4000-4999 that are Globex ones.
    assert page.items and all("globex 4" in d.title.lower() for d in page.items)
    assert all(p.execution_ms < 100 for p in plans)
