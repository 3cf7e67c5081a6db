"""PostgreSQL restarts under a running app (issue #9, item 12).

The app runs in-process on a container built on an embedded PostgreSQL of this test's own
(a throwaway pgserver in a temporary directory), so the test can stop and start it with
`pg_ctl` while requests come in. While the server is down every request is a 503
problem+json with `Retry-After` (never a 500, never a wait past the pool timeout) and `/ready`
is 503; once it is back the app serves again by itself, stale pooled connections included.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import statistics
import subprocess
import tempfile
import time
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pgserver  # type: ignore[import-untyped]
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from domain.errors import StorageUnavailable
from infrastructure.config import AppSettings
from infrastructure.container import Container, build_container, shutdown_container
from infrastructure.sqlalchemy.engine import create_engine
from infrastructure.sqlalchemy.uow import SqlAlchemyUnitOfWorkFactory
from interfaces.http.app import create_app
from tests.support.databases import alembic_on

# Times a server restart against wall-clock windows: run alone, after the parallel part
# (Makefile), which also sets its module-scoped PostgreSQL up once.
pytestmark = [pytest.mark.postgres, pytest.mark.serial]

PG_CTL = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_ctl"
POOL_TIMEOUT_S = 2.0
POOL_SIZE = 4
PROBLEM_JSON = "application/problem+json"


@dataclass
class Embedded:
    """A pgserver of the test's own, which it may stop and start."""

    server: Any
    pgdata: Path

    def stop(self) -> None:
        subprocess.run(
            [str(PG_CTL), "-D", str(self.pgdata), "-w", "-m", "fast", "stop"],
            check=True,
            capture_output=True,
            timeout=30,
            user=self.server.system_user,  # pgserver runs PostgreSQL as its own user under root
        )

    def start(self) -> None:
        self.server.ensure_postgres_running()  # pg_ctl start with pgserver's own options

    def url(self, database: str) -> str:
        uri: str = self.server.get_uri(database)
        return uri.replace("postgresql://postgres:@", "postgresql+asyncpg://postgres@", 1)


@pytest.fixture(scope="module")
def embedded() -> Iterator[Embedded]:
    # Not under pytest's basetemp: concurrent pytest runs prune old basetemps, pgdata included.
    parent = Path(tempfile.mkdtemp(prefix="archivist-restart-"))
    pgdata = parent / "pgdata"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pgserver warns about XDG_RUNTIME_DIR
        server = pgserver.get_server(pgdata, cleanup_mode="delete")
    try:
        server.psql("CREATE DATABASE archivist;")
        yield Embedded(server, pgdata)
    finally:
        with contextlib.suppress(Exception):
            Embedded(server, pgdata).start()  # pgserver stops only a running server
        server.cleanup()
        shutil.rmtree(parent, ignore_errors=True)


@dataclass
class App:
    client: AsyncTestClient[Litestar]
    container: Container
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
async def app(embedded: Embedded, tmp_path: Path) -> AsyncIterator[App]:
    embedded.start()  # idempotent: running already unless a failed test left it stopped
    url = embedded.url("archivist")
    migrator = create_async_engine(url, poolclass=NullPool)
    async with migrator.begin() as conn:
        await alembic_on(conn, "upgrade", "head")
    await migrator.dispose()
    settings = AppSettings(
        storage="postgres",
        slow_query_ms=0,
        blob_dir=tmp_path / "blobs",
        db_pool_size=POOL_SIZE,
        db_pool_timeout=POOL_TIMEOUT_S,
    )
    # The admin is made on a container of its own: the app's pool must only ever hold
    # connections of the client's event loop.
    bootstrap = build_container(settings, url)
    try:
        created = await bootstrap.bootstrap().create_admin(
            f"admin-{time.monotonic_ns()}@example.com", "Admin", None
        )
    finally:
        await shutdown_container(bootstrap)
    container = build_container(settings, url)
    async with AsyncTestClient(create_app(container)) as client:
        yield App(client, container, created.issued.secret)


async def _warm_pool(app: App) -> None:
    """Fill the pool: `POOL_SIZE` requests at once each hold a connection of their own."""
    answers = await asyncio.gather(
        *(app.client.get("/api/v1/documents", headers=app.headers) for _ in range(POOL_SIZE))
    )
    assert [a.status_code for a in answers] == [200] * POOL_SIZE


def _assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert response.json()["code"] == "service_unavailable"
    assert int(response.headers["retry-after"]) > 0


