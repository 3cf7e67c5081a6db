"""The job queue with a real pgqueuer worker on the test database (issue #12, must-show 1):
a job enqueued in a rolled-back unit of work never runs, a committed one runs exactly once.
The worker runs in drain mode: it stops once the queue is empty."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from pgqueuer import PgQueuer
from pgqueuer.db import AsyncpgPoolDriver
from pgqueuer.domain.types import Channel, QueueExecutionMode
from pgqueuer.models import Job
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.jobs import JsonValue, decode_payload
from infrastructure.sqlalchemy.database import Database
from infrastructure.sqlalchemy.jobs import JOB_SETTINGS, job_queries
from infrastructure.sqlalchemy.uow import SqlAlchemyUnitOfWorkFactory
from tests.support import factories
from tests.support.databases import libpq_url

pytestmark = pytest.mark.postgres

KINDS = ("thumbnail", "ocr")
Ran = list[tuple[str, int, dict[str, JsonValue]]]  # (kind, job id, payload) per run


async def drain(database: Database, ran: Ran, *, workers: int = 1) -> None:
    """Run `workers` pgqueuer workers (a pool each, as `archivist worker` will) until the
    queue is empty, recording every job their handlers run into `ran`."""
    pools = [
        await asyncpg.create_pool(libpq_url(database.url), min_size=1, max_size=3)
        for _ in range(workers)
    ]
    try:
        queuers = []
        for pool in pools:
            driver = AsyncpgPoolDriver(pool)
            pgq = PgQueuer(
                connection=driver,
                channel=Channel(JOB_SETTINGS.channel),
                queries=job_queries(driver),
            )
            for kind in KINDS:
                pgq.entrypoint(kind)(_recorder(kind, ran))
            queuers.append(pgq)
        runs = (pgq.run(mode=QueueExecutionMode.drain, batch_size=5) for pgq in queuers)
        await asyncio.wait_for(asyncio.gather(*runs), timeout=60)
    finally:
        for pool in pools:
            await pool.close()


def _recorder(kind: str, ran: Ran) -> Callable[[Job], Awaitable[None]]:
    async def handle(job: Job) -> None:
        ran.append((kind, int(job.id), decode_payload(job.payload)))
        await asyncio.sleep(0)  # let another worker's tasks interleave

    return handle


_ROWS = {
    "pgqueuer": text("SELECT * FROM jobs.pgqueuer ORDER BY id"),
    "pgqueuer_log": text("SELECT * FROM jobs.pgqueuer_log ORDER BY id"),
}


async def _rows(engine: AsyncEngine, table: str) -> list[Any]:
    async with engine.connect() as conn:
        return list(await conn.execute(_ROWS[table]))


async def test_a_job_enqueued_in_a_rolled_back_unit_of_work_never_runs(
    pg_database: Database, pg_engine: AsyncEngine
) -> None:
    uow_factory = SqlAlchemyUnitOfWorkFactory(pg_engine)
    async with uow_factory() as uow:
        await uow.jobs.enqueue("thumbnail", {"case": "first statement"})  # the lazy BEGIN
        await uow.users.add(factories.user())
        await uow.jobs.enqueue("ocr", {"case": "after a write"}, dedupe_key="ocr:d1")
        await uow.rollback()
    with pytest.raises(RuntimeError):
        async with uow_factory() as uow:
            await uow.jobs.enqueue("thumbnail", {"case": "failed use case"})
            raise RuntimeError("the use case failed")
    async with uow_factory() as uow:
        await uow.jobs.enqueue("ocr", {"case": "committed"}, dedupe_key="ocr:d1")
        await uow.commit()

    ran: Ran = []
    await drain(pg_database, ran)

    assert [(kind, payload) for kind, _, payload in ran] == [("ocr", {"case": "committed"})]
    [committed] = {row.job_id for row in await _rows(pg_engine, "pgqueuer_log")}
    assert committed == ran[0][1]  # the rolled-back jobs left no trace in pgqueuer's log either


async def test_a_committed_job_runs_exactly_once(
    pg_database: Database, pg_engine: AsyncEngine
) -> None:
    uow_factory = SqlAlchemyUnitOfWorkFactory(pg_engine)
    async with uow_factory() as uow:
        assert await uow.jobs.enqueue("thumbnail", {"document_id": "d1"}, dedupe_key="t:d1")
        await uow.commit()
    async with uow_factory(autocommit=True) as uow:
        [job] = await uow.jobs.queued()

    ran: Ran = []
    await drain(pg_database, ran)
    await drain(pg_database, ran)  # nothing is left for a second worker

    assert ran == [("thumbnail", job.id, {"document_id": "d1"})]
    assert await _rows(pg_engine, "pgqueuer") == []  # pgqueuer deletes a successful job
    log = [row.status for row in await _rows(pg_engine, "pgqueuer_log") if row.job_id == job.id]
    assert log == ["queued", "picked", "successful"]
    async with uow_factory() as uow:  # done: its dedupe key is free again
        assert await uow.jobs.enqueue("thumbnail", {"document_id": "d1"}, dedupe_key="t:d1")


async def test_two_workers_run_each_committed_job_once(
    pg_database: Database, pg_engine: AsyncEngine
) -> None:
    uow_factory = SqlAlchemyUnitOfWorkFactory(pg_engine)
    async with uow_factory() as uow:
        for n in range(40):
            await uow.jobs.enqueue(KINDS[n % 2], {"n": n})
        await uow.commit()

    ran: Ran = []
    await drain(pg_database, ran, workers=2)

    assert sorted(payload["n"] for _, _, payload in ran) == list(range(40))
    assert len({job_id for _, job_id, _ in ran}) == 40


async def test_an_enqueue_is_one_statement_the_engine_hooks_count(pg_engine: AsyncEngine) -> None:
    """The slow-query log and the statement counters see the enqueue: it runs through
    SQLAlchemy on the unit of work's connection, not around it."""
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    uow_factory = SqlAlchemyUnitOfWorkFactory(pg_engine)
    event.listen(pg_engine.sync_engine, "before_cursor_execute", record)
    try:
        async with uow_factory() as uow:
            await uow.jobs.enqueue("ocr", {"n": 1})
    finally:
        event.remove(pg_engine.sync_engine, "before_cursor_execute", record)

    assert len(statements) == 1
    assert "INSERT INTO jobs.pgqueuer" in statements[0]
