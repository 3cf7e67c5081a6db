"""Two processes sharing one blob directory and one database (issue #9, item 13).

Process A uploads bytes as a "doomed" document and at once again as a "kept" one, round after
round; process B purges every doomed document as soon as it appears and sweeps unreferenced
blobs with no grace period (`tests/support/blob_race_worker.py`). Blob deletion and uploads of
the same bytes take the blob's lock in PostgreSQL (`AdvisoryBlobLocks`), so B never deletes a
blob between A storing it and A committing the row that references it: at the end every
row's blob exists. (With the in-process locks, ARCHIVIST_RACE_LOCAL_LOCKS=1 in the
worker, rows lose their blob within seconds.)
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from application.context import RequestContext
from application.users import CreateUser
from infrastructure.config import AppSettings
from infrastructure.container import build_container, shutdown_container
from infrastructure.sqlalchemy.blob_locks import AdvisoryBlobLocks
from infrastructure.sqlalchemy.database import Database
from tests.support.integration_databases import FreshDatabase, fresh_database

# Times subprocesses against wall-clock windows: run alone, after the parallel part (Makefile).
pytestmark = [pytest.mark.postgres, pytest.mark.serial]

RACE_SECONDS = 8.0
PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def database() -> AsyncIterator[FreshDatabase]:
    async with fresh_database(migrated=True) as fresh:
        yield fresh


async def _run_worker(role: str, *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.blob_race_worker",
        role,
        *args,
        cwd=PROJECT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(RACE_SECONDS + 60):
        out, err = await process.communicate()
    assert process.returncode == 0, err.decode()[-3000:]
    return out.decode().strip()


async def test_a_purge_in_one_process_never_takes_the_blob_of_an_upload_in_another(
    database: FreshDatabase, tmp_path: Path
) -> None:
    blob_dir = tmp_path / "blobs"
    settings = AppSettings(storage="postgres", slow_query_ms=0, blob_dir=blob_dir)
    container = build_container(settings, database.url)
    try:
        owner = await container.users().create(
            RequestContext.system(),
            CreateUser(email="olga@example.com", name="Olga", access_level=3),
        )
    finally:
        await shutdown_container(container)
    args = (database.url, str(blob_dir), str(owner.id), str(RACE_SECONDS))

    uploads, purges = await asyncio.gather(
        _run_worker("upload", *args), _run_worker("purge", *args)
    )

    async with database.connect() as conn:
        rows = (await conn.execute(text("SELECT storage_key FROM documents"))).scalars().all()
        purged = (
            await conn.execute(text("SELECT count(*) FROM events WHERE action = 'document.purged'"))
        ).scalar_one()
    missing = [key for key in rows if not (blob_dir / key).is_file()]
    print(
        f"\nblob race: {uploads} rounds of two uploads, {purges} purge rounds, "
        f"{purged} documents purged, {len(rows)} rows left, {len(missing)} without their blob"
    )
    assert int(uploads) > 10 and purged > 10  # the race really ran
    assert missing == []


async def test_advisory_locks_exclude_holders_on_separate_connection_pools(
    database: FreshDatabase,
) -> None:
    """Two `AdvisoryBlobLocks` on engines of their own, as two processes have."""
    settings = AppSettings(slow_query_ms=0)
    first_db, second_db = Database(database.url, settings), Database(database.url, settings)
    first, second = (
        AdvisoryBlobLocks(first_db.lock_engine),
        AdvisoryBlobLocks(second_db.lock_engine),
    )
    order: list[str] = []
    try:
        async with first.hold("ab/cd/key"):
            waiting = asyncio.create_task(_take(second, "ab/cd/key", order))
            other = asyncio.create_task(_take(second, "ab/cd/other", order))
            await asyncio.wait_for(other, 10)
            await asyncio.sleep(0.3)
            order.append("first releases")
        await asyncio.wait_for(waiting, 10)
    finally:
        await first_db.dispose()
        await second_db.dispose()

    assert order == ["ab/cd/other", "first releases", "ab/cd/key"]


async def _take(locks: AdvisoryBlobLocks, key: str, order: list[str]) -> None:
    async with locks.hold(key):
        order.append(key)
