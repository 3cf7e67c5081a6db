"""The statements run on the driver connection (`prepared.PreparedStatement`: the token
lookup, the document view) are timed by the slow-query log, and fail as `conn.execute`
would. (`test_query_counts` shows they are counted.)"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar, get_args

import pytest
from sqlalchemy import Integer, bindparam, column, select, table, text
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.tokens import hash_secret
from infrastructure.config import AppSettings
from infrastructure.sqlalchemy.access import ReaderShape
from infrastructure.sqlalchemy.database import Database
from infrastructure.sqlalchemy.engine import create_engine
from infrastructure.sqlalchemy.prepared import PreparedStatement, parameter_names
from infrastructure.sqlalchemy.search_candidates import (
    counted_every_candidates,
    matching_candidates,
    one_term_candidates,
    partial_candidates,
    phrase_candidates,
    prepared,
    vector_statement,
)
from infrastructure.sqlalchemy.search_statistics import statistics_statement
from infrastructure.sqlalchemy.uow import SqlAlchemyUnitOfWorkFactory
from tests.support import factories

T = TypeVar("T")

SLOW_MS = 50
# How long a statement waits on a lock another connection holds: well past `SLOW_MS`.
HOLD_S = 0.3


@pytest.fixture
async def slow_logged(pg_engine: AsyncEngine, pg_database: Database) -> AsyncIterator[AsyncEngine]:
    """An engine of its own on the (emptied) test database that logs statements slower than
    `SLOW_MS`."""
    engine = create_engine(pg_database.url, AppSettings(slow_query_ms=SLOW_MS))
    yield engine
    await engine.dispose()


async def while_locked(engine: AsyncEngine, table_name: str, work: Awaitable[T]) -> T:
    """`work`, started while another connection holds an exclusive lock on `table_name` for
    `HOLD_S`: a statement reading that table is slow for real."""
    async with engine.connect() as conn:
        await conn.execute(text(f"LOCK TABLE {table_name} IN ACCESS EXCLUSIVE MODE"))
        task = asyncio.ensure_future(work)
        await asyncio.sleep(HOLD_S)
        assert not task.done()  # still waiting for the lock
        await conn.rollback()
    return await task


def slow_queries(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "archivist.sql"]


@pytest.mark.postgres
async def test_a_slow_token_lookup_is_logged(
    slow_logged: AsyncEngine, pg_engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    uow_factory = SqlAlchemyUnitOfWorkFactory(slow_logged)
    owner = factories.user()
    token, secret = factories.token(owner)
    async with uow_factory() as uow:
        await uow.users.add(owner)
        await uow.tokens.add(token)
        await uow.commit()

    async def lookup() -> object:
        async with uow_factory(autocommit=True) as uow:
            return await uow.tokens.find_with_user(hash_secret(secret))

    with caplog.at_level(logging.WARNING, logger="archivist.sql"):
        found = await while_locked(pg_engine, "api_tokens", lookup())

    assert found is not None
    logged = slow_queries(caplog)
    assert len(logged) == 1 and "slow statement SELECT api_tokens:" in logged[0], logged


@pytest.mark.postgres
async def test_a_slow_document_view_is_logged(
    slow_logged: AsyncEngine, pg_engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    uow_factory = SqlAlchemyUnitOfWorkFactory(slow_logged)
    owner = factories.user(access_level=2, department="Eng")
    doc = factories.document(owner)
    async with uow_factory() as uow:
        await uow.users.add(owner)
        await uow.documents.add(doc)
        await uow.commit()
    viewed = factories.event(
        "document.viewed", str(doc.id), actor_id=owner.id, subject_type="document"
    )

    async def view() -> object:
        async with uow_factory(autocommit=True) as uow:
            return await uow.views.open(doc.id, owner, viewed)

    with caplog.at_level(logging.WARNING, logger="archivist.sql"):
        found = await while_locked(pg_engine, "documents", view())

    assert found is not None
    logged = slow_queries(caplog)
    assert len(logged) == 1 and "slow statement WITH INSERT events:" in logged[0], logged


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("sql", "raised"),
    [
        ("SELECT * FROM no_such_table WHERE 1 = :n", ProgrammingError),
        ("SELECT 1 / (:n - 1)", DBAPIError),  # division by zero: no narrower DBAPI class
    ],
)
async def test_a_failing_prepared_statement_raises_what_execute_raises(
    pg_engine: AsyncEngine, sql: str, raised: type[DBAPIError]
) -> None:
    stmt = text(sql).bindparams(bindparam("n", type_=Integer))
    async with pg_engine.connect() as conn:
        with pytest.raises(DBAPIError) as by_execute:
            await conn.execute(stmt, {"n": 1})
    async with pg_engine.connect() as conn:
        with pytest.raises(DBAPIError) as by_driver:
            await PreparedStatement(stmt).fetchrow(conn, {"n": 1})
        # The connection is still usable: the error was the statement's, not the session's.
        assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
    assert type(by_driver.value) is type(by_execute.value) is raised
    assert type(by_driver.value.orig) is type(by_execute.value.orig)
    assert by_driver.value.hide_parameters and not by_driver.value.connection_invalidated


def test_a_value_bound_into_the_statement_is_refused() -> None:
    ids = table("t", column("id"))
    with pytest.raises(ValueError, match="pass them by name"):
        PreparedStatement(select(ids).where(ids.c.id == uuid.uuid4()))


def test_an_expanding_parameter_is_refused() -> None:
    ids = table("t", column("id"))
    with pytest.raises(ValueError, match="expanding"):
        PreparedStatement(select(ids).where(ids.c.id.in_(bindparam("ids", expanding=True))))


def test_every_search_statement_is_prepared_for_every_reader_shape() -> None:
    """No value is bound into a search's statements (a reader's id bound into one would
    search as that reader for everyone after): `PreparedStatement` refuses one, and the
    reader is in each as parameters, by shape."""
    builds = (
        one_term_candidates,
        counted_every_candidates,
        partial_candidates,
        matching_candidates,
        phrase_candidates,
        vector_statement,
        statistics_statement,
    )
    for build in builds:
        for shape in get_args(ReaderShape):
            statement = prepared(build, shape)
            assert parameter_names(statement.sql) == statement.names
            assert ("reader_id" in statement.names) is (shape != "admin"), (build, shape)
            assert ("reader_department" in statement.names) is (shape == "department")
