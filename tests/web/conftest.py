"""The web interface's tests: plain HTTP against the app in the test's process, and a real
browser (tests/support/browser.py) against `archivist serve`.

- `web`: an httpx client on `create_app()` (memory storage), as tests/api runs the API;
- `pages_for(resolver)`: the web router alone with another `current_viewer` (the seam
  `web_router(viewer_of=...)`), for what a signed-in viewer sees before people can sign in;
- `server` and `browser`: one `archivist serve` and one Chromium per test module;
- `people`: people of each role with passwords on that server (`tests.support.browser.Person`;
  sign in with `tests.support.browser.sign_in(page, server.base_url, email, password)`), and
  `server_admin_token` to make more through the API (`tests.support.browser.add_person`)."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar, Request
from playwright.sync_api import Browser

from infrastructure.config import AppSettings
from infrastructure.container import build_container
from interfaces.http.app import create_app
from interfaces.http.headers import add_security_headers
from interfaces.http.problems import EXCEPTION_HANDLERS
from interfaces.web import template_config, web_router, with_page_errors
from interfaces.web.session import Viewer, ViewerResolver
from tests.api.conftest import lifespan_of
from tests.conftest import FAST_PASSWORD_HASHING
from tests.support.browser import Person, add_person, launched_chromium
from tests.support.integration_cli import Server, cli_env, start_server

BASE_URL = "http://testserver.local"


@pytest.fixture(scope="session")
def web_app() -> Litestar:
    return create_app(build_container(AppSettings(storage="memory")))


@pytest.fixture
async def web(web_app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the whole app (pages, API, docs) on a fresh memory container."""
    web_app.state.container = build_container(
        AppSettings(storage="memory", **FAST_PASSWORD_HASHING)
    )
    transport = httpx.ASGITransport(app=web_app)
    async with (
        lifespan_of(web_app),
        httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client,
    ):
        yield client


async def _the_tests_viewer(request: Request[Any, Any, Any]) -> Viewer | None:
    """The resolver the shared pages app was built with: whatever the test gave
    `pages_for` last."""
    resolver: ViewerResolver = request.app.state.viewer_of
    return await resolver(request)


@functools.cache
def _pages_app() -> Litestar:
    """The web router as the app mounts it (its templates, error pages and security
    headers), built once a process: registering its handlers costs ~0.1 s, which every one
    of some 300 tests paid."""
    return Litestar(
        route_handlers=[web_router(viewer_of=_the_tests_viewer)],
        exception_handlers=with_page_errors(EXCEPTION_HANDLERS),
        template_config=template_config(),
        before_send=[add_security_headers],
        logging_config=None,
    )


def pages_for(viewer_of: ViewerResolver) -> Litestar:
    """The pages app with `viewer_of` deciding who is signed in, on a fresh memory container
    (the pages call its use cases; a test may put another in `app.state.container`). One app
    serves every test of the process, so a test uses one `pages_for` app at a time: the
    next call gives it another resolver and container."""
    app = _pages_app()
    app.state.viewer_of = viewer_of
    app.state.container = build_container(AppSettings(storage="memory"))
    return app


def client_of(app: Litestar) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)


@pytest.fixture(scope="module")
def server_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The working directory of the module's server (its data directory is `data/`)."""
    return tmp_path_factory.mktemp("web")


@pytest.fixture(scope="module")
def server(server_dir: Path) -> Iterator[Server]:
    hashing = {f"ARCHIVIST_{k.upper()}": str(v) for k, v in FAST_PASSWORD_HASHING.items()}
    env = cli_env(None, server_dir / "data") | {"ARCHIVIST_STORAGE": "memory", **hashing}
    running = start_server(env, server_dir, server_dir / "logs")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def server_admin_token(server: Server, server_dir: Path) -> str:
    """The API token of the administrator the server made at its first start."""
    return (server_dir / "data" / "admin-token").read_text().strip()


@pytest.fixture(scope="module")
def people(server: Server, server_admin_token: str) -> dict[str, Person]:
    """People with passwords on the module's server, made through the API: "admin" (L3),
    "member" (L2), "guest" (L1) and "intern" (a member at L1)."""
    made = {
        "admin": ("Ada Admin", "admin", 3),
        "member": ("Max Member", "member", 2),
        "guest": ("Gil Guest", "guest", 1),
        "intern": ("Ida Intern", "member", 1),
    }
    return {
        key: add_person(
            server.base_url,
            server_admin_token,
            email=f"{key}@example.com",
            name=name,
            role=role,
            access_level=level,
        )
        for key, (name, role, level) in made.items()
    }


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched_chromium() as launched:
        yield launched
