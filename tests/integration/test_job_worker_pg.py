"""`PgJobWorker` on PostgreSQL: registered handlers run committed jobs; a failing job is
retried by its policy, then held as failed with its error; stopping lets the job in hand
finish; and two worker processes never run one job twice (issue #12, must-show 1)."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from application.jobs import JobHandlers, RetryPolicy
from domain.errors import NotFound
from domain.jobs import JobState, JsonObject
from infrastructure.sqlalchemy.database import Database
from infrastructure.sqlalchemy.job_worker import PgJobWorker
from infrastructure.sqlalchemy.uow import SqlAlchemyUnitOfWorkFactory
from tests.support.integration_cli import cli_env
from tests.support.integration_databases import FreshDatabase, fresh_database

pytestmark = pytest.mark.postgres

PROJECT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 30.0
FAST = RetryPolicy(3, initial_delay=timedelta(milliseconds=50), max_delay=timedelta(seconds=1))


async def _enqueue(engine: AsyncEngine, kind: str, payloads: list[JsonObject]) -> None:
    async with SqlAlchemyUnitOfWorkFactory(engine)() as uow:
        for payload in payloads:
            await uow.jobs.enqueue(kind, payload)
        await uow.commit()


async def _rows(engine: AsyncEngine, sql: str, **params: object) -> list[Any]:
    async with engine.connect() as conn:
        return list(await conn.execute(text(sql), params))


async def _until(check: Callable[[], Any], what: str, seconds: float = WAIT_SECONDS) -> None:
    """Wait (bounded) until `check()` (sync or async) is true."""
    async with asyncio.timeout(seconds):
        while True:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            await asyncio.sleep(0.02)
    raise AssertionError(what)  # pragma: no cover - the timeout raises first


@pytest.fixture
async def worker_on(
    pg_database: Database, pg_engine: AsyncEngine
) -> AsyncIterator[Callable[..., PgJobWorker]]:
    """Builds started-later workers on the test database; stops them all at the end."""
    workers: list[PgJobWorker] = []

    def build(handlers: JobHandlers, concurrency: int = 2) -> PgJobWorker:
        worker = PgJobWorker(pg_database.url, handlers, concurrency)
        workers.append(worker)
        return worker

    yield build
    for worker in workers:
        await worker.stop()


async def _failed_jobs(engine: AsyncEngine) -> list[Any]:
    return await _rows(
        engine, "SELECT id, entrypoint, attempts FROM jobs.pgqueuer WHERE status = 'failed'"
    )


async def _last_error(engine: AsyncEngine, job_id: int) -> dict[str, Any]:
    [row] = await _rows(
        engine,
        "SELECT traceback FROM jobs.pgqueuer_log WHERE job_id = :id AND status = 'failed'",
        id=job_id,
    )
    value = row.traceback
    return dict(json.loads(value) if isinstance(value, str) else value)


async def test_a_registered_handler_runs_a_committed_job(
    pg_engine: AsyncEngine, worker_on: Callable[..., PgJobWorker]
) -> None:
    ran: list[JsonObject] = []

    async def handle(payload: JsonObject) -> None:
        ran.append(payload)

    handlers = JobHandlers()
    handlers.register("thumbnail", handle)
    await _enqueue(pg_engine, "thumbnail", [{"document_id": "d1"}])
    await _enqueue(pg_engine, "ocr", [{"document_id": "d2"}])  # no handler here
    worker = worker_on(handlers)
    await worker.start()

    await _until(lambda: ran, "the job did not run")
    await _until(lambda: _no_job_of(pg_engine, "thumbnail"), "the done job stayed queued")
    await worker.stop()

    assert ran == [{"document_id": "d1"}]
    async with SqlAlchemyUnitOfWorkFactory(pg_engine)(autocommit=True) as uow:
        assert [(j.kind, j.state) for j in await uow.jobs.queued()] == [("ocr", JobState.QUEUED)]


async def _no_job_of(engine: AsyncEngine, kind: str) -> bool:
    rows = await _rows(engine, "SELECT 1 FROM jobs.pgqueuer WHERE entrypoint = :k", k=kind)
    return not rows


async def test_a_failing_job_is_retried_by_its_policy_then_held_as_failed_with_its_error(
    pg_engine: AsyncEngine, worker_on: Callable[..., PgJobWorker]
) -> None:
    runs: list[JsonObject] = []

    async def fail(payload: JsonObject) -> None:
        runs.append(payload)
        raise OSError(f"render failed on run {len(runs)}")

    handlers = JobHandlers()
    handlers.register("thumbnail", fail, FAST)
    await _enqueue(pg_engine, "thumbnail", [{"document_id": "d1"}])
    worker = worker_on(handlers)
    await worker.start()

    # Retries run when due (~0.2 s here), not at the worker's next poll (30 s): a retry is
    # an UPDATE, which pgqueuer's trigger does not notify (`WorkerQueries`).
    await _until(lambda: _failed_jobs(pg_engine), "the job was not held as failed", 10)
    await worker.stop()

    assert runs == [{"document_id": "d1"}] * 3
    [failed] = await _failed_jobs(pg_engine)
    assert (failed.entrypoint, failed.attempts) == ("thumbnail", 2)
    error = await _last_error(pg_engine, failed.id)
    assert (error["exception_type"], error["exception_message"]) == (
        "OSError",
        "render failed on run 3",
    )
    log = [
        r.status for r in await _rows(pg_engine, "SELECT status FROM jobs.pgqueuer_log ORDER BY id")
    ]
    assert log.count("picked") == 3 and log[-1] == "failed"
    async with SqlAlchemyUnitOfWorkFactory(pg_engine)(autocommit=True) as uow:
        assert await uow.jobs.queued() == []  # held, not waiting


async def test_a_domain_error_holds_the_job_as_failed_at_once(
    pg_engine: AsyncEngine, worker_on: Callable[..., PgJobWorker]
) -> None:
    runs: list[JsonObject] = []

    async def gone(payload: JsonObject) -> None:
        runs.append(payload)
        raise NotFound("document", payload["document_id"])

    handlers = JobHandlers()
    handlers.register("thumbnail", gone, FAST)
    await _enqueue(pg_engine, "thumbnail", [{"document_id": "d1"}])
    worker = worker_on(handlers)
    await worker.start()

    await _until(lambda: _failed_jobs(pg_engine), "the job was not held as failed")
    await worker.stop()

    assert len(runs) == 1
    [failed] = await _failed_jobs(pg_engine)
    assert failed.attempts == 0
    error = await _last_error(pg_engine, failed.id)
    assert (error["exception_type"], error["exception_message"]) == (
        "NotFound",
        "document d1 was not found",
    )


async def test_stopping_lets_the_job_in_hand_finish(
    pg_engine: AsyncEngine, worker_on: Callable[..., PgJobWorker]
) -> None:
    started = asyncio.Event()
    finished: list[JsonObject] = []

    async def slow(payload: JsonObject) -> None:
        started.set()
        await asyncio.sleep(0.5)
        finished.append(payload)

    handlers = JobHandlers()
    handlers.register("ocr", slow)
    await _enqueue(pg_engine, "ocr", [{"n": 1}])
    worker = worker_on(handlers)
    await worker.start()
    async with asyncio.timeout(WAIT_SECONDS):
        await started.wait()

    await worker.stop()

    assert finished == [{"n": 1}]
    assert not worker.running
    # Recorded as done: the status write is flushed before the worker stops.
    assert await _rows(pg_engine, "SELECT 1 FROM jobs.pgqueuer") == []
    log = [
        r.status for r in await _rows(pg_engine, "SELECT status FROM jobs.pgqueuer_log ORDER BY id")
    ]
    assert log == ["queued", "picked", "successful"]


async def test_a_worker_runs_at_most_its_concurrency_at_once(
    pg_engine: AsyncEngine, worker_on: Callable[..., PgJobWorker]
) -> None:
    running = 0
    most = 0
    done: list[JsonObject] = []

    async def handle(payload: JsonObject) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.02)
        running -= 1
        done.append(payload)

    handlers = JobHandlers()
    handlers.register("ocr", handle)
    await _enqueue(pg_engine, "ocr", [{"n": n} for n in range(12)])
    worker = worker_on(handlers, 1)
    await worker.start()

    await _until(lambda: len(done) == 12, "the jobs did not all run")
    await worker.stop()

    assert most == 1


# --- two processes -----------------------------------------------------------------------

JOBS = 500


@pytest.fixture
async def fresh() -> AsyncIterator[FreshDatabase]:
    async with fresh_database(migrated=True) as database:
        yield database


async def _start_worker_process(
    database: FreshDatabase, concurrency: int, tmp_path: Path, name: str
) -> tuple[asyncio.subprocess.Process, Path]:
    stderr_path = tmp_path / f"{name}.err"
    with stderr_path.open("wb") as err:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.support.job_worker_process",
            database.libpq_url,
            str(concurrency),
            cwd=PROJECT,
            env=cli_env(database.libpq_url, tmp_path / "data"),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=err,
        )
    return process, stderr_path


async def test_two_worker_processes_never_run_the_same_job_twice(
    fresh: FreshDatabase, tmp_path: Path
) -> None:
    async with fresh.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE job_runs (n integer NOT NULL, pid integer)"))
    await _enqueue(fresh.engine, "record", [{"n": n} for n in range(JOBS)])

    processes = [await _start_worker_process(fresh, 4, tmp_path, f"worker-{i}") for i in range(2)]
    try:
        await _until(
            lambda: _all_done(fresh.engine),
            "the workers did not run every job",
        )
    finally:
        for process, _ in processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        codes = []
        for process, stderr_path in processes:
            try:
                async with asyncio.timeout(WAIT_SECONDS):
                    codes.append(await process.wait())
            except TimeoutError:
                process.kill()
                await process.wait()
                raise AssertionError(stderr_path.read_text()[-3000:]) from None

    errors = "\n".join(path.read_text()[-3000:] for _, path in processes)
    assert codes == [0, 0], errors  # SIGTERM stops a worker gracefully
    runs = await _rows(fresh.engine, "SELECT n, pid FROM job_runs")
    assert len(runs) == JOBS  # every job ran exactly once...
    assert sorted(r.n for r in runs) == list(range(JOBS))
    assert len({r.pid for r in runs}) == 2  # ...and both processes ran some
    assert await _rows(fresh.engine, "SELECT 1 FROM jobs.pgqueuer") == []


async def _all_done(engine: AsyncEngine) -> bool:
    """Every job ran and pgqueuer recorded each as done (it deletes a successful job)."""
    [(runs,)] = await _rows(engine, "SELECT count(*) FROM job_runs")
    [(left,)] = await _rows(engine, "SELECT count(*) FROM jobs.pgqueuer")
    return bool(runs >= JOBS and left == 0)