async def test_a_restart_while_idle_goes_unnoticed(app: App, embedded: Embedded) -> None:
    await _warm_pool(app)
    embedded.stop()
    embedded.start()

    # Every pooled connection is stale now; none of them reaches a request.
    answers = await asyncio.gather(
        *(app.client.get("/api/v1/me", headers=app.headers) for _ in range(POOL_SIZE)),
        *(app.client.get("/api/v1/documents", headers=app.headers) for _ in range(POOL_SIZE)),
    )

    assert [a.status_code for a in answers] == [200] * (2 * POOL_SIZE)


async def test_requests_during_an_outage_are_503_and_ready_is_503(
    app: App, embedded: Embedded
) -> None:
    await _warm_pool(app)
    embedded.stop()
    try:
        started = time.monotonic()
        answers = [
            await app.client.get("/api/v1/me", headers=app.headers),
            await app.client.get("/api/v1/documents", headers=app.headers),
            await app.client.post(
                "/api/v1/documents/text",
                headers=app.headers,
                json={"title": "during the outage", "content": "hello", "document_type": "TXT"},
            ),
            await app.client.post("/api/v1/search", headers=app.headers, json={"query": "hello"}),
            await app.client.get("/api/v1/stats", headers=app.headers),
        ]
        elapsed = time.monotonic() - started
        ready = await app.client.get("/ready")
    finally:
        embedded.start()

    for answer in answers:
        _assert_unavailable(answer)
    assert elapsed < POOL_TIMEOUT_S * len(answers)
    assert ready.status_code == 503
    assert (await app.client.get("/ready")).status_code == 200
    assert (await app.client.get("/api/v1/me", headers=app.headers)).status_code == 200


@dataclass
class Load:
    """Requests sent back to back while the database goes away and comes back."""

    answers: list[tuple[float, float, int]] = field(default_factory=list)  # sent, took, status

    async def run(self, app: App, stop: asyncio.Event) -> None:
        while not stop.is_set():
            sent = time.monotonic()
            response = await app.client.get("/api/v1/me", headers=app.headers)
            self.answers.append((sent, time.monotonic() - sent, response.status_code))
            if response.status_code != 200:
                _assert_unavailable(response)
            await asyncio.sleep(0.01)


async def test_the_app_recovers_by_itself_when_the_database_is_back(
    app: App, embedded: Embedded
) -> None:
    await _warm_pool(app)
    load, stop = Load(), asyncio.Event()
    clients = [asyncio.create_task(load.run(app, stop)) for _ in range(3)]
    try:
        await asyncio.sleep(0.3)
        stopping = time.monotonic()
        await asyncio.to_thread(embedded.stop)
        stopped = time.monotonic()  # down from here on (stopping itself takes 0.1-0.4 s)
        await asyncio.sleep(1.0)
        restarting = time.monotonic()
        await asyncio.to_thread(embedded.start)
        back = time.monotonic()
        await asyncio.sleep(1.0)  # plenty: the first 200 comes within milliseconds
    finally:
        stop.set()
        await asyncio.gather(*clients)

    statuses = {status for _, _, status in load.answers}
    during = [status for sent, _, status in load.answers if stopped < sent < restarting]
    recovered = min(
        sent + took for sent, took, status in load.answers if sent >= back and status == 200
    )
    failed_after = [s for sent, _, s in load.answers if sent >= recovered and s != 200]
    slowest = max(took for _, took, _ in load.answers)
    refused = statistics.median(took for _, took, status in load.answers if status == 503)
    print(
        f"\ndatabase restart: stop took {stopped - stopping:.2f} s, start "
        f"{back - restarting:.2f} s; {len(during)} requests during the outage, all 503 "
        f"(median {1000 * refused:.1f} ms); first 200 {1000 * (recovered - back):.0f} ms after "
        f"PostgreSQL accepted connections again; slowest answer {1000 * slowest:.0f} ms"
    )
    assert statuses <= {200, 503}
    assert during and set(during) == {503}
    assert recovered - back < 1.0
    assert failed_after == []
    assert slowest < POOL_TIMEOUT_S + 1.0


async def test_no_free_connection_within_the_pool_timeout_is_storage_unavailable(
    embedded: Embedded,
) -> None:
    embedded.start()
    settings = AppSettings(slow_query_ms=0, db_pool_size=1, db_pool_timeout=0.5)
    engine = create_engine(embedded.url("postgres"), settings)
    uow_factory = SqlAlchemyUnitOfWorkFactory(engine)
    try:
        async with uow_factory(autocommit=True):
            started = time.monotonic()
            with pytest.raises(StorageUnavailable):
                async with uow_factory(autocommit=True):
                    pass
            waited = time.monotonic() - started
    finally:
        await engine.dispose()

    assert 0.4 < waited < 2.0
