"""Fixtures shared by every suite.

Storage is chosen per test: `memory` always runs; `postgres` is marked `postgres` and runs on
a database built by `alembic upgrade head` (never `create_all`), emptied before each test.
Under pytest-xdist (`make test`) each worker has its own databases on one shared server."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from dependency_injector import providers
from sqlalchemy import delete, exists, insert, literal, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.expression import TableClause

from domain.documents import DEFAULT_FILE_TYPES
from infrastructure.config import AppSettings
from infrastructure.container import Container, build_container
from infrastructure.memory.store import InMemoryStore
from infrastructure.memory.uow import InMemoryUnitOfWorkFactory
from infrastructure.sqlalchemy.database import Database
from infrastructure.sqlalchemy.jobs import JOB_TABLES
from infrastructure.sqlalchemy.tables import file_types, metadata
from infrastructure.sqlalchemy.uow import SqlAlchemyUnitOfWorkFactory
from infrastructure.tuning import Tuning
from tests.support.databases import (
    alembic_on,
    create_database,
    drop_database,
    share_with_workers,
)

STORAGES = [
    pytest.param("memory", id="memory"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]

# Tables holding rows a migration seeds: emptied of test rows, never truncated wholesale.
SEEDED_TABLES: frozenset[str] = frozenset({"file_types"})


def pytest_sessionstart(session: pytest.Session) -> None:
    """The xdist controller (the `dsession` plugin is there only when tests are distributed)
    starts the embedded PostgreSQL before it spawns the workers: one server for the run,
    not one per worker. Runs on TEST_DATABASE_URL need nothing."""
    config = session.config
    if config.pluginmanager.has_plugin("dsession") and not os.environ.get("TEST_DATABASE_URL"):
        share_with_workers()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under `--dist loadgroup` (`make test`), pytest-xdist keeps each `xdist_group` on one
    worker by appending `@<group>` to its tests' node ids on the worker; a pytest that
    ignores the rewritten ids (9.2, pytest-xdist issue #1386) spreads the group over every
    worker without a word: the browser tests then run two Chromiums at once. Fail instead."""
    if not getattr(config.option, "loadgroup", False):
        return
    lost = [item.nodeid for item in items if item.get_closest_marker("xdist_group")]
    lost = [nodeid for nodeid in lost if "@" not in nodeid]
    if lost:
        raise pytest.UsageError(
            f"--dist loadgroup is not grouping ({lost[0]} has no @group suffix): this "
            "pytest and pytest-xdist do not agree (pyproject.toml pins pytest below 9.2)"
        )


@pytest.fixture(scope="session")
async def pg_url() -> AsyncIterator[str]:
    """A migrated database for this test session."""
    name, url = await create_database()
    database = Database(url, AppSettings(slow_query_ms=0))
    async with database.engine.begin() as conn:
        await alembic_on(conn, "upgrade", "head")
    await database.dispose()
    yield url
    await drop_database(name)


@pytest.fixture(scope="session")
async def pg_database(pg_url: str) -> AsyncIterator[Database]:
    database = Database(pg_url, AppSettings(slow_query_ms=0))
    yield database
    await database.dispose()


# Tables in the order rows can be deleted (children before the parents they reference), then
# the job queue's (pgqueuer's, in the schema `jobs`; no foreign keys between them).
_DELETE_ORDER: list[TableClause] = [
    *(t for t in reversed(metadata.sorted_tables) if t.name not in SEEDED_TABLES),
    *JOB_TABLES,
]
# The queue table's bigserial: job ids start at 1 again too, as in a fresh in-memory store.
_JOB_ID_SEQUENCE = "jobs.pgqueuer_id_seq"
# The (schema-qualified) names of the tables holding any row, and the job id sequence if it
# has handed out an id since it was last restarted, in one statement.
_NOT_EMPTY = union_all(
    *(select(literal(t.fullname)).where(exists(select(1).select_from(t))) for t in _DELETE_ORDER),
    select(literal(_JOB_ID_SEQUENCE)).where(
        text("(SELECT is_called FROM jobs.pgqueuer_id_seq)")  # false again after RESTART
    ),
)
# Identity columns start again at 1, as after `TRUNCATE ... RESTART IDENTITY`.
_IDENTITIES = [
    (table.name, column.name)
    for table in metadata.sorted_tables
    for column in table.columns
    if column.identity is not None
]


