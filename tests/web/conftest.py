"""The web interface's tests: plain HTTP against the app in the test's process, and a real
browser (tests/support/browser.py) against `archivist serve`.

- `web`: an httpx client on `create_app()` (memory storage), as tests/api runs the API;
- `pages_for(resolver)`: the web router alone with another `current_viewer` (the seam
  `web_router(viewer_of=...)`), for what a signed-in viewer sees before people can sign in;
- `server` and `browser`: one `archivist serve` and one Chromium per test module."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from playwright.sync_api import Browser

from infrastructure.config import AppSettings
from infrastructure.container import build_container
from interfaces.http.app import create_app
from interfaces.http.headers import add_security_headers
from interfaces.http.problems import EXCEPTION_HANDLERS
from interfaces.web import template_config, web_router, with_page_errors
from interfaces.web.session import ViewerResolver
from tests.api.conftest import lifespan_of
from tests.support.browser import launched_chromium
from tests.support.integration_cli import Server, cli_env, start_server

BASE_URL = "http://testserver.local"


@pytest.fixture(scope="session")
def web_app() -> Litestar:
    return create_app(build_container(AppSettings(storage="memory")))


@pytest.fixture
async def web(web_app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the whole app (pages, API, docs) on a fresh memory container."""
    web_app.state.container = build_container(AppSettings(storage="memory"))
    transport = httpx.ASGITransport(app=web_app)
    async with (
        lifespan_of(web_app),
        httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client,
    ):
        yield client


def pages_for(viewer_of: ViewerResolver) -> Litestar:
    """The web router as the app mounts it (its templates, error pages and security
    headers), with `viewer_of` deciding who is signed in."""
    return Litestar(
        route_handlers=[web_router(viewer_of=viewer_of)],
        exception_handlers=with_page_errors(EXCEPTION_HANDLERS),
        template_config=template_config(),
        before_send=[add_security_headers],
        logging_config=None,
    )


def client_of(app: Litestar) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp: Path = tmp_path_factory.mktemp("web")
    env = cli_env(None, tmp / "data") | {"ARCHIVIST_STORAGE": "memory"}
    running = start_server(env, tmp, tmp / "logs")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched_chromium() as launched:
        yield launched
