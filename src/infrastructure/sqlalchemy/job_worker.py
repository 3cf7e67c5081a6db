"""The job worker on PostgreSQL: pgqueuer's `PgQueuer` running the registered handlers.

It has an asyncpg pool of its own (a few connections: one held for LISTEN, the others for
taking jobs, heartbeats and status writes); the handlers open units of work on the
application's engine like any use case. Any number of workers, in any number of processes,
may run on one database: a job is taken with `FOR UPDATE SKIP LOCKED`, so one worker runs it.

A job runs at least once. If its handler blocks the event loop for longer than the heartbeat
timeout, or its worker dies, another worker takes it again: handlers are idempotent and keep
CPU work off the loop (decisions: "Background jobs").
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from pgqueuer import PgQueuer, Queries
from pgqueuer.core.executors import EntrypointExecutor, EntrypointExecutorParameters
from pgqueuer.db import AsyncpgPoolDriver
from pgqueuer.domain.errors import RetryRequested
from pgqueuer.domain.types import Channel
from pgqueuer.models import Context, Job, TracebackRecord
from pgqueuer.models import Schedule as PgqSchedule

from application.jobs import (
    DEFAULT_RETRY_POLICY,
    JobHandlers,
    JobKind,
    JobOutcome,
    RetryPolicy,
    Schedule,
    describe_error,
    retry_delay,
)
from domain.jobs import JsonObject, decode_payload
from infrastructure.sqlalchemy.engine import async_url, safe_url
from infrastructure.sqlalchemy.jobs import JOB_SETTINGS, NOTIFY_CHANGED, job_queries

log = logging.getLogger("archivist.jobs")

# Generous: a job whose heartbeat is older is taken again by another worker. Heartbeats are
# sent every half of it, from the event loop, so only a handler blocking the loop that long
# (or a dead worker) lets it lapse.
HEARTBEAT_TIMEOUT = timedelta(seconds=60)
# The poll behind LISTEN/NOTIFY, in case a notification is missed.
DEQUEUE_TIMEOUT = timedelta(seconds=30)
# The worker's own connections (pgqueuer needs at least 2: one is held for LISTEN).
POOL_SIZE = 4
# How long stopping waits for the pool to close once the jobs in hand are done.
POOL_CLOSE_SECONDS = 10.0


@dataclasses.dataclass
class PolicyExecutor(EntrypointExecutor):
    """pgqueuer's executor with `application.jobs.retry_delay` deciding what a failure
    means: a retry after the policy's delay (`RetryRequested`: the job is queued again with
    `attempts` + 1 and its error in pgqueuer's log), or a failure for good (the exception
    goes through; `on_failure="hold"` keeps the job as `failed` with its traceback).
    Each run's outcome is reported to `handlers` (metrics; a failure for good marks the
    document's processing failed)."""

    policy: RetryPolicy = DEFAULT_RETRY_POLICY
    handlers: JobHandlers | None = None

    async def execute(self, job: Job, context: Context) -> None:
        try:
            await super().execute(job, context)
        except RetryRequested:
            await self._report(job, JobOutcome.RETRIED)
            raise
        except Exception as err:
            run = job.attempts + 1  # pgqueuer's attempts count the retries so far
            delay = retry_delay(self.policy, run, err)
            error = describe_error(err)
            if delay is None:
                log.error(
                    "job %s/%s failed for good (run %d of at most %d): %s",
                    job.entrypoint,
                    job.id,
                    run,
                    self.policy.max_attempts,
                    error,
                )
                await self._report(job, JobOutcome.FAILED, error)
                raise
            await self._report(job, JobOutcome.RETRIED)
            log.warning(
                "job %s/%s failed (run %d of at most %d), retrying in %s: %s",
                job.entrypoint,
                job.id,
                run,
                self.policy.max_attempts,
                delay,
                error,
            )
            raise RetryRequested(delay=delay, reason=error) from err
        await self._report(job, JobOutcome.DONE)

    async def _report(self, job: Job, outcome: JobOutcome, error: str | None = None) -> None:
        if self.handlers is None:
            return
        try:
            payload: JsonObject = decode_payload(job.payload)
        except ValueError:
            payload = {}
        await self.handlers.report(job.entrypoint, outcome, payload, error)


@dataclasses.dataclass
class WorkerQueries(Queries):
    """pgqueuer's queries, with a notification after a retry is queued.

    pgqueuer's trigger on the queue table is a statement trigger, whose OLD and NEW are
    NULL: it notifies inserts and deletes but no UPDATE, and a retry is an UPDATE (the job
    queued again, due after its delay). A worker that had already settled to wait for its
    next poll (30 s) while the retry was being written would sleep through the retry's
    delay (measured: a 50 ms retry ran 30 s late, about one time in two). Notified, every
    worker looks again and waits exactly until the retry is due."""

    async def retry_job(
        self, job: Job, delay: timedelta, traceback_record: TracebackRecord | None
    ) -> None:
        await super().retry_job(job, delay, traceback_record)
        await self.driver.execute(NOTIFY_CHANGED, JOB_SETTINGS.channel, JOB_SETTINGS.queue_table)


