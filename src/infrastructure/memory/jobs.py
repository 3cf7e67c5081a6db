"""The in-memory job queue: jobs staged in the unit of work, in the store once it commits,
with the SQL adapter's ids, order and dedupe rules. `InMemoryJobRunner` (job_runner.py) runs
them."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from domain.errors import Conflict
from domain.jobs import (
    FailedJob,
    FinishedAs,
    Job,
    JobCount,
    JobState,
    JobSummary,
    JsonObject,
    QueuedJob,
    check_job,
    decode_payload,
    encode_payload,
)
from infrastructure.memory.table import StagedTable


class JobStatus(enum.StrEnum):
    """A stored job's status, named as pgqueuer's status column names it. A job that
    succeeded leaves the table, as in pgqueuer."""

    QUEUED = "queued"
    PICKED = "picked"
    FAILED = "failed"  # held with its error (pgqueuer's on_failure="hold"): the dead letter


@dataclass(frozen=True, slots=True)
class StoredJob:
    """A row of the queue, as pgqueuer's table holds it (the payload as stored bytes).
    `attempts` counts the retries so far, as pgqueuer's column does; `error` is the last
    failure's (`describe_error`), kept with a failed job."""

    id: int
    kind: str
    payload: bytes
    priority: int
    state: JobStatus
    dedupe_key: str | None
    attempts: int = 0
    error: str | None = None
    failed_at: datetime | None = None  # when it was held as failed


@dataclass(frozen=True, slots=True)
class FinishedJob:
    """pgqueuer's log of a job that finished: which job, its kind, how and when."""

    job_id: int
    kind: str
    how: FinishedAs
    at: datetime


# The statuses `queued` lists, as the port names them, and in which a job holds its dedupe
# key (pgqueuer's unique index): the SQL adapter's mapping.
_STATES = {JobStatus.QUEUED: JobState.QUEUED, JobStatus.PICKED: JobState.RUNNING}
WAITING = frozenset(_STATES)
_ALL_STATES = {**_STATES, JobStatus.FAILED: JobState.FAILED}


def runs(job: StoredJob) -> int:
    """The runs a job has had, the first included (`attempts` counts the retries)."""
    return job.attempts + (0 if job.state is JobStatus.QUEUED else 1)


def now() -> datetime:
    """What PostgreSQL's now() stands for here: the wall clock, not the application's."""
    return datetime.now(UTC)


class JobIds:
    """Job ids, like the queue table's sequence: handed out at enqueue, never given back (a
    rolled-back or skipped job leaves a gap)."""

    def __init__(self) -> None:
        self.last = 0

    def next(self) -> int:
        self.last += 1
        return self.last


