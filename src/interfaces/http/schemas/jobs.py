"""Schemas of the admin job routes (issue #12 item 4)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from application.processing import document_of
from domain.jobs import FailedJob as DomainFailedJob
from domain.jobs import Job as DomainJob
from domain.jobs import JobCount, JobSummary

JobStateName = Literal["queued", "running", "failed"]


class JobKindCounts(BaseModel):
    """One kind's jobs: in the queue now by state, and finished in the window."""

    kind: str
    queued: int = 0
    running: int = 0
    failed: int = Field(default=0, description="Held as failed now (retry them).")
    done_recently: int = Field(default=0, description="Done within `finished_window_hours`.")
    failed_recently: int = Field(
        default=0, description="Failed for good within `finished_window_hours`."
    )


class FailedJob(BaseModel):
    id: int
    kind: str
    document_id: UUID | None = Field(description="The payload's document, if it names one.")
    attempts: int = Field(description="The runs it had, the first included.")
    error: str | None = Field(description="The last run's error: exception type and message.")
    failed_at: datetime

    @classmethod
    def of(cls, job: DomainFailedJob) -> FailedJob:
        return cls(
            id=job.id,
            kind=job.kind,
            document_id=document_of(job.payload),
            attempts=job.attempts,
            error=job.error,
            failed_at=job.failed_at,
        )


class JobOverview(BaseModel):
    kinds: list[JobKindCounts]
    finished_window_hours: int
    failures: list[FailedJob] = Field(description="The most recent failures, newest first.")

    @classmethod
    def of(
        cls, summary: JobSummary, failures: Sequence[DomainFailedJob], window_hours: int
    ) -> JobOverview:
        kinds: dict[str, dict[str, int]] = {}

        def add(counts: Sequence[JobCount], suffix: str) -> None:
            for c in counts:
                kinds.setdefault(c.kind, {})[f"{c.state.value}{suffix}"] = c.count

        add(summary.waiting, "")
        add(summary.finished, "_recently")
        return cls(
            kinds=[JobKindCounts(kind=k, **v) for k, v in sorted(kinds.items())],
            finished_window_hours=window_hours,
            failures=[FailedJob.of(f) for f in failures],
        )


class RetriedJob(BaseModel):
    id: int
    kind: str
    document_id: UUID | None
    state: JobStateName

    @classmethod
    def of(cls, job: DomainJob) -> RetriedJob:
        return cls(
            id=job.id,
            kind=job.kind,
            document_id=document_of(job.payload),
            state=job.state.value,
        )
