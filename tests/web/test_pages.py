"""The web interface over plain HTTP (issue #14, step 1): no page but the sign-in page for
an anonymous visitor, where `next` may point, the language of a page, HTML error pages on
page paths, and the API, docs and probes answering exactly as before."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.api.conftest import assert_problem, assert_unauthorized
from tests.support.web_accounts import form_token

# What a browser's navigation sends.
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
PAGE_CSP = {
    "default-src": "'none'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "connect-src": "'self'",  # the upload page's requests (static/enhance/upload.js)
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
}


def directives(policy: str) -> dict[str, str]:
    return dict(d.strip().split(" ", 1) for d in policy.split(";"))


def assert_html_page(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert directives(response.headers["content-security-policy"]) == PAGE_CSP
    assert response.headers["cache-control"] == "no-store"
    return response.text


def hidden_next(html: str) -> str | None:
    found = re.search(
        r'<input type="hidden" name="next" value="([^"]*)">\s*<div class="field">', html
    )
    return found.group(1) if found else None


# --- who may see what ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/documents", "/sign-in?next=%2Fdocuments"),
        ("/documents?tag=a%20b&page=2", "/sign-in?next=%2Fdocuments%3Ftag%3Da%2520b%26page%3D2"),
    ],
)
async def test_an_anonymous_visitor_is_sent_to_sign_in_with_the_page_to_come_back_to(
    web: httpx.AsyncClient, path: str, location: str
) -> None:
    response = await web.get(path)

    assert response.status_code == 303
    assert response.headers["location"] == location


async def test_the_start_page_goes_to_the_documents(web: httpx.AsyncClient) -> None:
    response = await web.get("/")

    assert response.status_code == 303
    assert response.headers["location"] == "/documents"


async def test_the_sign_in_page_is_served_to_anyone_with_labelled_controls(
    web: httpx.AsyncClient,
) -> None:
    html = assert_html_page(await web.get("/sign-in"), 200)

    assert '<label for="email">Email address</label>' in html
    assert '<input id="email" name="email" type="email" autocomplete="username"' in html
    assert '<label for="password">Password</label>' in html
    assert 'id="password" name="password" type="password" autocomplete="current-password"' in html
    assert '<form class="form" method="post" action="/sign-in">' in html
    assert re.search(r'<input type="hidden" name="_csrf_token" value="[\w-]{43}">', html)
    assert hidden_next(html) is None


async def test_static_assets_are_served_to_anyone(web: httpx.AsyncClient) -> None:
    css = await web.get("/static/app.css")
    script = await web.get("/static/app.js")
    module = await web.get("/static/enhance/password.js")

    assert (css.status_code, script.status_code, module.status_code) == (200, 200, 200)
    assert css.headers["content-type"].startswith("text/css")
    assert script.headers["content-type"].startswith("text/javascript")
    assert css.headers["cache-control"] == "no-cache"


async def test_no_page_is_in_the_api_document(web: httpx.AsyncClient) -> None:
    paths = (await web.get("/schema/openapi.json")).json()["paths"]

    assert all(p.startswith(("/api/", "/health", "/ready", "/metrics")) for p in paths)


# --- next -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("/documents", "/documents"),
        ("/documents?page=2&amp;tag=x", "/documents?page=2&amp;amp;tag=x"),
        ("/search?q=%ED%95%9C", "/search?q=%ED%95%9C"),
        ("//evil.example/x", None),
        ("/\\evil.example", None),
        ("https://evil.example/", None),
        ("javascript:alert(1)", None),
        ("documents", None),
        ("/sign-in?next=/x", None),
        ("/a b", None),
        ("/a\tb", None),
        ("/" + "a" * 2048, None),
    ],
)
async def test_next_is_kept_only_as_a_path_on_this_site(
    web: httpx.AsyncClient, given: str, kept: str | None
) -> None:
    html = assert_html_page(await web.get("/sign-in", params={"next": given}), 200)

    assert hidden_next(html) == kept
    assert ("Sign in to see that page." in html) is (kept is not None)


# --- language -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept_language", "lang", "heading"),
    [
        (None, "en", "Sign in to Archivist"),
        ("ko-KR,ko;q=0.9,en-US;q=0.8", "ko", "Archivist에 로그인"),
        ("fr-FR,ko;q=0.5,en;q=0.4", "ko", "Archivist에 로그인"),
        ("ko;q=0,en", "en", "Sign in to Archivist"),
        ("de", "en", "Sign in to Archivist"),
    ],
)
async def test_the_page_speaks_the_browsers_language(
    web: httpx.AsyncClient, accept_language: str | None, lang: str, heading: str
) -> None:
    headers = {"Accept-Language": accept_language} if accept_language else {}

    response = await web.get("/sign-in", headers=headers)

    html = assert_html_page(response, 200)
    assert f'<html lang="{lang}">' in html
    assert f">{heading}</h1>" in html
    assert response.headers["content-language"] == lang


async def test_the_language_switch_remembers_the_choice_and_goes_back(
    web: httpx.AsyncClient,
) -> None:
    token = await form_token(web)
    response = await web.post(
        "/language",
        data={"lang": "ko", "next": "/sign-in?next=%2Fdocuments", "_csrf_token": token},
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=%2Fdocuments"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("lang=ko;")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain HTTP here
    page = await web.get("/sign-in", headers={"Accept-Language": "en"})
    assert '<html lang="ko">' in page.text


@pytest.mark.parametrize("next_path", ["https://evil.example/", "//evil.example", ""])
async def test_the_language_switch_goes_back_only_to_this_site(
    web: httpx.AsyncClient, next_path: str
) -> None:
    token = await form_token(web)
    response = await web.post(
        "/language", data={"lang": "en", "next": next_path, "_csrf_token": token}
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/documents"


async def test_an_unknown_language_is_refused_with_an_html_page(web: httpx.AsyncClient) -> None:
    token = await form_token(web)
    response = await web.post(
        "/language", data={"lang": "fr", "next": "/sign-in", "_csrf_token": token}
    )

    html = assert_html_page(response, 422)
    assert "set-cookie" not in response.headers
    assert "This request could not be handled" in html


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/no-such-page", "/static/no-such.css", "/documents/x/y"])
async def test_an_unknown_page_is_an_html_404_for_a_browser(
    web: httpx.AsyncClient, path: str
) -> None:
    response = await web.get(path, headers={**BROWSER, "Accept-Language": "ko"})

    html = assert_html_page(response, 404)
    assert "<h1" in html
    assert "페이지를 찾을 수 없음" in html
    assert re.search(r"요청 ID: [0-9a-f]+", html)
    assert response.headers["x-request-id"] in html


async def test_a_method_a_page_does_not_take_is_an_html_405_naming_what_it_takes(
    web: httpx.AsyncClient,
) -> None:
    response = await web.delete("/sign-in", headers=BROWSER)

    assert_html_page(response, 405)
    assert "GET" in response.headers["allow"]


async def test_an_unknown_path_is_still_a_problem_for_a_client_not_asking_for_html(
    web: httpx.AsyncClient,
) -> None:
    assert_problem(await web.get("/no/such/route", headers={"Accept": "application/json"}), 404)
    assert_problem(await web.get("/no/such/route"), 404)


async def test_what_a_page_route_raises_is_a_page_whatever_the_client_accepts(
    web: httpx.AsyncClient,
) -> None:
    response = await web.get("/static/no-such.css", headers={"Accept": "application/json"})

    assert_html_page(response, 404)


# --- the API, the docs and the probes are as they were ---------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/no-such-thing", "/api/no-such-version"])
async def test_an_unknown_api_path_is_still_a_problem(web: httpx.AsyncClient, path: str) -> None:
    response = await web.get(path, headers=BROWSER)

    body = assert_problem(response, 404)
    assert body["code"] == "not_found"
    assert directives(response.headers["content-security-policy"]) == {
        "default-src": "'none'",
        "frame-ancestors": "'none'",
    }
    assert response.headers["cache-control"] == "no-store"


async def test_the_api_still_answers_an_anonymous_caller_with_401(web: httpx.AsyncClient) -> None:
    response = await web.get("/api/v1/me", headers={"Accept": "text/html"})

    assert_unauthorized(response)


async def test_a_method_the_api_does_not_take_is_still_a_problem(web: httpx.AsyncClient) -> None:
    response = await web.request("PATCH", "/api/v1/tokens", headers=BROWSER)

    assert_problem(response, 405)


@pytest.mark.parametrize("path", ["/api", "/health/x", "/metrics/x"])
async def test_unknown_paths_beside_the_api_probes_and_metrics_stay_problems(
    web: httpx.AsyncClient, path: str
) -> None:
    assert_problem(await web.get(path, headers=BROWSER), 404)


async def test_the_probes_and_the_docs_keep_their_headers(web: httpx.AsyncClient) -> None:
    health = await web.get("/health")
    docs = await web.get("/schema")

    assert health.json() == {"status": "ok", "detail": None}
    assert health.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert directives(docs.headers["content-security-policy"])["form-action"] == "'none'"
    assert "cache-control" not in docs.headers
