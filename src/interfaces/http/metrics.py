"""Prometheus request metrics: a small pure-ASGI middleware and the `/metrics` endpoint.

Litestar's `PrometheusMiddleware` builds a `Request`, label dicts and looks up the labelled
children of four metrics on every request: 60-100 µs of an authenticated request
(docs/benchmarks.md, issue #2). This one keeps the labelled children in a dict, so a request
costs a dict lookup and three metric updates.

It wraps the whole app (`install_metrics`), outside Litestar's exception handling, so it counts
the status actually sent: a 401 from the authentication middleware, or a 404/405 from the
router, would escape a Litestar middleware as an exception. The route template
(`/api/v1/users/{user_id:uuid}`, what `PrometheusConfig(group_path=True)` reported) is read
from the scope after the app returns: Litestar's router stores it in the same scope dict.

Each app gets its own `CollectorRegistry`: `create_app()` can be called any number of times in
one process (the tests do) without registering a metric twice.

Background jobs (issue #12 item 4): `archivist_job_queue_depth{kind, state}` is read from the
queue at scrape time (one grouped count, cached `QUEUE_DEPTH_TTL` seconds: the queue is the
database's, the same from any process), and `archivist_job_outcomes_total{kind, outcome}`
counts the runs of the workers in this process (`infrastructure.job_metrics`).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator, Sequence
from typing import Any

from litestar import Controller, Litestar, Response, get
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from application.job_admin import JobAdmin
from domain.jobs import JobCount, JobState
from infrastructure.job_metrics import JOB_OUTCOMES

log = logging.getLogger("archivist")

PREFIX = "archivist"
# Not measured (by path prefix): the probes, the scrape itself and the API documentation.
EXCLUDED_PREFIXES = ("/metrics", "/health", "/schema")
UNMATCHED = "<unmatched>"  # the path label of requests no route matched (404s from the router)
# How long a scrape's reading of the job queue is reused (seconds).
QUEUE_DEPTH_TTL = 5.0
_QUEUE_STATES = (JobState.QUEUED, JobState.RUNNING, JobState.FAILED)


class JobQueueCollector(Collector):
    """`archivist_job_queue_depth{kind, state}` from the last reading of the queue: every
    registered kind in every state (zero included), and any other kind the queue holds."""

    def __init__(self) -> None:
        self.counts: Sequence[JobCount] = ()
        self.kinds: Sequence[str] = ()
        self.read_at = float("-inf")
        self.source: object = None  # what it was read from (the app's container)

    def stale(self, source: object) -> bool:
        return source is not self.source or time.monotonic() - self.read_at > QUEUE_DEPTH_TTL

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            f"{PREFIX}_job_queue_depth",
            "Background jobs in the queue by kind and state (queued, running, failed)",
            labels=["kind", "state"],
        )
        found = {(c.kind, c.state): c.count for c in self.counts}
        kinds = sorted({*self.kinds, *(kind for kind, _ in found)})
        for kind in kinds:
            for state in _QUEUE_STATES:
                family.add_metric([kind, state.value], found.get((kind, state), 0))
        yield family


class _JobOutcomes(Collector):
    """The process's job outcome counter, exposed in an app's registry."""

    def collect(self) -> Iterator[Metric]:
        yield from JOB_OUTCOMES.collect()


class HttpMetrics:
    """The request metrics of one app, in a registry of their own.

    - `archivist_requests_total{method, path, status_code}`: responses sent;
    - `archivist_request_duration_seconds{method, path}`: time to handle the request;
    - `archivist_requests_in_progress`: requests being handled.

    `path` is the route template, never the raw path, so there are as few label sets as
    routes (times methods and status codes)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.requests = Counter(
            f"{PREFIX}_requests_total",
            "HTTP responses sent, by method, route template and status code",
            ["method", "path", "status_code"],
            registry=self.registry,
        )
        self.duration = Histogram(
            f"{PREFIX}_request_duration_seconds",
            "Time spent handling HTTP requests, in seconds, by method and route template",
            ["method", "path"],
            registry=self.registry,
        )
        self.in_progress = Gauge(
            f"{PREFIX}_requests_in_progress",
            "HTTP requests being handled",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        # (method, path, status) -> (counter, histogram) children: `labels()` is the costly part.
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self.job_queue = JobQueueCollector()
        self.registry.register(self.job_queue)
        self.registry.register(_JobOutcomes())

    async def refresh_job_queue(self, container: Any) -> None:
        """Read the queue's depth for the next render unless the last reading is fresh.
        A failed reading (the database is down) is logged and the last one kept."""
        collector = self.job_queue
        if not collector.stale(container):
            return
        try:
            admin: JobAdmin = container.job_admin()
            counts = await admin.depth()
            kinds = [kind.name for kind in container.job_handlers()]
        except Exception as err:
            log.warning("metrics: reading the job queue failed: %s", err)
            return
        collector.counts, collector.kinds = counts, kinds
        collector.read_at, collector.source = time.monotonic(), container

    def observe(self, method: str, path: str, status: int, seconds: float) -> None:
        key = (method, path, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(method, path, str(status)),
                self.duration.labels(method, path),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def render(self) -> bytes:
        """The text exposition format; across processes when prometheus_client's
        multiprocess mode is on (`PROMETHEUS_MULTIPROC_DIR`)."""
        registry = self.registry
        if "PROMETHEUS_MULTIPROC_DIR" in os.environ or "prometheus_multiproc_dir" in os.environ:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            registry.register(self.job_queue)  # the database's, not summed over processes
        return generate_latest(registry)


class MetricsMiddleware:
    """Counts and times every HTTP request but those under `EXCLUDED_PREFIXES`."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["path"].startswith(EXCLUDED_PREFIXES):
            await self.app(scope, receive, send)
            return
        status = 500  # unless a response starts: nothing answered at all

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        in_progress = self.metrics.in_progress
        in_progress.inc()
        start = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_status)
        finally:
            elapsed = time.perf_counter() - start
            in_progress.dec()
            path = scope.get("path_template") or UNMATCHED
            self.metrics.observe(scope["method"], path, status, elapsed)


def install_metrics(app: Litestar) -> HttpMetrics:
    """Wrap `app`'s ASGI handler (everything below its lifespan and send hooks) in the
    metrics middleware, and keep the metrics in `app.state.metrics` for `/metrics`."""
    metrics = HttpMetrics()
    app.asgi_handler = MetricsMiddleware(app.asgi_handler, metrics)
    app.state.metrics = metrics
    return metrics


# Litestar appends the charset to text/* media types itself.
_MEDIA_TYPE = CONTENT_TYPE_LATEST.split("; charset=")[0]


class MetricsController(Controller):
    """`GET /metrics` for Prometheus: unauthenticated, not in the OpenAPI schema."""

    path = "/metrics"
    include_in_schema = False

    @get()
    async def metrics(self, state: State) -> Response[bytes]:
        metrics: HttpMetrics = state.metrics
        await metrics.refresh_job_queue(state.container)
        return Response(metrics.render(), media_type=_MEDIA_TYPE)
