"""A job worker process for tests/integration/test_job_worker_pg.py: `archivist worker` with
one test handler registered.

    python -m tests.support.job_worker_process DATABASE_URL CONCURRENCY

It runs `PgJobWorker.run_until_stopped()` (until SIGTERM) on a container for DATABASE_URL,
with a handler for the kind `record` that inserts `(payload n, this process's id)` into the
table `job_runs`. A handler waits, before returning, until two processes have recorded a
run (at most `BARRIER_SECONDS`): so however fast one process starts and drains the queue,
the other takes part, and the test need not time anything.
"""

from __future__ import annotations

import asyncio
import os
import sys

from sqlalchemy import text

from domain.jobs import JsonObject
from infrastructure.config import AppSettings
from infrastructure.container import build_container, shutdown_container

KIND = "record"
BARRIER_SECONDS = 30.0
_RECORD = text("INSERT INTO job_runs (n, pid) VALUES (:n, :pid)")
_PROCESSES = text("SELECT count(DISTINCT pid) FROM job_runs")


async def main(database_url: str, concurrency: int) -> None:
    settings = AppSettings(
        storage="postgres",
        database_url=database_url,
        slow_query_ms=0,
        worker_concurrency=concurrency,
    )
    container = build_container(settings, database_url)
    engine = container.database().engine
    pid = os.getpid()
    both_seen = asyncio.Event()

    async def record(payload: JsonObject) -> None:
        async with engine.begin() as conn:
            await conn.execute(_RECORD, {"n": payload["n"], "pid": pid})
        async with asyncio.timeout(BARRIER_SECONDS):
            while not both_seen.is_set():
                async with engine.connect() as conn:
                    if (await conn.execute(_PROCESSES)).scalar_one() >= 2:
                        both_seen.set()
                        break
                await asyncio.sleep(0.02)

    container.job_handlers().register(KIND, record)
    try:
        await container.job_worker().run_until_stopped()
    finally:
        await shutdown_container(container)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
