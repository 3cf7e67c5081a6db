"""Runs the in-memory store's queued jobs with the registered handlers, one at a time.

For tests, `await runner.run_pending()` runs every job there is, deterministically: highest
priority first, then oldest, as pgqueuer takes them. The retry rules are pgqueuer worker's
(`application.jobs.retry_delay`) without the waits: a job to be retried runs again at once,
until it succeeds or is held as failed with its error. For `archivist serve` on memory
storage (demos), `start()` runs them in the background, polling.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Sequence
from contextlib import suppress

from application.jobs import JobHandlers, JobKind, JobOutcome, describe_error, retry_delay
from domain.jobs import FinishedAs, decode_payload
from infrastructure.memory.jobs import FinishedJob, JobStatus, StoredJob, now
from infrastructure.memory.store import InMemoryStore

log = logging.getLogger("archivist.jobs")

# How often the background runner looks for jobs: memory storage is for tests and demos.
POLL_SECONDS = 0.2
# The finished jobs kept for the admin summary's counts.
LOG_MAX = 100_000


class InMemoryJobRunner:
    def __init__(
        self, store: InMemoryStore, handlers: JobHandlers, *, poll_seconds: float = POLL_SECONDS
    ) -> None:
        self._store = store
        self._handlers = handlers
        self._poll_seconds = poll_seconds
        self._lock = asyncio.Lock()  # one run at a time, whoever asks
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def run_pending(self) -> int:
        """Run queued jobs of the registered kinds until none is left, including the jobs
        the handlers enqueue meanwhile. Returns how many handler runs there were. Jobs of a
        kind without a handler stay queued, as a pgqueuer worker leaves them."""
        runs = 0
        async with self._lock:
            while (next_job := self._next()) is not None:
                job, kind = next_job
                runs += await self._run(job, kind)
        return runs

    def failed(self) -> Sequence[StoredJob]:
        """The jobs held as failed, oldest first, with their errors."""
        return sorted(
            (j for j in self._store.jobs.values() if j.state is JobStatus.FAILED),
            key=lambda j: j.id,
        )

    def _next(self) -> tuple[StoredJob, JobKind] | None:
        waiting = [
            j
            for j in self._store.jobs.values()
            if j.state is JobStatus.QUEUED and j.kind in self._handlers
        ]
        if not waiting:
            return None
        job = min(waiting, key=lambda j: (-j.priority, j.id))
        kind = self._handlers.get(job.kind)
        assert kind is not None
        return job, kind

    async def _run(self, job: StoredJob, kind: JobKind) -> int:
        """Run `job` until it succeeds (it leaves the queue) or is held as failed; returns
        the number of runs."""
        runs = 0
        attempts = job.attempts  # retries so far
        payload = decode_payload(job.payload)
        while True:
            self._set(job, state=JobStatus.PICKED, attempts=attempts)
            runs += 1
            try:
                await kind.handler(payload)
            except Exception as err:
                error = describe_error(err)
                delay = retry_delay(kind.policy, attempts + 1, err)
                if delay is None:
                    log.error(
                        "job %s/%d failed for good (run %d): %s", job.kind, job.id, runs, error
                    )
                    at = now()
                    self._set(
                        job, state=JobStatus.FAILED, attempts=attempts, error=error, failed_at=at
                    )
                    self._log(FinishedJob(job.id, job.kind, FinishedAs.FAILED, at))
                    await self._handlers.report(job.kind, JobOutcome.FAILED, payload, error)
                    return runs
                log.warning(
                    "job %s/%d failed (run %d), retrying: %s", job.kind, job.id, runs, error
                )
                await self._handlers.report(job.kind, JobOutcome.RETRIED, payload)
                attempts += 1
            else:
                self._store.jobs.pop(job.id, None)  # done: it leaves the table, as in pgqueuer
                self._log(FinishedJob(job.id, job.kind, FinishedAs.DONE, now()))
                await self._handlers.report(job.kind, JobOutcome.DONE, payload)
                return runs

    def _log(self, entry: FinishedJob) -> None:
        """pgqueuer's log, in short; bounded, as a demo server may run for long."""
        log_ = self._store.job_log
        log_.append(entry)
        if len(log_) > LOG_MAX:
            del log_[: len(log_) - LOG_MAX]

    def _set(self, job: StoredJob, **columns: object) -> None:
        """A worker's own write: committed at once, as pgqueuer's statements are."""
        self._store.jobs[job.id] = dataclasses.replace(job, **columns)  # type: ignore[arg-type]

    async def start(self) -> None:
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self._poll(), name="archivist-memory-jobs")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._stopping.set()
        task, self._task = self._task, None
        await task  # the job in hand finishes; nothing is cancelled

    async def _poll(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.run_pending()
            except Exception:  # a bug in the runner itself: keep the server's jobs going
                log.exception("the in-memory job runner failed")
            with suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._poll_seconds)
