"""Signing in and out in the browser over HTTP (issue #14 item 1, must-show 2): the session
cookie and its flags, a new session at every sign-in (no fixation), one answer for every
refusal, throttling, signing out, deactivation ending the sessions, and cookies that are not
sessions treated as no one."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from litestar import Litestar

from application.context import RequestContext
from domain.users import UserChanges
from infrastructure.config import AppSettings
from infrastructure.container import Container, build_container
from interfaces.http.app import create_app
from tests.conftest import FAST_PASSWORD_HASHING
from tests.support.web_accounts import PASSWORD, form_token, person, set_cookies, sign_in
from tests.web.conftest import BASE_URL

SYSTEM = RequestContext.system()
SESSION = "archivist_session"
WEEK = int(timedelta(hours=24 * 7).total_seconds())  # the default absolute lifetime


@pytest.fixture
def container(web: httpx.AsyncClient, web_app: Litestar) -> Container:
    """The container the `web` client's app serves (fresh for each test)."""
    built: Container = web_app.state.container
    return built


def session_of(client: httpx.AsyncClient) -> str | None:
    return client.cookies.get(SESSION)


async def sessions_of(container: Container, email: str) -> int:
    async with container.uow_factory()(autocommit=True) as uow:
        found = await uow.passwords.find_by_email(email)
        assert found is not None
        return len(await uow.sessions.list_for_user(found[0].id))


async def post_sign_in(client: httpx.AsyncClient, token: str, email: str) -> httpx.Response:
    """The sign-in form of a page loaded earlier, sent now."""
    data = {"_csrf_token": token, "email": email, "password": PASSWORD}
    return await client.post("/sign-in", data=data)


# --- signing in ---------------------------------------------------------------------------------


async def test_signing_in_sets_an_httponly_lax_session_cookie_and_opens_the_documents(
    web: httpx.AsyncClient, container: Container
) -> None:
    await person(container, "mia")

    response = await sign_in(web, "mia@example.com")

    assert response.status_code == 303
    assert response.headers["location"] == "/documents"
    cookie = set_cookies(response)[SESSION]
    assert re.match(rf"{SESSION}=arvs_[\w-]{{43}}; ", cookie)
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert flags == {"httponly", f"max-age={WEEK}", "path=/", "samesite=lax"}  # no Secure
    page = await web.get("/account")
    assert page.status_code == 200
    assert "Mia" in page.text


async def test_over_https_both_cookies_are_secure_host_only_cookies() -> None:
    built = build_container(AppSettings(storage="memory", **FAST_PASSWORD_HASHING))
    app = create_app(built)
    await person(built, "mia")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://archive.test") as client:
        page = await client.get("/sign-in")
        response = await sign_in(client, "mia@example.com")
        signed_in = await client.get("/account")

    form_cookie = set_cookies(page)["__Host-archivist_csrf"]
    assert {"httponly", "secure", "path=/", "samesite=strict"} <= _flags(form_cookie)
    session = set_cookies(response)["__Host-archivist_session"]
    assert {"httponly", "secure", "path=/", "samesite=lax"} <= _flags(session)
    assert "domain=" not in session.lower()
    assert signed_in.status_code == 200


def _flags(cookie: str) -> set[str]:
    return {part.strip().lower() for part in cookie.split(";")[1:]}


@pytest.mark.parametrize(
    ("next_path", "location"),
    [
        ("/account?tab=1", "/account?tab=1"),
        ("https://evil.example/", "/documents"),
        ("//evil.example", "/documents"),
        ("/sign-in", "/documents"),
    ],
)
async def test_signing_in_goes_on_to_a_next_page_of_this_site_only(
    web: httpx.AsyncClient, container: Container, next_path: str, location: str
) -> None:
    await person(container, "mia")

    response = await sign_in(web, "mia@example.com", next_path=next_path)

    assert response.status_code == 303
    assert response.headers["location"] == location


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("mia@example.com", "not her password at all"),
        ("nobody@example.com", PASSWORD),
        ("gone@example.com", PASSWORD),  # deactivated
        ("nopass@example.com", PASSWORD),  # has no password
        ("not an address", PASSWORD),
        ("mia@example.com", ""),
    ],
)
async def test_every_refusal_is_one_message_with_the_email_kept_and_no_session(
    web: httpx.AsyncClient, container: Container, email: str, password: str
) -> None:
    await person(container, "mia")
    gone = await person(container, "gone")
    await container.users().update(SYSTEM, gone.id, UserChanges({"is_active": False}))
    await person(container, "nopass", password=None)

    response = await sign_in(web, email, password)

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert '<p class="message message--error">Wrong email address or password.</p>' in (
        response.text
    )
    assert f'value="{email}"' in response.text if email else True
    assert SESSION not in set_cookies(response)
    assert session_of(web) is None


async def test_a_failed_sign_in_keeps_where_the_visitor_was_going(
    web: httpx.AsyncClient, container: Container
) -> None:
    response = await sign_in(web, "x@example.com", "wrong password", next_path="/account")

    assert response.status_code == 422
    assert '<input type="hidden" name="next" value="/account">' in response.text


