"""What a signed-in viewer sees, through the seam people will sign in by
(`web_router(viewer_of=...)`, standing in for `current_viewer` until sessions exist): the
navigation for their role, the sign-in page sending them on, their language setting, and
the error page when finding out who they are fails."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar import Request

from domain.errors import StorageUnavailable
from domain.users import User
from interfaces.web.session import Viewer, ViewerResolver
from tests.web.conftest import client_of, pages_for

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def viewer(role: str, *, language: str | None = None) -> Viewer:
    user = User.register(email=f"{role}@example.com", name=f"Ms {role.title()}", now=NOW, role=role)
    return Viewer(user, language=language)


def signed_in(who: Viewer) -> ViewerResolver:
    async def resolve(request: Request[Any, Any, Any]) -> Viewer | None:
        return who

    return resolve


def navigation(html: str) -> list[str]:
    nav = re.search(r'<nav class="site-nav" aria-label="Main">(.*?)</nav>', html, re.DOTALL)
    assert nav is not None
    return re.findall(r'<a href="([^"]+)"', nav.group(1))


@pytest.mark.parametrize(
    ("role", "sections"),
    [
        ("admin", ["/documents", "/search", "/upload", "/taxonomy", "/admin"]),
        ("member", ["/documents", "/search", "/upload", "/taxonomy"]),
        ("guest", ["/documents", "/search", "/taxonomy"]),
    ],
)
async def test_the_navigation_shows_what_the_role_may_use(role: str, sections: list[str]) -> None:
    async with client_of(pages_for(signed_in(viewer(role)))) as client:
        response = await client.get("/documents")

    assert response.status_code == 200
    assert navigation(response.text) == sections
    assert '<a href="/documents" aria-current="page">Documents</a>' in response.text
    assert f"Ms {role.title()}" in response.text
    assert '<form class="sign-out" method="post" action="/sign-out">' in response.text


async def test_an_anonymous_page_has_no_navigation() -> None:
    async def anonymous(request: Request[Any, Any, Any]) -> Viewer | None:
        return None

    async with client_of(pages_for(anonymous)) as client:
        response = await client.get("/sign-in")

    assert 'class="site-nav"' not in response.text
    assert 'action="/sign-out"' not in response.text


@pytest.mark.parametrize(
    ("next_path", "location"),
    [
        ("%2Fsearch%3Fq%3Dx", "/search?q=x"),
        ("https%3A%2F%2Fevil.example", "/documents"),
        ("", "/documents"),
    ],
)
async def test_the_sign_in_page_sends_a_signed_in_viewer_on(next_path: str, location: str) -> None:
    async with client_of(pages_for(signed_in(viewer("member")))) as client:
        response = await client.get(f"/sign-in?next={next_path}")

    assert response.status_code == 303
    assert response.headers["location"] == location


async def test_the_users_language_setting_outranks_the_browser_and_the_cookie() -> None:
    async with client_of(pages_for(signed_in(viewer("member", language="ko")))) as client:
        client.cookies.set("lang", "en")
        response = await client.get("/documents", headers={"Accept-Language": "en"})

    assert '<html lang="ko">' in response.text
    assert "<h1>문서</h1>" in response.text


async def test_a_failure_to_find_the_viewer_is_an_html_500_that_tells_nothing_inside(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(request: Request[Any, Any, Any]) -> Viewer | None:
        raise RuntimeError("secret internals")

    with caplog.at_level(logging.ERROR, logger="archivist.web"):
        async with client_of(pages_for(broken)) as client:
            response = await client.get("/documents")

    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "Something went wrong" in response.text
    assert "secret internals" not in response.text
    assert "unhandled error on page GET /documents" in caplog.text


async def test_an_unavailable_session_store_is_an_html_503_with_retry_after() -> None:
    async def unavailable(request: Request[Any, Any, Any]) -> Viewer | None:
        raise StorageUnavailable("the database does not answer", retry_after_seconds=7)

    async with client_of(pages_for(unavailable)) as client:
        response = await client.get("/sign-in")

    assert response.status_code == 503
    assert response.headers["retry-after"] == "7"
    assert "Temporarily unavailable" in response.text


async def test_a_query_the_database_could_not_store_is_refused_on_a_page() -> None:
    async with client_of(pages_for(signed_in(viewer("member")))) as client:
        response = await client.get("/documents", params={"q": "a\x00b"})

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
