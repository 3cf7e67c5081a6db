"""What background jobs do: the handler of each kind and its retry policy, and the rule that
decides, after a handler failed, whether its job runs again or is held as failed.

The composition root builds one `JobHandlers`; the use cases that enqueue jobs register their
handlers into it; a worker (`PgJobWorker`, `InMemoryJobRunner`) runs them. Both workers apply
`retry_delay`, so a job fails the same way on either storage (decisions: "Background jobs").
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from domain.errors import DomainError
from domain.jobs import JsonObject

log = logging.getLogger("archivist.jobs")

JobHandler = Callable[[JsonObject], Awaitable[None]]


class JobOutcome(enum.StrEnum):
    """How one run of a job ended, as workers report it (`JobHandlers.report`)."""

    DONE = "done"
    RETRIED = "retried"  # failed, and runs again after its delay
    FAILED = "failed"  # failed for good: held as failed with its error


# Told of every run's outcome (kind, outcome): cheap and synchronous (a metrics counter).
OutcomeListener = Callable[[str, JobOutcome], None]
# Awaited once a job has failed for good: (kind, payload, error as `describe_error` says it).
FailureHook = Callable[[str, JsonObject, str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often a failing job runs, and how long it waits between runs.

    `max_attempts` counts every run, the first included: 5 means a first run and up to four
    retries. The wait before retry n (1, 2, ...) is `initial_delay * 2**(n-1)`, at most
    `max_delay`."""

    max_attempts: int = 5
    initial_delay: timedelta = timedelta(seconds=2)
    max_delay: timedelta = timedelta(minutes=10)

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or self.max_attempts < 1:
            raise ValueError("a retry policy needs max_attempts >= 1")
        if self.initial_delay < timedelta(0) or self.max_delay < self.initial_delay:
            raise ValueError("a retry policy needs 0 <= initial_delay <= max_delay")

    def delay_before_retry(self, retry: int) -> timedelta:
        """The wait before retry number `retry` (1 for the first retry)."""
        if retry < 1:
            raise ValueError("retries are numbered from 1")
        # Capped before multiplying far: 2**retry of a timedelta overflows past ~2**40.
        if retry > 40:
            return self.max_delay
        delay: timedelta = self.initial_delay * 2 ** (retry - 1)
        return min(delay, self.max_delay)


DEFAULT_RETRY_POLICY = RetryPolicy()


@dataclass(frozen=True, slots=True)
class JobKind:
    """A registered kind: its name, its handler and its retry policy."""

    name: str
    handler: JobHandler
    policy: RetryPolicy = field(default=DEFAULT_RETRY_POLICY)


@dataclass(frozen=True, slots=True)
class Schedule:
    """Periodic work: `fire` runs at each time the cron expression names."""

    name: str
    cron: str
    fire: Callable[[], Awaitable[None]]


class JobHandlers:
    """The registry a worker runs jobs from: kind -> handler and policy.

    A handler takes the job's payload and returns when the job is done. It must be
    idempotent (a job runs at least once: a worker that dies mid-job leaves it to another)
    and must not block the event loop (CPU work goes to a thread or a worker process).
    Raising `DomainError` fails the job for good (it is held as failed with the error, not
    retried: running it again cannot help); any other exception is retried by the kind's
    policy, and the job is held as failed once its attempts are spent."""

    def __init__(self) -> None:
        self._kinds: dict[str, JobKind] = {}
        self._schedules: list[Schedule] = []
        self._listeners: list[OutcomeListener] = []
        self._on_failed: FailureHook | None = None

    def register(self, kind: str, handler: JobHandler, policy: RetryPolicy | None = None) -> None:
        """Register `handler` for `kind`. Raises `ValueError` if `kind` has a handler
        already (two use cases claiming one kind is a wiring mistake)."""
        if not kind or "\x00" in kind:
            raise ValueError("a job's kind must be a non-empty string without NUL")
        if kind in self._kinds:
            raise ValueError(f"the job kind {kind!r} has a handler already")
        self._kinds[kind] = JobKind(kind, handler, policy or DEFAULT_RETRY_POLICY)

    def get(self, kind: str) -> JobKind | None:
        return self._kinds.get(kind)

    def __contains__(self, kind: object) -> bool:
        return kind in self._kinds

    def __iter__(self) -> Iterator[JobKind]:
        return iter(list(self._kinds.values()))

    def __len__(self) -> int:
        return len(self._kinds)

    def schedule(self, name: str, cron: str, fire: Callable[[], Awaitable[None]]) -> None:
        """Run `fire` on the cron schedule `cron` (UTC), once across all workers (the
        PostgreSQL worker's scheduler; the in-memory runner has no clock to follow). `fire`
        should be quick: it queues the work as a job, which then has its retries and its
        place in the job admin. Raises `ValueError` if `name` has a schedule already."""
        if any(s.name == name for s in self._schedules):
            raise ValueError(f"the schedule {name!r} exists already")
        self._schedules.append(Schedule(name, cron, fire))

    def schedules(self) -> list[Schedule]:
        return list(self._schedules)

    def listen(self, listener: OutcomeListener) -> None:
        """Tell `listener` the outcome of every run either worker makes."""
        self._listeners.append(listener)

    def on_failed_for_good(self, hook: FailureHook) -> None:
        """Await `hook` when a job fails for good (the composition root marks the
        document's processing failed with it). One hook: a second replaces the first."""
        self._on_failed = hook

    async def report(
        self, kind: str, outcome: JobOutcome, payload: JsonObject, error: str | None = None
    ) -> None:
        """What both workers call after each run. Never raises: a listener or hook that
        fails is logged, and the worker goes on (the job's own state is the queue's)."""
        for listener in list(self._listeners):
            try:
                listener(kind, outcome)
            except Exception:
                log.exception("a job outcome listener failed (%s %s)", kind, outcome)
        hook = self._on_failed
        if outcome is JobOutcome.FAILED and hook is not None:
            try:
                await hook(kind, payload, error or "")
            except Exception as err:
                log.error("recording the failure of a %s job failed: %s", kind, describe_error(err))


def retry_delay(policy: RetryPolicy, attempts: int, error: BaseException) -> timedelta | None:
    """After a handler raised `error` on run number `attempts` (1 for the first run): the
    wait before the job runs again, or None when it has failed for good (a `DomainError`,
    or no attempts left)."""
    if isinstance(error, DomainError) or attempts >= policy.max_attempts:
        return None
    return policy.delay_before_retry(attempts)


def describe_error(error: BaseException) -> str:
    """A failed job's error as it is logged and kept: the exception's type and message (no
    payload: handlers should not put secrets in their messages either)."""
    message = str(error).strip()
    name = type(error).__name__
    return f"{name}: {message}" if message else name


class JobWorker(Protocol):
    """Runs the registered handlers on queued jobs, in the background of an asyncio app."""

    async def start(self) -> None:
        """Start taking jobs; returns at once."""
        ...

    async def stop(self) -> None:
        """Stop taking jobs and return once the jobs already taken have finished."""
        ...
