"""Background jobs: the `JobQueue` port and what it lists.

A job is a kind (the name of its handler) and a payload (a JSON object), enqueued within a
unit of work: it exists only if that unit of work commits, so a rolled-back change leaves no
job behind. Workers run jobs at least once, highest priority first; a handler must be
idempotent (decisions: "Background jobs").
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeAlias

JsonValue: TypeAlias = (
    "str | int | float | bool | Sequence[JsonValue] | Mapping[str, JsonValue] | None"
)
JsonObject: TypeAlias = Mapping[str, JsonValue]

# The queue's priority column is a PostgreSQL integer.
PRIORITY_MIN = -(2**31)
PRIORITY_MAX = 2**31 - 1


class JobState(enum.StrEnum):
    QUEUED = "queued"  # waiting for a worker
    RUNNING = "running"  # taken by a worker, not finished
    FAILED = "failed"  # failed for good, held with its error until retried (the dead letter)


class FinishedAs(enum.StrEnum):
    """How a job left the queue's work: done, or failed for good."""

    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class QueuedJob:
    id: int
    kind: str
    payload: dict[str, JsonValue]
    priority: int
    state: JobState


@dataclass(frozen=True, slots=True)
class Job:
    """A job in the queue, in any state (a done job has left it)."""

    id: int
    kind: str
    payload: dict[str, JsonValue]
    state: JobState
    attempts: int  # the runs it has had, the first included (0 while never run)


@dataclass(frozen=True, slots=True)
class FailedJob:
    """A job held as failed: the runs it had and the last one's error."""

    id: int
    kind: str
    payload: dict[str, JsonValue]
    attempts: int  # the runs it had, the first included
    error: str | None  # "Type: message", as `application.jobs.describe_error` says it
    failed_at: datetime


@dataclass(frozen=True, slots=True)
class JobCount:
    kind: str
    state: JobState | FinishedAs
    count: int


@dataclass(frozen=True, slots=True)
class JobSummary:
    """What the queue holds now (`waiting`: queued, running and failed jobs by kind), and
    how many jobs finished within the window asked for (`finished`, by kind)."""

    waiting: Sequence[JobCount]
    finished: Sequence[JobCount]


class JobQueue(Protocol):
    async def enqueue(
        self,
        kind: str,
        payload: JsonObject,
        *,
        dedupe_key: str | None = None,
        priority: int = 0,
    ) -> bool:
        """Queue a job in this unit of work's transaction: it exists once the unit commits.

        `dedupe_key`: while a job with the same key (of any kind: make keys like
        `thumbnail:<document id>`) is queued or running, this one is skipped and False is
        returned; True when queued. A finished or failed job no longer holds its key.
        Higher `priority` runs first. Raises `ValueError` if the payload is not a JSON
        object or a value is out of range."""
        ...

    async def enqueue_all(
        self,
        kind: str,
        payloads: Sequence[JsonObject],
        *,
        dedupe_keys: Sequence[str | None] | None = None,
        priority: int = 0,
    ) -> list[bool]:
        """`enqueue` of several jobs of one kind, in one statement on SQL (a batch of
        uploads): per payload, in order, True if queued, False if its dedupe key was held
        (by a job before it in the list too). Raises `ValueError` as `enqueue` does, and if
        `dedupe_keys` is not as long as `payloads`; then nothing is queued."""
        ...

    async def queued(self, kind: str | None = None) -> Sequence[QueuedJob]:
        """The jobs waiting or running (of `kind`, if given) as this unit of work sees them:
        committed ones and its own. In the order workers take them: highest priority
        first, then oldest (lowest id) first."""
        ...

    async def get(self, job_id: int) -> Job | None:
        """The job with this id while it is in the queue (queued, running or failed);
        None for an unknown id or a job that is done."""
        ...

    async def summary(self, finished_within: timedelta) -> JobSummary:
        """Counts of the jobs in the queue by kind and state, and of those that finished
        (done, or failed for good) within `finished_within` of the store's clock, by kind.
        Each sorted by kind, then state; no zero counts."""
        ...

    async def failures(self, limit: int) -> Sequence[FailedJob]:
        """The jobs held as failed, the most recently failed first (then highest id), at
        most `limit`."""
        ...

    async def retry(self, job_id: int) -> bool:
        """Queue a job held as failed again, due now, with its attempts reset; workers are
        told (it runs at once, not at their next poll). False, changing nothing, if the
        job is not held as failed. Raises `Conflict` if another job with its dedupe key
        is queued or running meanwhile."""
        ...

    async def prune_log(self, before: datetime, limit: int, *, dry_run: bool = False) -> int:
        """Forget at most `limit` entries of the log of finished runs (what `summary` counts)
        that were written before `before`, of jobs no longer in the queue: a job waiting or
        held as failed keeps its log (its error is read from it). The number forgotten, or
        with `dry_run` that would be (nothing is changed)."""
        ...


def encode_payload(payload: JsonObject) -> bytes:
    """The stored form of a payload, the same for every adapter (compact UTF-8 JSON).

    Raises `ValueError` for anything but a JSON object (NaN and infinities are not JSON)."""
    if not isinstance(payload, Mapping):
        raise ValueError("a job's payload must be a JSON object")
    try:
        text = json.dumps(dict(payload), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as err:
        raise ValueError(f"a job's payload must be JSON: {err}") from None
    return text.encode()


def decode_payload(stored: bytes | None) -> dict[str, JsonValue]:
    value = json.loads(stored) if stored else {}
    if not isinstance(value, dict):
        raise ValueError("a stored job payload is not a JSON object")
    return value


def check_job(kind: str, dedupe_key: str | None, priority: int) -> None:
    """Refuse, the same way on every adapter, what PostgreSQL would refuse or misread."""
    if not kind or "\x00" in kind:
        raise ValueError("a job's kind must be a non-empty string without NUL")
    if dedupe_key is not None and (not dedupe_key or "\x00" in dedupe_key):
        raise ValueError("a dedupe key must be a non-empty string without NUL")
    if isinstance(priority, bool) or not PRIORITY_MIN <= priority <= PRIORITY_MAX:
        raise ValueError(f"a job's priority must be an integer in [{PRIORITY_MIN}, {PRIORITY_MAX}]")
