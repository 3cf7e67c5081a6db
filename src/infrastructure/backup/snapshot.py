"""The database side of a backup: its own engine, the exported snapshot that `pg_dump
--snapshot` dumps (with the blob keys it references and the versions the manifest records),
and the blob keys referenced outside any snapshot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import pool, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from infrastructure.backup.errors import BackupError
from infrastructure.sqlalchemy.engine import async_url

REFERENCED_KEYS: Final = text(
    "SELECT storage_key FROM documents "
    "UNION SELECT thumbnail_key FROM documents WHERE thumbnail_key IS NOT NULL"
)


@dataclass(frozen=True, slots=True)
class Snapshot:
    id: str
    keys: frozenset[str]
    revision: str
    created_at: datetime
    server_version: str
    server_major: int


def backup_engine(database_url: str) -> AsyncEngine:
    return create_async_engine(
        async_url(database_url),
        poolclass=pool.NullPool,
        connect_args={"server_settings": {"application_name": "archivist-backup"}},
    )


@asynccontextmanager
async def snapshot(database_url: str) -> AsyncIterator[Snapshot]:
    """A read-only REPEATABLE READ transaction whose exported snapshot stays importable
    (by `pg_dump --snapshot`) for the block."""
    engine = backup_engine(database_url)
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
            async with conn.begin():
                # The first statement fixes the transaction's snapshot: the export, so the
                # reads below and the dump all see the same one.
                snapshot_id = (await conn.execute(text("SELECT pg_export_snapshot()"))).scalar_one()
                yield await _read_snapshot(conn, str(snapshot_id))
    finally:
        await engine.dispose()


async def _read_snapshot(conn: AsyncConnection, snapshot_id: str) -> Snapshot:
    row = (
        await conn.execute(
            text(
                "SELECT now(), current_setting('server_version'), "
                "current_setting('server_version_num')::int, "
                "to_regclass('public.alembic_version') IS NOT NULL, "
                "to_regclass('public.documents') IS NOT NULL"
            )
        )
    ).one()
    created_at, server_version, version_num, has_revision, has_documents = row
    if not (has_revision and has_documents):
        raise BackupError(
            "the database is not an Archivist database (no alembic_version or documents "
            "table): run 'archivist migrate upgrade' or check DATABASE_URL"
        )
    revisions = [r[0] for r in await conn.execute(text("SELECT version_num FROM alembic_version"))]
    if len(revisions) != 1:
        raise BackupError(f"the database has {len(revisions)} Alembic revisions, not one")
    keys = frozenset(r[0] for r in await conn.execute(REFERENCED_KEYS))
    return Snapshot(
        snapshot_id,
        keys,
        revisions[0],
        created_at,
        str(server_version).split()[0],
        int(version_num) // 10000,
    )


async def referenced_now(database_url: str) -> frozenset[str]:
    engine = backup_engine(database_url)
    try:
        async with engine.connect() as conn:
            if (await conn.execute(text("SELECT to_regclass('public.documents')"))).scalar():
                return frozenset(r[0] for r in await conn.execute(REFERENCED_KEYS))
            return frozenset()  # not an Archivist database: the snapshot says so
    finally:
        await engine.dispose()
