"""A failed job retried by hand on PostgreSQL runs at once on a worker that waits for its next
poll (the retry is an UPDATE, which pgqueuer's statement trigger does not notify: the retry
notifies itself), and `PgJobWorker` reports each run's outcome and a failure for good to the
registry's listener and hook (issue #12 item 4)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from application.jobs import JobHandlers, JobOutcome
from domain.errors import NotFound
from domain.jobs import JsonObject
from infrastructure.sqlalchemy.database import Database
from infrastructure.sqlalchemy.job_worker import PgJobWorker
from infrastructure.sqlalchemy.uow import SqlAlchemyUnitOfWorkFactory

pytestmark = pytest.mark.postgres


async def test_a_retried_job_runs_at_once_and_outcomes_are_reported(
    pg_database: Database, pg_engine: AsyncEngine
) -> None:
    uow_factory = SqlAlchemyUnitOfWorkFactory(pg_engine)
    runs: list[JsonObject] = []
    ran_again = asyncio.Event()
    outcomes: list[tuple[str, JobOutcome]] = []
    failures: list[tuple[str, JsonObject, str]] = []

    async def flaky(payload: JsonObject) -> None:
        runs.append(payload)
        if len(runs) == 1:
            raise NotFound("document", payload["document_id"])
        ran_again.set()

    async def failed(kind: str, payload: JsonObject, error: str) -> None:
        failures.append((kind, payload, error))

    handlers = JobHandlers()
    handlers.register("thumbnail", flaky)
    handlers.listen(lambda kind, outcome: outcomes.append((kind, outcome)))
    handlers.on_failed_for_good(failed)
    async with uow_factory() as uow:
        await uow.jobs.enqueue("thumbnail", {"document_id": "d1"})
        await uow.commit()
    # A poll far beyond the test's patience: only a notification wakes the worker.
    worker = PgJobWorker(pg_database.url, handlers, 1, dequeue_timeout=timedelta(seconds=60))
    await worker.start()
    try:
        async with asyncio.timeout(10):
            while True:  # held as failed once pgqueuer has written it
                async with uow_factory(autocommit=True) as uow:
                    held = await uow.jobs.failures(5)
                if held:
                    break
                await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)  # the worker settles to wait for its next poll
        async with uow_factory() as uow:
            assert await uow.jobs.retry(held[0].id)
            await uow.commit()
        async with asyncio.timeout(5):
            await ran_again.wait()
    finally:
        await worker.stop()

    assert failures == [("thumbnail", {"document_id": "d1"}, "NotFound: document d1 was not found")]
    assert outcomes == [("thumbnail", JobOutcome.FAILED), ("thumbnail", JobOutcome.DONE)]
    async with uow_factory(autocommit=True) as uow:
        assert await uow.jobs.get(held[0].id) is None  # done: it left the queue
