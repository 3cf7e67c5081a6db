"""The background jobs, as administrators see them (issue #12 item 4): how many wait, run and
failed by kind, how many finished lately, the recent failures with their errors, and a
retry of a failed job.

A retry queues the held job again at once with its attempts reset, marks its document's
processing pending again, and records `job.retried`, in one unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from application.context import RequestContext
from application.processing import mark_job_document
from domain import events
from domain.clock import Clock
from domain.errors import Conflict, NotFound
from domain.jobs import FailedJob, Job, JobCount, JobState, JobSummary
from domain.ports import UnitOfWorkFactory
from domain.processing import ProcessingState

# The window of the finished counts in the summary.
FINISHED_WITHIN = timedelta(hours=24)
FAILURES_MAX = 200
JOB_ID_MAX = 2**63 - 1  # the queue's bigserial


class JobAdmin:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    async def overview(
        self, ctx: RequestContext, failures: int = 20
    ) -> tuple[JobSummary, Sequence[FailedJob]]:
        """Counts by kind and state, finished counts over `FINISHED_WITHIN`, and the
        `failures` most recent failures (admins only)."""
        ctx.require_admin()
        async with self._uow(autocommit=True) as uow:
            summary = await uow.jobs.summary(FINISHED_WITHIN)
            failed = await uow.jobs.failures(max(0, min(failures, FAILURES_MAX)))
        return summary, failed

    async def depth(self) -> Sequence[JobCount]:
        """The jobs in the queue by kind and state, counts only (the metrics scrape, which
        is not authenticated: no ids, no payloads)."""
        async with self._uow(autocommit=True) as uow:
            return (await uow.jobs.summary(timedelta(0))).waiting

    async def retry(self, ctx: RequestContext, job_id: int) -> Job:
        """Queue a job held as failed again, due now (admins only). `NotFound` for an id
        the queue does not hold (unknown, or done); `Conflict` for a job that is not held
        as failed, or whose dedupe key another waiting job holds."""
        ctx.require_admin()
        if not 1 <= job_id <= JOB_ID_MAX:
            raise NotFound("job", job_id)  # an id the queue cannot hold
        now = self._clock.now()
        async with self._uow() as uow:
            job = await uow.jobs.get(job_id)
            if job is None:
                raise NotFound("job", job_id)
            if job.state is not JobState.FAILED or not await uow.jobs.retry(job_id):
                raise Conflict(f"job {job_id} is {job.state.value}, not failed: nothing to retry")
            await mark_job_document(uow, job.kind, job.payload, ProcessingState.PENDING, now)
            await uow.events.add(
                ctx.event(
                    events.JOB_RETRIED,
                    "job",
                    job_id,
                    now,
                    {"kind": job.kind, "attempts": job.attempts},
                )
            )
            await uow.commit()
        return Job(job.id, job.kind, job.payload, JobState.QUEUED, 0)
