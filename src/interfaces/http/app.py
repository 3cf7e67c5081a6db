"""The Litestar application factory. No module-level app, container or engine."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from litestar import Litestar, Router
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from application.jobs import JobWorker
from infrastructure.config import AppSettings
from infrastructure.consume_folder import ConsumeFolder
from infrastructure.container import Container, build_container, shutdown_container
from infrastructure.sqlalchemy.embedded import resolve_database_url
from infrastructure.sqlalchemy.statement_stats_flush import StatementStatsFlusher
from interfaces.http.auth import BearerAuthenticationMiddleware
from interfaces.http.controllers.system import SystemController
from interfaces.http.dependencies import DEPENDENCIES
from interfaces.http.headers import add_security_headers
from interfaces.http.limits import correct_allow_header, install_request_limits
from interfaces.http.metrics import MetricsController, install_metrics
from interfaces.http.openapi import StrictPydanticSchemaPlugin, render_plugins
from interfaces.http.problems import EXCEPTION_HANDLERS
from interfaces.http.request_log import install_request_log
from interfaces.http.routes import API_CONTROLLERS
from interfaces.http.validation import ArchivistRequest, refuse_unstorable_query
from interfaces.web import template_config, web_router, with_page_errors

API_PREFIX = "/api/v1"
BEARER = "BearerToken"

log = logging.getLogger("archivist")


def _version() -> str:
    try:
        return version("archivist")
    except PackageNotFoundError:  # running from a source tree without install
        return "0.0.0"


def default_container() -> Container:
    """The container `archivist serve` would build: settings from the environment, the
    embedded PostgreSQL started when DATABASE_URL is unset."""
    settings = AppSettings()
    url = None
    if settings.storage == "postgres":
        url = resolve_database_url(
            settings.database_url, settings.data_dir, settings.embedded_shared_buffers
        )
    return build_container(settings, url)


def api_router() -> Router:
    return Router(
        path=API_PREFIX,
        route_handlers=API_CONTROLLERS,
        middleware=[DefineMiddleware(BearerAuthenticationMiddleware)],
        dependencies=DEPENDENCIES,
        security=[{BEARER: []}],
    )


def create_app(
    container: Container | None = None,
    *,
    freeze_heap: bool = False,
    run_workers: bool = False,
    keep_statement_stats: bool = False,
) -> Litestar:
    """The app on `container` (default: one built from the environment's settings).

    `freeze_heap`: for a server process, which builds one app and serves it until it exits
    (`archivist serve`, `served_app`). At start-up what starting made (modules, the app, its
    routes and schemas: ~10^5-10^6 objects) is moved out of the collector's generations, so
    a full collection during a search walks only what requests made (p95 of a question:
    docs/benchmarks.md). Not for a process that builds many apps (the tests): each freeze
    would keep that app's objects for good.

    `run_workers`: run the container's job worker while the app runs (started in the
    lifespan, stopped at shutdown once its jobs in hand are done): what `archivist serve`
    does unless `ARCHIVIST_WORKERS_IN_PROCESS` is off. Tests leave it off and run jobs
    themselves.

    `keep_statement_stats`: add the process's statement statistics to the database every
    `ARCHIVIST_STATEMENT_STATS_FLUSH_SECONDS` while the app runs, and once more at shutdown,
    for `archivist db-report` (the container's `statement_stats_flusher`; nothing with memory
    storage or the setting at 0). What a server process does; tests leave it off.

    Handlers, the authentication middleware and the shutdown read the container from
    `app.state.container`, never from this function's scope: the API tests build one app per
    process (~0.2 s each: routes, schemas) and give it each test's container."""
    container = container or default_container()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        if freeze_heap:
            gc.collect()
            gc.freeze()
        worker: JobWorker | None = None
        consume: ConsumeFolder | None = None
        flusher: StatementStatsFlusher | None = None
        try:
            if keep_statement_stats:
                flusher = app.state.container.statement_stats_flusher()
                if flusher is not None:
                    await flusher.start()
            if run_workers:
                worker = app.state.container.job_worker()
                await worker.start()
                # With ARCHIVIST_CONSUME_DIR: one process consumes (docs, "Consume folder").
                consume = app.state.container.consume_folder()
                if consume is not None:
                    await consume.start()
            yield
        finally:
            if consume is not None:
                await consume.stop()
            if worker is not None:
                await worker.stop()
            if flusher is not None:  # last: what stopping the workers ran counts too
                await flusher.stop()
            await shutdown_container(app.state.container)

    app = Litestar(
        # The web interface's pages at / (interfaces.web): errors on a page path are HTML
        # pages, everywhere else problem+json as before.
        route_handlers=[SystemController, MetricsController, api_router(), web_router()],
        before_send=[add_security_headers, correct_allow_header],
        exception_handlers=with_page_errors(EXCEPTION_HANDLERS),
        template_config=template_config(),
        request_class=ArchivistRequest,
        before_request=refuse_unstorable_query,
        lifespan=[lifespan],
        openapi_config=OpenAPIConfig(
            title="Archivist",
            version=_version(),
            description="Keeps an organization's documents: storage, access control, search, "
            "taxonomy and audit. Every /api/v1 route takes `Authorization: Bearer <token>`.",
            path="/schema",
            render_plugins=render_plugins(),  # the served document states every rule
            components=Components(
                security_schemes={
                    BEARER: SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="An API token from POST /api/v1/tokens or the CLI.",
                    )
                }
            ),
        ),
        plugins=[StrictPydanticSchemaPlugin()],  # the schema states model-wide rules
        # Logging is the process's (interfaces/logging_setup.py): Litestar's default config
        # would replace the root logger's handlers with its own format.
        logging_config=None,
        debug=False,
    )
    app.state.container = container
    settings: AppSettings = container.app_settings()
    install_request_limits(
        app, max_header_bytes=settings.max_header_bytes, max_url_bytes=settings.max_url_bytes
    )
    install_metrics(app)  # a registry per app: create_app() may run many times a process
    install_request_log(app)  # last: outermost, so every response has a request id
    return app


def served_app() -> Litestar:
    """What each uvicorn worker process of `archivist serve --workers N` builds. Each runs
    a job worker of its own if settings say so: workers never take one job twice."""
    container = default_container()
    settings: AppSettings = container.app_settings()
    return create_app(
        container,
        freeze_heap=True,
        run_workers=settings.workers_in_process,
        keep_statement_stats=True,
    )
