"""The HTTP API on both storages: an app on a fresh container, with an admin, a member and a
guest already holding tokens, a clock the test controls, and ways to look at what was stored."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from dependency_injector import providers
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncEngine

from application.context import RequestContext
from application.tokens import TokenIssue
from application.users import CreateUser
from domain.documents import DEFAULT_FILE_TYPES
from domain.events import Event, EventFilter
from domain.pagination import MAX_LIMIT, PageRequest
from domain.users import UserChanges, UserFilter
from infrastructure.blobs import FilesystemBlobStore
from infrastructure.config import AppSettings
from infrastructure.container import Container, build_container
from infrastructure.sqlalchemy.database import Database
from interfaces.http.app import create_app
from tests.support.clock import SteppingClock

API = "/api/v1"
PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class Caller:
    """A user holding a working token."""

    user_id: UUID
    email: str
    token_id: UUID
    secret: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.secret)


@dataclass(frozen=True)
class Api:
    app: Litestar
    client: httpx.AsyncClient
    container: Container
    clock: SteppingClock
    admin: Caller
    member: Caller
    guest: Caller
    # What a test prepares once and reuses across its hypothesis examples (one `api` each).
    memo: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def instant(rfc3339: str) -> datetime:
    """A timestamp from a response body."""
    return datetime.fromisoformat(rfc3339)


async def make_user(
    container: Container,
    email: str,
    *,
    role: str = "member",
    department: str | None = None,
    access_level: int = 1,
    is_active: bool = True,
) -> Caller:
    """A user made by the system (not through the API under test), with a token."""
    system = RequestContext.system()
    command = CreateUser(
        email=email,
        name=email.split("@")[0].title(),
        department=department,
        access_level=access_level,
        role=role,
    )
    async with container.uow_factory()() as uow:
        user = await container.users().add_in(uow, system, command)
        issued = await container.tokens().issue_in(uow, system, user.id, TokenIssue("test"))
        await uow.commit()
    if not is_active:
        await container.users().update(system, user.id, UserChanges({"is_active": False}))
    return Caller(user.id, user.email, issued.token.id, issued.secret)


class BorrowedDatabase:
    """The session's database lent to one test's container. The app's shutdown disposes
    its container's database; this leaves the session's pools open for the next test."""

    def __init__(self, database: Database) -> None:
        self._database = database

    @property
    def engine(self) -> AsyncEngine:
        return self._database.engine

    @property
    def lock_engine(self) -> AsyncEngine:
        return self._database.lock_engine

    async def dispose(self) -> None:
        """The session fixture disposes the database when the run ends."""


@pytest.fixture(scope="session")
def shared_app() -> Litestar:
    """One app for every API test of this process: building one costs ~0.2 s (routes,
    schemas, OpenAPI) and there are ~800 API tests. Each test hands it its own container
    (`app.state.container`, which handlers, authentication and the shutdown read)."""
    return create_app(build_container(AppSettings(storage="memory")))


@pytest.fixture
async def api(
    container: Container, pg: Database | None, tmp_path: Path, shared_app: Litestar
) -> AsyncIterator[Api]:
    if pg is not None:
        container.database.override(providers.Object(BorrowedDatabase(pg)))
        # Blobs of this test in its own directory (the default is the working directory's).
        container.blobs.override(providers.Object(FilesystemBlobStore(tmp_path / "blobs")))
    # Every reading a step later, so rows made one after the other are ordered by time on
    # both storages; `advance` jumps ahead (token expiry).
    clock = SteppingClock()
    container.clock.override(providers.Object(clock))  # before any use case is built
    # The seeded upload policy survives the truncation between postgres tests: start each
    # test from the seeded rows, whatever an earlier test changed.
    async with container.uow_factory()() as uow:
        for file_type in DEFAULT_FILE_TYPES:
            await uow.file_types.put(replace(file_type))
        await uow.commit()
    created = await container.bootstrap().create_admin("admin@example.com", "Ada Admin")
    admin = Caller(
        created.user.id, created.user.email, created.issued.token.id, created.issued.secret
    )
    member = await make_user(
        container, "member@example.com", department="Engineering", access_level=2
    )
    guest = await make_user(container, "guest@example.com", role="guest")
    app = shared_app
    app.state.container = container
    # The app runs on the test's own event loop (not in a portal thread as Litestar's
    # AsyncTestClient runs it), so the app and the test share the session's pooled
    # connections; the lifespan is entered as a server would enter it.
    transport = httpx.ASGITransport(app=app)
    async with (
        lifespan_of(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client,
    ):
        yield Api(app, client, container, clock, admin, member, guest)


@asynccontextmanager
async def lifespan_of(app: Litestar) -> AsyncIterator[None]:
    """The app's lifespan run as a server runs it: entered and left in one task of its own
    (pytest-asyncio sets a fixture up and tears it down in different tasks, and Litestar's
    lifespan holds an anyio task group, which must be left in the task that entered it)."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def serve() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    server = asyncio.create_task(serve())
    starting = asyncio.create_task(started.wait())
    await asyncio.wait({server, starting}, return_when=asyncio.FIRST_COMPLETED)
    if server.done():  # the start-up failed: say why
        starting.cancel()
        server.result()
    try:
        yield
    finally:
        stop.set()
        await server


