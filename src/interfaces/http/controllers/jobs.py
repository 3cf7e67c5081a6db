"""Background jobs for administrators (issue #12 item 4): what waits, runs and failed by kind,
the recent failures with their errors, and a retry of a failed job."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter

from application.context import RequestContext
from application.job_admin import FAILURES_MAX, FINISHED_WITHIN, JobAdmin
from interfaces.http.auth import admin_guard
from interfaces.http.problems import problems
from interfaces.http.schemas.jobs import JobOverview, RetriedJob


class JobController(Controller):
    path = "/jobs"
    tags = ["jobs"]
    guards = [admin_guard]

    @get(
        operation_id="getJobs",
        summary="Background jobs by kind and state, and the recent failures (admin)",
        description="Counts of the jobs queued, running and held as failed, by kind; how "
        "many were done or failed for good within the last `finished_window_hours`; the "
        "most recent failures with their errors (retry one with POST /jobs/{id}/retry).",
        responses=problems(400, 401, 403, 422),
    )
    async def get_jobs(
        self,
        ctx: NamedDependency[RequestContext],
        job_admin: NamedDependency[JobAdmin],
        limit: int = Parameter(
            default=20, ge=0, le=FAILURES_MAX, description="How many failures to list."
        ),
    ) -> JobOverview:
        summary, failures = await job_admin.overview(ctx, limit)
        return JobOverview.of(summary, failures, int(FINISHED_WITHIN.total_seconds() // 3600))

    @post(
        "/{job_id:int}/retry",
        operation_id="retryJob",
        summary="Queue a failed job again, now, with its attempts reset (admin)",
        description="The job's document (if it names one) shows its processing pending "
        "again. 404 for an id the queue does not hold; 409 for a job that is not failed.",
        status_code=202,
        responses=problems(400, 401, 403, 404, 409),
    )
    async def retry_job(
        self,
        job_id: FromPath[int],
        ctx: NamedDependency[RequestContext],
        job_admin: NamedDependency[JobAdmin],
    ) -> RetriedJob:
        return RetriedJob.of(await job_admin.retry(ctx, job_id))
