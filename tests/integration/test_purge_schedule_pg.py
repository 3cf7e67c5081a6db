"""The periodic purge (issue #12 item 1): the job workers queue a `purge` job on the
`ARCHIVIST_PURGE_SCHEDULE` cron schedule, and it runs like any job. Here the schedule fires
every second, on a real pgqueuer worker, and purges a document trashed past its retention."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from application.context import RequestContext
from application.document_store import DocumentFields
from application.maintenance import PURGE_JOB
from application.users import CreateUser
from domain.jobs import FinishedAs, JobCount
from infrastructure.config import AppSettings
from infrastructure.container import build_container, shutdown_container
from infrastructure.sqlalchemy.database import Database
from tests.conftest import truncate_all


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


@pytest.mark.postgres
async def test_the_schedule_queues_a_purge_job_and_a_worker_runs_it(
    pg_database: Database, tmp_path: Path
) -> None:
    pg = pg_database
    await truncate_all(pg.engine)
    settings = AppSettings(
        storage="postgres",
        slow_query_ms=0,
        blob_dir=tmp_path / "blobs",
        purge_schedule="* * * * * *",  # every second (croniter: seconds last)
    )
    container = build_container(settings, pg.url)
    container.database.override(pg)
    try:
        ctx = RequestContext(
            actor=await container.users().create(
                RequestContext.system(), CreateUser(email="a@example.com", name="A")
            )
        )
        doc = await container.document_uploads().upload(
            ctx, "old.txt", _chunks(b"trashed long ago"), DocumentFields()
        )
        await container.document_lifecycle().delete(ctx, doc.id)
        async with pg.engine.begin() as conn:  # in the trash for 40 days (retention: 30)
            await conn.execute(
                text("UPDATE documents SET deleted_at = deleted_at - interval '40 days'")
            )

        worker = container.job_worker()
        await worker.start()
        try:
            deadline = time.monotonic() + 30
            while True:
                async with container.uow_factory()(autocommit=True) as uow:
                    purged = await uow.documents.get(doc.id) is None
                    summary = await uow.jobs.summary(timedelta(hours=1))
                if purged and JobCount(PURGE_JOB, FinishedAs.DONE, 1) in summary.finished:
                    break
                assert time.monotonic() < deadline, f"no purge ran: {summary}"
                await asyncio.sleep(0.2)
        finally:
            await worker.stop()
        async with pg.engine.connect() as conn:
            schedules = (
                await conn.execute(
                    text("SELECT entrypoint, expression FROM jobs.pgqueuer_schedules")
                )
            ).all()
        assert [tuple(s) for s in schedules] == [(PURGE_JOB, "* * * * * *")]
    finally:
        await shutdown_container(container)


def test_a_schedule_that_is_not_cron_is_refused_and_empty_turns_it_off() -> None:
    with pytest.raises(ValueError, match="not a cron expression"):
        AppSettings(storage="memory", purge_schedule="every night")
    assert AppSettings(storage="memory", purge_schedule="").purge_schedule == ""
    assert AppSettings(storage="memory", purge_schedule=" 17  3 * * * ").purge_schedule == (
        "17 3 * * *"
    )
    off = build_container(AppSettings(storage="memory", purge_schedule=""))
    on = build_container(AppSettings(storage="memory"))
    assert [s.name for s in off.job_handlers().schedules()] == []
    assert [(s.name, s.cron) for s in on.job_handlers().schedules()] == [(PURGE_JOB, "17 3 * * *")]
    assert PURGE_JOB in off.job_handlers()  # runnable as a job either way