def concurrency_plan(concurrency: int) -> tuple[int, int]:
    """pgqueuer's (batch_size, max_concurrent_tasks) for at most `concurrency` jobs running
    at once. pgqueuer wants max_concurrent_tasks >= 2 * batch_size, so 1 cannot be said to
    it: the worker's semaphore holds the second job taken until the first is done."""
    if concurrency < 1:
        raise ValueError("a worker's concurrency must be at least 1")
    return max(1, concurrency // 2), max(2, concurrency)


def libpq_dsn(database_url: str) -> str:
    """The database URL as asyncpg takes it (postgresql://...)."""
    url = async_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class PgJobWorker:
    """Runs the handlers of `handlers` on the jobs of the database at `database_url`, at
    most `concurrency` at a time.

    `start()`/`stop()` inside an asyncio app (the server's lifespan); `run_until_stopped()`
    as a process of its own (`archivist worker`), until SIGTERM or SIGINT. Kinds are read
    from `handlers` at `start()`: register before. With no kind registered it takes nothing
    (and opens no connection)."""

    def __init__(
        self,
        database_url: str,
        handlers: JobHandlers,
        concurrency: int = 2,
        *,
        heartbeat_timeout: timedelta = HEARTBEAT_TIMEOUT,
        dequeue_timeout: timedelta = DEQUEUE_TIMEOUT,
    ) -> None:
        self._url = database_url
        self._handlers = handlers
        self._batch_size, self._max_tasks = concurrency_plan(concurrency)
        self._concurrency = concurrency
        self._heartbeat_timeout = heartbeat_timeout
        self._dequeue_timeout = dequeue_timeout
        self._pool: asyncpg.Pool | None = None
        self._pgq: PgQueuer | None = None
        self._task: asyncio.Task[None] | None = None
        self._semaphore: asyncio.Semaphore | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Start taking jobs in a background task; returns once it is started. Raises what
        connecting raises (an unreachable database)."""
        if self._task is not None:
            return
        kinds = list(self._handlers)
        if not kinds and not self._handlers.schedules():
            log.info("job worker: no job kinds registered, taking no jobs")
            return
        self._semaphore = asyncio.Semaphore(self._concurrency)
        self._pool = await asyncpg.create_pool(
            libpq_dsn(self._url),
            min_size=1,
            max_size=POOL_SIZE,
            server_settings={"application_name": "archivist-worker"},
        )
        driver = AsyncpgPoolDriver(self._pool)
        base = job_queries(driver)
        queries = WorkerQueries(driver, qbe=base.qbe, qbq=base.qbq, qbs=base.qbs)
        pgq = PgQueuer(connection=driver, channel=Channel(JOB_SETTINGS.channel), queries=queries)
        for kind in kinds:
            pgq.entrypoint(
                kind.name,
                on_failure="hold",
                executor_factory=_executor_factory(kind.policy, self._handlers),
            )(self._entrypoint(kind))
        for schedule in self._handlers.schedules():
            # Once across workers: pgqueuer's scheduler takes a due schedule FOR UPDATE SKIP
            # LOCKED. clean_old: a changed expression replaces the old one's row.
            pgq.schedule(schedule.name, schedule.cron, clean_old=True)(_fired(schedule))
        self._pgq = pgq
        self._task = asyncio.create_task(
            pgq.run(
                dequeue_timeout=self._dequeue_timeout,
                batch_size=self._batch_size,
                max_concurrent_tasks=self._max_tasks,
                heartbeat_timeout=self._heartbeat_timeout,
            ),
            name="archivist-job-worker",
        )
        self._task.add_done_callback(_report_end)
        log.info(
            "job worker on %s: %s, %d at a time",
            safe_url(self._url),
            ", ".join(k.name for k in kinds),
            self._concurrency,
        )

    def _entrypoint(self, kind: JobKind) -> Callable[[Job], Awaitable[None]]:
        semaphore = self._semaphore
        assert semaphore is not None

        async def run(job: Job) -> None:
            async with semaphore:
                await kind.handler(decode_payload(job.payload))

        return run

    async def stop(self) -> None:
        """Take no more jobs; return once the jobs in hand have finished and the pool is
        closed. Never raises: a worker that failed was logged when it did."""
        task, pgq, pool = self._task, self._pgq, self._pool
        self._task = self._pgq = self._pool = None
        if pgq is not None:
            pgq.shutdown.set()
        if task is not None:
            await asyncio.wait({task})
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), POOL_CLOSE_SECONDS)
            except TimeoutError:
                pool.terminate()

    async def run_until_stopped(self) -> None:
        """Run until SIGTERM or SIGINT, then stop gracefully. Raises `RuntimeError` if the
        worker ended by itself (the database went away for good, the schema is wrong)."""
        loop = asyncio.get_running_loop()
        stopping = asyncio.Event()
        signals = (signal.SIGTERM, signal.SIGINT)
        for signum in signals:
            loop.add_signal_handler(signum, stopping.set)
        try:
            await self.start()
            task = self._task
            waits: set[asyncio.Future[Any]] = {asyncio.ensure_future(stopping.wait())}
            if task is not None:
                waits.add(task)
            done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            for future in pending:
                if future is not task:
                    future.cancel()
            if task is not None and task in done and not stopping.is_set():
                error = task.exception() if not task.cancelled() else None
                raise RuntimeError(f"the job worker stopped by itself: {error!r}") from error
        finally:
            for signum in signals:
                loop.remove_signal_handler(signum)
            await self.stop()


def _executor_factory(
    policy: RetryPolicy, handlers: JobHandlers | None = None
) -> Callable[[EntrypointExecutorParameters], PolicyExecutor]:
    def build(parameters: EntrypointExecutorParameters) -> PolicyExecutor:
        return PolicyExecutor(parameters=parameters, policy=policy, handlers=handlers)

    return build


def _fired(schedule: Schedule) -> Callable[[PgqSchedule], Awaitable[None]]:
    async def fire(_: PgqSchedule) -> None:
        try:
            await schedule.fire()
        except Exception as err:  # pgqueuer would log it with a traceback; say it as ours
            log.error("the schedule %s failed: %s", schedule.name, describe_error(err))

    return fire


def _report_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("the job worker stopped: %s", describe_error(error), exc_info=error)
