"""The web router's defences over HTTP (issue #14, must-show 2), checked on every route it has,
including those added after this file: no page for an anonymous visitor but the sign-in and
set-password pages; every POST, PUT, PATCH and DELETE refused (403, before its handler runs)
without the viewer's CSRF token or when the browser says it comes from another site; the
anonymous forms' double-submit token; the page CSP without 'unsafe-inline'; and the token
read from a form without taking the body from the handler (urlencoded and multipart)."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import httpx
import pytest
from litestar import Litestar, Request, Router, post
from litestar.routes import HTTPRoute

from domain.users import User
from infrastructure.config import AppSettings
from infrastructure.container import Container, build_container
from interfaces.http.app import create_app
from interfaces.http.problems import EXCEPTION_HANDLERS
from interfaces.web import template_config, with_page_errors
from interfaces.web.access import ACCESS, Access
from interfaces.web.pages import admission
from interfaces.web.session import Viewer
from tests.api.conftest import lifespan_of
from tests.conftest import FAST_PASSWORD_HASHING
from tests.support.web_accounts import PASSWORD, form_token, person, sign_in
from tests.web.conftest import BASE_URL

NOT_PAGES = ("/api", "/schema", "/health", "/ready", "/metrics")
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
# The only GET routes an anonymous visitor may open (the sign-in and set-password pages, the
# start page's redirect to the documents, the assets). A new one is a decision: add it here.
OPEN_TO_ANYONE = {"/", "/sign-in", "/set-password", "/static/{file_path:path}"}
SESSION = "archivist_session"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def app() -> Litestar:
    return create_app(build_container(AppSettings(storage="memory")))


@pytest.fixture
async def container(app: Litestar) -> AsyncIterator[Container]:
    app.state.container = build_container(AppSettings(storage="memory", **FAST_PASSWORD_HASHING))
    async with lifespan_of(app):
        yield app.state.container


@pytest.fixture
async def client(app: Litestar, container: Container) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as c:
        yield c


@pytest.fixture
async def admin(client: httpx.AsyncClient, container: Container) -> str:
    """An administrator signed in on `client`; their session's CSRF token."""
    await person(container, "ada", role="admin", access_level=3)
    assert (await sign_in(client, "ada@example.com")).status_code == 303
    return await form_token(client, "/account")


