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

The database and the process (issue #13 item 2): the pool, statement, slow-statement and
error metrics of `infrastructure.sqlalchemy.db_metrics` (the pool gauges read from the pools
at scrape time), `archivist_documents{state}` and `archivist_blob_bytes` (one query, cached
`ARCHIVE_SIZE_TTL` seconds), and prometheus_client's process, GC and platform collectors.
Under multiprocess mode each process also writes its pool and process figures to the shared
files every `SAMPLE_INTERVAL` seconds (`infrastructure.process_metrics`), so a scrape sums
the server's processes; at a clean shutdown a process removes its own.
"""

from __future__ import annotations

import asyncio
import contextlib
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
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from application.job_admin import JobAdmin
from application.stats import StatsService
from domain.jobs import JobCount, JobState
from domain.stats import ArchiveSize
from infrastructure.job_metrics import JOB_OUTCOMES
from infrastructure.process_metrics import ProcessSampler
from infrastructure.sqlalchemy.db_metrics import DB_METRICS, sample_pools

log = logging.getLogger("archivist")

PREFIX = "archivist"
# Not measured (by path prefix): the probes, the scrape itself and the API documentation.
EXCLUDED_PREFIXES = ("/metrics", "/health", "/schema")
UNMATCHED = "<unmatched>"  # the path label of requests no route matched (404s from the router)
# How long a scrape's reading of the job queue is reused (seconds).
QUEUE_DEPTH_TTL = 5.0
# How long a scrape's reading of the archive's size is reused (seconds): a count of the
# documents table, ~10 ms at 100,000 documents.
ARCHIVE_SIZE_TTL = 60.0
# How often each process writes its pool and process figures in multiprocess mode (seconds).
SAMPLE_INTERVAL = 5.0
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


class ArchiveSizeCollector(Collector):
    """`archivist_documents{state}` (live, trashed) and `archivist_blob_bytes` from the
    last reading; nothing before the first."""

    def __init__(self) -> None:
        self.size: ArchiveSize | None = None
        self.read_at = float("-inf")
        self.source: object = None

    def stale(self, source: object) -> bool:
        return source is not self.source or time.monotonic() - self.read_at > ARCHIVE_SIZE_TTL

    def collect(self) -> Iterator[Metric]:
        size = self.size
        if size is None:
            return
        documents = GaugeMetricFamily(
            f"{PREFIX}_documents",
            "Documents in the archive: live, and in the trash (not purged)",
            labels=["state"],
        )
        documents.add_metric(["live"], size.live_documents)
        documents.add_metric(["trashed"], size.trashed_documents)
        yield documents
        yield GaugeMetricFamily(
            f"{PREFIX}_blob_bytes",
            "Bytes of the documents' stored contents, each blob once (thumbnails excluded)",
            value=size.blob_bytes,
        )


def multiprocess_mode() -> bool:
    return "PROMETHEUS_MULTIPROC_DIR" in os.environ or "prometheus_multiproc_dir" in os.environ


class _ProcessMetrics(Collector):
    """The process's own metrics (job outcomes, the database's), exposed in an app's
    registry; the pool gauges read from the pools first."""

    def collect(self) -> Iterator[Metric]:
        sample_pools()
        yield from JOB_OUTCOMES.collect()
        for metric in DB_METRICS:
            yield from metric.collect()


class _Sampler:
    """Multiprocess mode: this process's pool and process figures written to the shared
    files now and every `SAMPLE_INTERVAL` seconds while the app runs."""

    def __init__(self) -> None:
        self._process = ProcessSampler()
        self._task: asyncio.Task[None] | None = None

    def sample(self) -> None:
        sample_pools()
        self._process.sample()

    async def _loop(self) -> None:
        while True:
            try:
                self.sample()
            except Exception as err:  # a metric is never worth stopping the loop for
                log.warning("metrics: sampling failed: %s", err)
            await asyncio.sleep(SAMPLE_INTERVAL)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="archivist-metrics-sampler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        # This process's live gauges leave the sums (a crashed one's stay until restart).
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


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
        self.archive = ArchiveSizeCollector()
        self.registry.register(self.archive)
        self.registry.register(_ProcessMetrics())
        ProcessCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.sampler = _Sampler()

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

    async def refresh_archive_size(self, container: Any) -> None:
        """Read the archive's size for the next render unless the last reading is fresh;
        a failed reading is logged and the last one kept."""
        collector = self.archive
        if not collector.stale(container):
            return
        try:
            stats: StatsService = container.stats()
            size = await stats.archive_size()
        except Exception as err:
            log.warning("metrics: reading the archive size failed: %s", err)
            return
        collector.size, collector.read_at, collector.source = size, time.monotonic(), container

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
        if multiprocess_mode():
            self.sampler.sample()  # this process's figures as of now
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            # The database's, not summed over processes; the platform is every process's.
            registry.register(self.job_queue)
            registry.register(self.archive)
            PlatformCollector(registry=registry)
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
    if multiprocess_mode():
        app.on_startup.append(metrics.sampler.start)
        app.on_shutdown.append(metrics.sampler.stop)
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
        await metrics.refresh_archive_size(state.container)
        return Response(metrics.render(), media_type=_MEDIA_TYPE)