async def truncate_all(engine: AsyncEngine) -> None:
    """Empty every table, and put the seeded ones back as the migrations leave them.

    DELETE, not TRUNCATE: a test leaves a few rows in a few tables, and TRUNCATE costs ~50 ms
    however little it empties (new files for every table and index it cascades to), ~700
    times a run. Only the tables holding rows are touched."""
    async with engine.begin() as conn:
        holding = {row[0] for row in await conn.execute(_NOT_EMPTY)}
        for table in _DELETE_ORDER:
            if table.fullname in holding:
                await conn.execute(delete(table))
        for table, column in _IDENTITIES:
            await conn.execute(text(f"ALTER TABLE {table} ALTER COLUMN {column} RESTART"))
        if _JOB_ID_SEQUENCE in holding:
            await conn.execute(text(f"ALTER SEQUENCE {_JOB_ID_SEQUENCE} RESTART"))
        await conn.execute(delete(file_types))
        await conn.execute(
            insert(file_types),
            [
                {
                    "extension": f.extension,
                    "mime_type": f.mime_type,
                    "is_allowed": f.is_allowed,
                    "max_size_bytes": f.max_size_bytes,
                    "description": f.description,
                }
                for f in DEFAULT_FILE_TYPES
            ],
        )


@pytest.fixture
async def pg_engine(pg_database: Database) -> AsyncEngine:
    await truncate_all(pg_database.engine)
    return pg_database.engine


# argon2id at its cheapest (one pass over 8 KiB: ~0.1 ms, not ~0.1 s), so tests that set
# passwords and sign in stay fast; the production parameters are the settings' defaults.
FAST_PASSWORD_HASHING: dict[str, int] = {
    "password_hash_time_cost": 1,
    "password_hash_memory_kib": 8,
    "password_hash_parallelism": 1,
}


@pytest.fixture(params=STORAGES)
def storage(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def pg(storage: str, request: pytest.FixtureRequest) -> Database | None:
    """The session's PostgreSQL database when the test runs on postgres, else None.
    (Requested lazily, so memory-only runs never start a server.)"""
    if storage != "postgres":
        return None
    database: Database = request.getfixturevalue("pg_database")
    return database


@pytest.fixture
def tuning() -> Tuning:
    """The adapters' bounds; a test exercising one parametrizes this fixture
    (`@pytest.mark.parametrize("tuning", [Tuning(candidate_cap=4)])`)."""
    return Tuning()


@pytest.fixture
async def uow_factory(
    pg: Database | None, tuning: Tuning
) -> InMemoryUnitOfWorkFactory | SqlAlchemyUnitOfWorkFactory:
    """A unit-of-work factory on a fresh, empty store of the parametrized kind."""
    if pg is None:
        return InMemoryUnitOfWorkFactory(InMemoryStore(), tuning)
    await truncate_all(pg.engine)
    return SqlAlchemyUnitOfWorkFactory(pg.engine, tuning)


@pytest.fixture
async def container(pg: Database | None, tmp_path: Path, tuning: Tuning) -> Container:
    """An application container on a fresh store of the parametrized kind (blobs in a
    temporary directory for postgres, in memory for memory)."""
    if pg is None:
        built = build_container(AppSettings(storage="memory", **FAST_PASSWORD_HASHING))
    else:
        await truncate_all(pg.engine)
        settings = AppSettings(
            storage="postgres",
            slow_query_ms=0,
            blob_dir=tmp_path / "blobs",
            **FAST_PASSWORD_HASHING,
        )
        built = build_container(settings, pg.url)
        built.database.override(pg)
    built.tuning.override(providers.Object(tuning))
    return built