class InMemoryJobQueue:
    def __init__(
        self,
        table: StagedTable[int, StoredJob],
        ids: JobIds,
        *,
        autocommit: bool = False,
        log: list[FinishedJob] | None = None,
    ) -> None:
        self._t = table
        self._ids = ids
        self._autocommit = autocommit
        self._log = log if log is not None else []

    async def enqueue(
        self,
        kind: str,
        payload: JsonObject,
        *,
        dedupe_key: str | None = None,
        priority: int = 0,
    ) -> bool:
        check_job(kind, dedupe_key, priority)
        stored = encode_payload(payload)
        job_id = self._ids.next()  # taken before the dedupe check, as the SQL insert does
        if dedupe_key is not None and self._t.find(lambda j: holds(j, dedupe_key)) is not None:
            return False
        self._t.put(job_id, StoredJob(job_id, kind, stored, priority, JobStatus.QUEUED, dedupe_key))
        if self._autocommit:  # the SQL insert commits on its own
            self._t.apply()
        return True

    async def enqueue_all(
        self,
        kind: str,
        payloads: Sequence[JsonObject],
        *,
        dedupe_keys: Sequence[str | None] | None = None,
        priority: int = 0,
    ) -> list[bool]:
        keys = list(dedupe_keys) if dedupe_keys is not None else [None] * len(payloads)
        if len(keys) != len(payloads):
            raise ValueError("one dedupe key (or None) per payload")
        for key, payload in zip(keys, payloads, strict=True):  # refused before any is queued
            check_job(kind, key, priority)
            encode_payload(payload)
        return [
            await self.enqueue(kind, payload, dedupe_key=key, priority=priority)
            for key, payload in zip(keys, payloads, strict=True)
        ]

    async def queued(self, kind: str | None = None) -> Sequence[QueuedJob]:
        jobs = [
            j for j in self._t.values() if j.state in WAITING and (kind is None or j.kind == kind)
        ]
        jobs.sort(key=lambda j: (-j.priority, j.id))
        return [
            QueuedJob(j.id, j.kind, decode_payload(j.payload), j.priority, _STATES[j.state])
            for j in jobs
        ]

    async def get(self, job_id: int) -> Job | None:
        job = self._t.get(job_id)
        if job is None:
            return None
        return Job(job.id, job.kind, decode_payload(job.payload), _ALL_STATES[job.state], runs(job))

    async def summary(self, finished_within: timedelta) -> JobSummary:
        waiting: dict[tuple[str, JobState], int] = {}
        for job in self._t.values():
            key = (job.kind, _ALL_STATES[job.state])
            waiting[key] = waiting.get(key, 0) + 1
        since = now() - finished_within
        finished: dict[tuple[str, FinishedAs], int] = {}
        for entry in self._log:
            if entry.at > since:
                fkey = (entry.kind, entry.how)
                finished[fkey] = finished.get(fkey, 0) + 1
        return JobSummary(
            waiting=[JobCount(k, s, n) for (k, s), n in sorted(waiting.items())],
            finished=[JobCount(k, s, n) for (k, s), n in sorted(finished.items())],
        )

    async def prune_log(self, before: datetime, limit: int, *, dry_run: bool = False) -> int:
        old = [
            i
            for i, entry in enumerate(self._log)
            if entry.at < before and self._t.get(entry.job_id) is None
        ][:limit]
        if not dry_run:
            for i in reversed(old):
                del self._log[i]
        return len(old)

    async def failures(self, limit: int) -> Sequence[FailedJob]:
        failed = [j for j in self._t.values() if j.state is JobStatus.FAILED]
        failed.sort(key=lambda j: (j.failed_at or datetime.min.replace(tzinfo=UTC), j.id))
        return [
            FailedJob(
                j.id,
                j.kind,
                decode_payload(j.payload),
                runs(j),
                j.error,
                j.failed_at or now(),
            )
            for j in reversed(failed[-limit:] if limit > 0 else [])
        ]

    async def retry(self, job_id: int) -> bool:
        job = self._t.get(job_id)
        if job is None or job.state is not JobStatus.FAILED:
            return False
        key = job.dedupe_key
        if key is not None and self._t.find(lambda j: holds(j, key)) is not None:
            raise Conflict(
                "another job with this job's dedupe key is queued or running; "
                "retry once it has finished"
            )
        requeued = dataclasses.replace(job, state=JobStatus.QUEUED, attempts=0, failed_at=None)
        self._t.put(job_id, requeued)
        if self._autocommit:
            self._t.apply()
        return True

    def settle(self, committed: dict[int, StoredJob]) -> None:
        """Before commit: a job of this unit whose dedupe key another unit committed meanwhile
        is dropped. PostgreSQL's `ON CONFLICT DO NOTHING` ends the same: the second insert
        waits for the first transaction and then inserts nothing. A held job this unit
        queued again (`retry`) is refused instead, as the UPDATE breaks the unique index."""
        for job_id, job in list(self._t.pending()):
            key = job.dedupe_key
            if key is None or not any(
                holds(other, key) for other in committed.values() if other.id != job_id
            ):
                continue
            if job_id in committed:
                raise Conflict(
                    "another job with this job's dedupe key is queued or running; "
                    "retry once it has finished"
                )
            self._t.remove(job_id)


def holds(job: StoredJob, dedupe_key: str) -> bool:
    """Whether `job` keeps others with `dedupe_key` out: while it is queued or running."""
    return job.dedupe_key == dedupe_key and job.state in WAITING
