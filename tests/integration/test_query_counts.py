"""Listing documents costs a fixed number of SQL statements, whatever the page size
(acceptance item 3 of issue #3): no N+1 over tags or categories. The hot reads run on the
driver connection (`prepared.PreparedStatement`) are counted like every other statement."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.document_ports import DocumentFilter, DocumentSort
from domain.documents import Category, Document, Tag
from domain.pagination import PageRequest
from domain.search import parse_query
from domain.tokens import hash_secret
from domain.users import User
from infrastructure.sqlalchemy.uow import SqlAlchemyUnitOfWorkFactory
from tests.support import factories

pytestmark = pytest.mark.postgres


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_a_page_of_documents_with_tags_and_category_is_two_statements(
    pg_engine: AsyncEngine,
) -> None:
    uow_factory = SqlAlchemyUnitOfWorkFactory(pg_engine)
    reader = factories.user(access_level=3, department="Eng")
    owner = factories.user()
    category = Category(uuid.uuid4(), "Guides", "", True, factories.BASE)
    tags = [Tag(uuid.uuid4(), f"t{i}", "#007bff", "", True, factories.BASE) for i in range(3)]
    docs = [factories.document(owner, category_id=category.id) for _ in range(60)]
    async with uow_factory() as uow:
        await uow.users.add(reader)
        await uow.users.add(owner)
        await uow.categories.add(category)
        for tag in tags:
            await uow.tags.add(tag)
        for i, doc in enumerate(docs):
            await uow.documents.add(doc)
            await uow.documents.set_tags(doc.id, [t.id for t in tags[: 1 + i % 3]])
        await uow.commit()

    counts = {}
    for limit in (5, 50):
        async with uow_factory(autocommit=True) as uow:
            with counting(pg_engine) as statements:
                page = await uow.documents.list_readable(
                    reader, DocumentFilter(tags=("t0",)), DocumentSort.CREATED, PageRequest(limit)
                )
        assert len(page.items) == limit
        assert all(d.tags and d.category_name == "Guides" for d in page.items)
        counts[limit] = len(statements)

    # The tag filter's name -> id lookup, then the page with its category names and tags.
    assert counts == {5: 2, 50: 2}

    # Without a tag filter, the page with its category names and tags is one statement.
    async with uow_factory(autocommit=True) as uow:
        with counting(pg_engine) as statements:
            page = await uow.documents.list_readable(
                reader, DocumentFilter(), DocumentSort.CREATED, PageRequest(50)
            )
    assert len(page.items) == 50 and len(statements) == 1


async def test_the_token_lookup_is_one_counted_statement(pg_engine: AsyncEngine) -> None:
    uow_factory = SqlAlchemyUnitOfWorkFactory(pg_engine)
    owner = factories.user()
    token, secret = factories.token(owner)
    async with uow_factory() as uow:
        await uow.users.add(owner)
        await uow.tokens.add(token)
        await uow.commit()

    async with uow_factory(autocommit=True) as uow:
        with counting(pg_engine) as statements:
            found = await uow.tokens.find_with_user(hash_secret(secret))

    assert found is not None
    assert len(statements) == 1 and "FROM api_tokens JOIN users" in statements[0]


async def _stored(uow_factory: SqlAlchemyUnitOfWorkFactory, owner: User, doc: Document) -> None:
    async with uow_factory() as uow:
        await uow.users.add(owner)
        await uow.documents.add(doc)
        await uow.commit()


async def test_a_document_view_is_one_counted_statement(pg_engine: AsyncEngine) -> None:
    uow_factory = SqlAlchemyUnitOfWorkFactory(pg_engine)
    owner = factories.user()
    doc = factories.document(owner)
    await _stored(uow_factory, owner, doc)
    viewed = factories.event(
        "document.viewed", str(doc.id), actor_id=owner.id, subject_type="document"
    )

    async with uow_factory(autocommit=True) as uow:
        with counting(pg_engine) as statements:
            found = await uow.views.open(doc.id, owner, viewed)

    # The document, its tags, the reader's grant and the view event, in one statement.
    assert found is not None
    assert len(statements) == 1 and "INSERT INTO events" in statements[0]


async def test_a_search_is_counted_statement_by_statement(pg_engine: AsyncEngine) -> None:
    """A search's statements, compiled once per reader shape and run on the driver
    (`search_candidates.prepared`), are counted like the others: a word found in a document
    is its candidates with their counts, then the page's contents; a filtered search runs
    through SQLAlchemy, the filters' statement first."""
    uow_factory = SqlAlchemyUnitOfWorkFactory(pg_engine)
    owner = factories.user()
    doc = factories.document(owner, title="Quarterly budget", content="the budget review")
    await _stored(uow_factory, owner, doc)

    async with uow_factory(autocommit=True) as uow:
        with counting(pg_engine) as statements:
            found = await uow.search.search(owner, parse_query("budget"), DocumentFilter(), 10)
        with counting(pg_engine) as filtered:
            tagged = DocumentFilter(tags=("missing",))
            none = await uow.search.search(owner, parse_query("budget"), tagged, 10)

    assert [h.document_id for h in found.hits] == [doc.id]
    assert len(statements) == 2, statements
    assert "ts_filter" in statements[0] and "left(documents.content" in statements[1]
    assert none.hits == [] and len(filtered) == 1  # the unknown tag: nothing to search
