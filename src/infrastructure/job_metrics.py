"""The job outcome counter, `archivist_job_outcomes_total{kind, outcome}` (issue #12 item 4).

Both workers report every run's outcome to `JobHandlers`; the container makes this counter
one of its listeners. It is the process's own (module-level, in no registry: each app's
`/metrics` exposes it, `interfaces.http.metrics`), so it counts the jobs this process ran,
whichever app or container ran them; under prometheus_client's multiprocess mode its values
are summed across the server's processes like the request metrics. Labels are the job kind
and the outcome only: a handful of series."""

from __future__ import annotations

from prometheus_client import Counter

from application.jobs import JobOutcome

JOB_OUTCOMES = Counter(
    "archivist_job_outcomes_total",
    "Runs of background jobs by kind and outcome (done, retried, failed for good)",
    ["kind", "outcome"],
    registry=None,
)


def count_job_outcome(kind: str, outcome: JobOutcome) -> None:
    JOB_OUTCOMES.labels(kind, outcome.value).inc()