async def test_too_many_failures_from_one_address_are_answered_429_even_with_the_password(
    web: httpx.AsyncClient, container: Container
) -> None:
    await person(container, "mia")
    limit = container.app_settings().auth_failures_per_minute
    for _ in range(limit):
        refused = await sign_in(web, "mia@example.com", "a wrong password here")
        assert refused.status_code == 422

    throttled = await sign_in(web, "mia@example.com")

    assert throttled.status_code == 429
    assert 0 < int(throttled.headers["retry-after"]) <= 60
    assert "Too many failed attempts from this address." in throttled.text
    assert '<form class="form" method="post" action="/sign-in">' in throttled.text
    assert session_of(web) is None


async def test_the_sign_in_page_sends_someone_signed_in_on(
    web: httpx.AsyncClient, container: Container
) -> None:
    await person(container, "mia")
    await sign_in(web, "mia@example.com")

    response = await web.get("/sign-in", params={"next": "/account"})

    assert response.status_code == 303
    assert response.headers["location"] == "/account"


# --- no fixation --------------------------------------------------------------------------------


async def test_every_sign_in_makes_a_new_session_and_ends_the_one_the_browser_held(
    web: httpx.AsyncClient, web_app: Litestar, container: Container
) -> None:
    await person(container, "mia")
    token = await form_token(web)  # the sign-in page, open in a second tab
    await sign_in(web, "mia@example.com")
    first = session_of(web)

    again = await post_sign_in(web, token, "mia@example.com")

    second = session_of(web)
    assert again.status_code == 303
    assert first is not None and second is not None and first != second
    assert await sessions_of(container, "mia@example.com") == 1  # the first one ended
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web_app),
        base_url=BASE_URL,
        cookies={SESSION: first},
    ) as old:
        response = await old.get("/account")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=%2Faccount"


async def test_a_session_cookie_planted_before_sign_in_is_never_adopted(
    web: httpx.AsyncClient, container: Container
) -> None:
    await person(container, "mia")
    planted = "arvs_" + "A" * 43
    web.cookies.set(SESSION, planted, domain="testserver.local")

    await sign_in(web, "mia@example.com")

    assert session_of(web) not in (None, planted)


async def test_signing_in_as_someone_else_ends_the_first_persons_session(
    web: httpx.AsyncClient, container: Container
) -> None:
    await person(container, "mia")
    await person(container, "ned")
    token = await form_token(web)
    await sign_in(web, "mia@example.com")

    response = await post_sign_in(web, token, "ned@example.com")

    assert response.status_code == 303

    assert await sessions_of(container, "mia@example.com") == 0
    assert "Ned" in (await web.get("/account")).text


# --- signing out ----------------------------------------------------------------------------------


async def test_signing_out_ends_the_session_and_clears_the_cookie(
    web: httpx.AsyncClient, container: Container
) -> None:
    await person(container, "mia")
    await sign_in(web, "mia@example.com")
    held = session_of(web)
    token = await form_token(web, "/account")

    response = await web.post("/sign-out", data={"_csrf_token": token})

    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?notice=signed-out"
    cleared = set_cookies(response)[SESSION]
    assert cleared.startswith(f'{SESSION}="";') and "max-age=0" in cleared.lower()
    assert await sessions_of(container, "mia@example.com") == 0
    page = await web.get("/sign-in?notice=signed-out")
    assert '<p class="message message--success">You are signed out.</p>' in page.text
    web.cookies.set(SESSION, held or "")
    assert (await web.get("/documents")).status_code == 303


async def test_an_unknown_notice_says_nothing(web: httpx.AsyncClient) -> None:
    page = await web.get("/sign-in", params={"notice": "<b>you won</b>"})

    assert page.status_code == 200
    assert "you won" not in page.text
    assert "message--success" not in page.text


# --- sessions that end --------------------------------------------------------------------------


async def test_deactivating_a_user_sends_their_next_page_to_the_sign_in_page(
    web: httpx.AsyncClient, container: Container
) -> None:
    admin = await person(container, "ada", role="admin", access_level=3)
    mia = await person(container, "mia")
    await sign_in(web, "mia@example.com")
    assert (await web.get("/account")).status_code == 200

    await container.users().update(
        RequestContext(actor=admin), mia.id, UserChanges({"is_active": False})
    )

    response = await web.get("/account")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=%2Faccount"
    assert await sessions_of(container, "mia@example.com") == 0


async def test_an_admin_signing_a_user_out_everywhere_ends_their_browser_session(
    web: httpx.AsyncClient, container: Container
) -> None:
    admin = await person(container, "ada", role="admin", access_level=3)
    mia = await person(container, "mia")
    await sign_in(web, "mia@example.com")

    await container.accounts().sign_out_everywhere(RequestContext(actor=admin), mia.id)

    assert (await web.get("/account")).status_code == 303


@pytest.mark.parametrize(
    "cookie",
    [
        "",
        "garbage",
        "arvs_" + "A" * 43,  # well-formed, unknown
        "arvs_" + "A" * 400,
        "arvs_%C3%BC%00" + "A" * 30,
        '"quoted"',
        "arv_" + "A" * 43,  # an API token's shape
    ],
)
async def test_a_cookie_that_is_no_session_is_an_anonymous_visitor_never_an_error(
    web: httpx.AsyncClient, cookie: str
) -> None:
    web.cookies.set(SESSION, cookie)

    page = await web.get("/documents")
    form = await web.get("/sign-in")

    assert page.status_code == 303
    assert form.status_code == 200
