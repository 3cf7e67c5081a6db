"""The HTTP API on both storages: an app on a fresh container, with an admin, a member and a
guest already holding tokens, a clock the test controls, and ways to look at what was stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from dependency_injector import providers
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from application.context import RequestContext
from application.tokens import TokenIssue
from application.users import CreateUser
from domain.documents import DEFAULT_FILE_TYPES
from domain.events import Event, EventFilter
from domain.pagination import MAX_LIMIT, PageRequest
from domain.users import UserChanges, UserFilter
from infrastructure.blobs import FilesystemBlobStore
from infrastructure.container import Container
from infrastructure.sqlalchemy.database import Database
from infrastructure.sqlalchemy.engine import async_url
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
    client: AsyncTestClient[Litestar]
    container: Container
    clock: SteppingClock
    admin: Caller
    member: Caller
    guest: Caller


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


class UnpooledDatabase:
    """Stands in for `Database` under the test client. `AsyncTestClient` runs the app on its
    own event loop (in a portal thread) while the test reads the store on the test's loop; a
    pooled asyncpg connection cannot move between loops, so every checkout opens a new one."""

    def __init__(self, url: str) -> None:
        self.engine: AsyncEngine = create_async_engine(async_url(url), poolclass=NullPool)

    @property
    def lock_engine(self) -> AsyncEngine:
        """The blob locks' connections: unpooled too, so no pool of its own is needed."""
        return self.engine

    async def dispose(self) -> None:
        await self.engine.dispose()


@pytest.fixture
async def api(container: Container, pg: Database | None, tmp_path: Path) -> AsyncIterator[Api]:
    if pg is not None:
        container.database.override(providers.Object(UnpooledDatabase(pg.url)))
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
    app = create_app(container)
    async with AsyncTestClient(app) as client:
        yield Api(app, client, container, clock, admin, member, guest)


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
