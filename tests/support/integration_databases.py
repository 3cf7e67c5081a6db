"""Fresh databases for the integration suites: one per test (or module), migrated by running
Alembic exactly as `archivist migrate` would, dropped afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from alembic.script import Script, ScriptDirectory
from sqlalchemy import pool
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from infrastructure.sqlalchemy.migrations import alembic_config
from tests.support.databases import alembic_on, create_database, drop_database, libpq_url
from tests.support.integration_catalog import SchemaSummary, current_revisions, schema_summary


@dataclass(frozen=True, slots=True)
class FreshDatabase:
    name: str
    url: str  # asyncpg form
    engine: AsyncEngine

    @property
    def libpq_url(self) -> str:
        """The URL as an operator writes it in DATABASE_URL (postgresql://...)."""
        return libpq_url(self.url)

    async def alembic(self, action: str, revision: str = "head") -> None:
        """One Alembic command in its own committed transaction, as the CLI runs it."""
        async with self.engine.begin() as conn:
            await alembic_on(conn, action, revision)

    async def summary(self) -> SchemaSummary:
        async with self.engine.connect() as conn:
            return await schema_summary(conn)

    async def revisions(self) -> set[str]:
        async with self.engine.connect() as conn:
            return await current_revisions(conn)

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield conn


@asynccontextmanager
async def fresh_database(*, migrated: bool) -> AsyncIterator[FreshDatabase]:
    """A new, uniquely named database on the test server; at head if `migrated`."""
    name, url = await create_database("archivist_it")
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        database = FreshDatabase(name, url, engine)
        if migrated:
            await database.alembic("upgrade", "head")
        yield database
    finally:
        await engine.dispose()
        await drop_database(name)


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def revisions_from_base() -> list[Script]:
    """Every revision in the script directory, oldest first."""
    return list(reversed(list(script_directory().walk_revisions("base", "heads"))))


def down_revisions(script: Script) -> set[str]:
    """What `alembic_version` holds one step below `script` (empty for the first revision)."""
    down = script.down_revision
    if down is None:
        return set()
    return {down} if isinstance(down, str) else set(down)