# --- looking at the store -------------------------------------------------------------------


async def recorded_events(container: Container, action: str | None = None) -> list[Event]:
    """The audit trail, newest first."""
    async with container.uow_factory()(autocommit=True) as uow:
        page = await uow.events.list(EventFilter(action=action), PageRequest(limit=MAX_LIMIT))
    return list(page.items)


async def store_state(container: Container) -> tuple[Any, ...]:
    """Everything a request could write, as comparable values. (Leaves out what merely
    authenticating touches: last_used_at and last_login_at.)"""
    async with container.uow_factory()(autocommit=True) as uow:
        users = (await uow.users.list(UserFilter(), PageRequest(limit=MAX_LIMIT))).items
        tokens = (await uow.tokens.list(None, PageRequest(limit=MAX_LIMIT))).items
        events = (await uow.events.list(EventFilter(), PageRequest(limit=MAX_LIMIT))).items
        settings = await uow.settings.list()
    return (
        [
            (u.id, u.email, u.name, u.department, u.access_level, u.role, u.is_active, u.updated_at)
            for u in users
        ],
        [(t.id, t.user_id, t.name, t.expires_at, t.revoked_at) for t in tokens],
        [(e.id, e.action, e.subject_id) for e in events],
        [(s.key, s.value, s.type, s.is_public, s.description) for s in settings],
    )


async def blob_keys(container: Container) -> set[str]:
    """Every blob the store holds, whatever its age."""
    return set(await container.blobs().keys_older_than(-1e12))


# --- documents ------------------------------------------------------------------------------


async def upload(
    api: Api,
    caller: Caller,
    filename: str,
    data: bytes,
    **fields: str | int | list[str],
) -> httpx.Response:
    """POST /documents as multipart: the file, then the fields (a list repeats its field)."""
    form = {
        name: value if isinstance(value, list) else str(value) for name, value in fields.items()
    }
    return await api.client.post(
        f"{API}/documents",
        files={"file": (filename, data, "application/octet-stream")},
        data=form,
        headers=caller.headers,
    )


async def uploaded(api: Api, caller: Caller, filename: str, data: bytes, **fields: Any) -> Any:
    """The body of a successful upload."""
    response = await upload(api, caller, filename, data, **fields)
    assert response.status_code == 201, response.text
    return response.json()


# --- asserting on responses -----------------------------------------------------------------


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """An RFC 9457 problem with this status; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["code"]
    return body


def assert_unauthorized(response: httpx.Response) -> dict[str, Any]:
    body = assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer ")
    return body