def page_routes(app: Litestar) -> Iterator[tuple[str, str, Access]]:
    """(method, path template, access) of every handler of the web router."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith(NOT_PAGES):
            continue
        for handler in route.route_handlers:
            access = Access(handler.opt.get(ACCESS, Access.SIGNED_IN))
            for method in handler.http_methods:
                if method != "OPTIONS":
                    yield method, route.path, access


def concrete(path: str) -> str:
    """A path template with each parameter filled in with a value of its type."""
    values = {"uuid": str(uuid4()), "int": "1", "str": "x", "path": "/x"}
    return re.sub(r"\{\w+:(\w+)\}", lambda m: values[m.group(1)].lstrip("/"), path)


def test_the_routes_are_found(app: Litestar) -> None:
    """The control for the loops below: they see the pages of every area."""
    found = {(method, path) for method, path, _ in page_routes(app)}

    assert {("GET", "/documents"), ("GET", "/account"), ("POST", "/sign-in")} <= found
    assert {("POST", "/sign-out"), ("POST", "/language"), ("GET", "/sign-in")} <= found


# --- anonymous visitors ---------------------------------------------------------------------------


def test_only_the_sign_in_and_set_password_pages_and_the_assets_are_open_to_anyone(
    app: Litestar,
) -> None:
    open_gets = {path for method, path, access in page_routes(app) if method == "GET"} - {
        path
        for method, path, access in page_routes(app)
        if method == "GET" and access is Access.SIGNED_IN
    }

    assert open_gets == OPEN_TO_ANYONE


async def test_every_private_page_sends_an_anonymous_visitor_to_sign_in(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    private = sorted(
        {path for method, path, access in page_routes(app) if method in ("GET", "HEAD")}
        - OPEN_TO_ANYONE
    )
    assert len(private) > 5

    for template in private:
        path = concrete(template)
        response = await client.get(path)
        assert response.status_code == 303, (template, response.status_code)
        assert response.headers["location"].startswith("/sign-in?next=%2F"), template
        assert "set-cookie" not in response.headers  # nothing is made for a passer-by


async def test_an_anonymous_post_to_a_private_route_goes_to_sign_in_and_runs_nothing(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    for method, template, access in page_routes(app):
        if method in UNSAFE and access is Access.SIGNED_IN:
            response = await client.request(method, concrete(template), data={"a": "b"})
            assert (response.status_code, response.headers.get("location")) == (
                303,
                "/sign-in",
            ), template


# --- CSRF: signed in ------------------------------------------------------------------------------


@pytest.mark.parametrize("sent", [None, "", "wrong", "t" * 43])
async def test_every_post_of_a_signed_in_viewer_without_their_token_is_refused(
    app: Litestar, client: httpx.AsyncClient, admin: str, sent: str | None
) -> None:
    unsafe = [(m, p) for m, p, a in page_routes(app) if m in UNSAFE and a is Access.SIGNED_IN]
    assert len(unsafe) > 10

    for method, template in unsafe:
        data = {} if sent is None else {"_csrf_token": sent}
        response = await client.request(method, concrete(template), data=data)
        assert response.status_code == 403, (method, template, response.status_code)
        assert response.headers["content-type"].startswith("text/html")
        assert "This form has expired or was not sent from an Archivist page." in response.text


async def test_a_refused_post_changes_nothing_and_the_log_says_why(
    client: httpx.AsyncClient, container: Container, admin: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="archivist.web"):
        refused = await client.post("/sign-out", data={"_csrf_token": "wrong-token-sent"})

    assert refused.status_code == 403
    assert (await client.get("/account")).status_code == 200  # still signed in
    assert (
        "refused POST /sign-out as possibly forged: its CSRF token was missing or wrong"
        in caplog.text
    )
    assert "wrong-token-sent" not in caplog.text and admin not in caplog.text


async def test_the_token_in_the_form_field_or_the_header_is_taken(
    client: httpx.AsyncClient, admin: str
) -> None:
    by_header = await client.post(
        "/account/password",
        headers={"X-CSRF-Token": admin},
        data={"current_password": "x", "new_password": "y", "new_password_again": "y"},
    )
    by_field = await client.post("/sign-out", data={"_csrf_token": admin})

    assert by_header.status_code == 422  # past the check: the use case refused the password
    assert by_field.status_code == 303


async def test_the_anonymous_form_token_does_not_pass_for_a_signed_in_page(
    client: httpx.AsyncClient, container: Container
) -> None:
    anonymous = await form_token(client)  # the form cookie's token
    await person(container, "mia")
    await client.post(
        "/sign-in",
        data={"_csrf_token": anonymous, "email": "mia@example.com", "password": PASSWORD},
    )

    response = await client.post("/sign-out", data={"_csrf_token": anonymous})

    assert response.status_code == 403


# --- CSRF: anonymous forms ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/sign-in", {"email": "ada@example.com", "password": "a long and unusual passphrase"}),
        ("/language", {"lang": "ko", "next": "/sign-in"}),
        ("/set-password", {"token": "arvp_x", "password": "x", "password_again": "x"}),
    ],
)
async def test_an_anonymous_form_needs_the_token_of_the_browsers_form_cookie(
    client: httpx.AsyncClient, container: Container, path: str, data: dict[str, str]
) -> None:
    await person(container, "ada", role="admin", access_level=3)

    without_cookie = await client.post(path, data={**data, "_csrf_token": "a" * 43})
    token = await form_token(client)  # now the browser has the cookie
    without_field = await client.post(path, data=data)
    wrong_field = await client.post(path, data={**data, "_csrf_token": "b" * 43})
    right = await client.post(path, data={**data, "_csrf_token": token})

    assert [without_cookie.status_code, without_field.status_code, wrong_field.status_code] == [
        403,
        403,
        403,
    ]
    assert right.status_code in (303, 410)  # past the check (a made-up link is gone: 410)
    assert client.cookies.get(SESSION) is None or path == "/sign-in"


async def test_a_forged_sign_in_neither_signs_in_nor_counts_as_a_failure(
    client: httpx.AsyncClient, container: Container
) -> None:
    await person(container, "ada")
    limit = container.app_settings().auth_failures_per_minute
    for _ in range(limit + 2):
        forged = await client.post(
            "/sign-in", data={"email": "ada@example.com", "password": "wrong password!"}
        )
        assert forged.status_code == 403

    assert (await sign_in(client, "ada@example.com")).status_code == 303


async def test_the_refusal_page_gives_a_fresh_form_cookie(client: httpx.AsyncClient) -> None:
    refused = await client.post("/language", data={"lang": "ko", "_csrf_token": "x" * 43})

    assert refused.status_code == 403
    assert "archivist_csrf=" in refused.headers.get("set-cookie", "")


# --- where a request comes from -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Sec-Fetch-Site": "cross-site"}, 403),
        ({"Sec-Fetch-Site": "same-site"}, 403),
        ({"Origin": "http://evil.example"}, 403),
        ({"Origin": "http://testserver.local.evil.example"}, 403),
        ({"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver.local"}, 303),
        ({"Sec-Fetch-Site": "none"}, 303),
        ({"Origin": "null"}, 303),  # what a browser sends under Referrer-Policy: no-referrer
        ({"Origin": "https://testserver.local"}, 303),  # TLS ended by a proxy
        ({}, 303),
    ],
)
async def test_a_post_the_browser_says_comes_from_another_site_is_refused_with_its_token(
    client: httpx.AsyncClient, admin: str, headers: dict[str, str], status: int
) -> None:
    response = await client.post("/sign-out", data={"_csrf_token": admin}, headers=headers)

    assert response.status_code == status


async def test_the_public_url_is_this_site_too(
    app: Litestar, client: httpx.AsyncClient, admin: str
) -> None:
    settings = app.state.container.app_settings().model_copy(
        update={"public_url": "https://archive.example.com"}
    )
    app.state.container.app_settings.override(settings)

    response = await client.post(
        "/sign-out",
        data={"_csrf_token": admin},
        headers={"Origin": "https://archive.example.com", "Host": "10.0.0.5:8000"},
    )

    assert response.status_code == 303


# --- the page policy ------------------------------------------------------------------------------


async def test_every_page_carries_the_policy_without_inline_code(
    app: Litestar, client: httpx.AsyncClient, admin: str
) -> None:
    pages = sorted({p for m, p, a in page_routes(app) if m == "GET"} - {"/static/{file_path:path}"})
    seen = 0
    for template in [*pages, "/no-such-page"]:
        response = await client.get(concrete(template), headers={"Accept": "text/html"})
        if not response.headers.get("content-type", "").startswith("text/html"):
            continue
        seen += 1
        policy = response.headers["content-security-policy"]
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, template
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "<script>" not in response.text and " style=" not in response.text, template
    assert seen > 5


# --- reading the token leaves the body to the handler ---------------------------------------------


@post("/echo/form", status_code=200)
async def echo_form(request: Request[Any, Any, Any]) -> dict[str, list[str]]:
    form = await request.form()
    again = await request.form()  # answered from Litestar's cache
    assert dict(form) == dict(again)
    return {key: [str(v) for v in form.getall(key)] for key in form}


@post("/echo/body", status_code=200)
async def echo_body(request: Request[Any, Any, Any]) -> str:
    return "".join([chunk.decode() async for chunk in request.stream()])


@pytest.fixture
async def echo() -> AsyncIterator[httpx.AsyncClient]:
    """A router with the web router's admission hook and two handlers that show what body
    they received; the viewer's token is "t"."""
    user = User.register(email="ann@example.com", name="Ann", now=NOW)

    async def signed_in(request: Request[Any, Any, Any]) -> Viewer:
        return Viewer(user, csrf_token="t" * 43)

    router = Router(
        path="/", route_handlers=[echo_form, echo_body], before_request=admission(signed_in)
    )
    app = Litestar(
        route_handlers=[router],
        template_config=template_config(),
        exception_handlers=with_page_errors(EXCEPTION_HANDLERS),
        logging_config=None,
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as c:
        yield c


async def test_an_urlencoded_form_is_read_again_by_its_handler(echo: httpx.AsyncClient) -> None:
    response = await echo.post(
        "/echo/form", data={"_csrf_token": "t" * 43, "title": "Plan", "tags": ["a", "b"]}
    )

    assert response.status_code == 200
    assert response.json() == {"_csrf_token": ["t" * 43], "title": ["Plan"], "tags": ["a", "b"]}


async def test_a_multipart_body_passes_with_the_token_first_and_reaches_the_handler_without_it(
    echo: httpx.AsyncClient,
) -> None:
    big = "x" * 200_000  # past the peek: the rest streams on
    response = await echo.post(
        "/echo/form",
        data={"_csrf_token": "t" * 43, "title": "Plan"},
        files={"file": ("a.txt", big.encode(), "text/plain")},
    )

    assert response.status_code == 200
    assert response.json() == {"title": ["Plan"], "file": [response.json()["file"][0]]}


async def test_the_handler_streams_the_multipart_body_from_the_part_after_the_token(
    echo: httpx.AsyncClient,
) -> None:
    boundary = "b0und4ry"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="_csrf_token"\r\n\r\n'
        f'{"t" * 43}\r\n--{boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\n'
        f"Plan\r\n--{boundary}--\r\n"
    )

    response = await echo.post(
        "/echo/body",
        content=body.encode(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )

    assert response.status_code == 200
    assert response.text == (
        f'--{boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nPlan\r\n'
        f"--{boundary}--\r\n"
    )


@pytest.mark.parametrize(
    "first",
    [
        'name="title"\r\n\r\nPlan',  # the token is not first
        'name="_csrf_token"; filename="t.txt"\r\n\r\n' + "t" * 43,  # a file, not a field
        'name="_csrf_token"\r\n\r\n' + "u" * 43,  # the wrong token
    ],
)
async def test_a_multipart_body_without_its_token_first_is_refused(
    echo: httpx.AsyncClient, first: str
) -> None:
    boundary = "b0und4ry"
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; {first}\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="_csrf_token"\r\n\r\n'
        f"{'t' * 43}\r\n--{boundary}--\r\n"
    )

    response = await echo.post(
        "/echo/body",
        content=body.encode(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )

    assert response.status_code == 403


async def test_a_multipart_upload_may_send_the_token_in_the_header_instead(
    echo: httpx.AsyncClient,
) -> None:
    response = await echo.post(
        "/echo/form",
        headers={"X-CSRF-Token": "t" * 43},
        data={"title": "Plan"},
        files={"file": ("a.txt", b"hello", "text/plain")},
    )

    assert response.status_code == 200
    assert response.json()["title"] == ["Plan"]


async def test_a_json_body_needs_the_header(echo: httpx.AsyncClient) -> None:
    without = await echo.post("/echo/body", json={"_csrf_token": "t" * 43})
    with_header = await echo.post("/echo/body", json={"a": 1}, headers={"X-CSRF-Token": "t" * 43})

    assert (without.status_code, with_header.status_code) == (403, 200)
