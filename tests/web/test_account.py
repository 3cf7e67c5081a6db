"""The account page and the set-password link over HTTP (issue #14 item 1): details, the
sessions (this one marked, others ended one by one or all at once), changing the password
(problems beside their field), and a one-time link that sets a password once."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html import unescape

import httpx
import pytest
from litestar import Litestar

from application.context import RequestContext
from domain.users import User
from infrastructure.container import Container
from tests.support.web_accounts import (
    PASSWORD,
    form_token,
    hidden_token,
    person,
    set_cookies,
    sign_in,
)
from tests.web.conftest import BASE_URL

SYSTEM = RequestContext.system()
NEW_PASSWORD = "another quite unusual phrase"
SESSION = "archivist_session"


@pytest.fixture
def container(web: httpx.AsyncClient, web_app: Litestar) -> Container:
    built: Container = web_app.state.container
    return built


@pytest.fixture
async def mia(web: httpx.AsyncClient, container: Container) -> User:
    """Mia, signed in on `web`."""
    user = await person(container, "mia", access_level=2)
    assert (await sign_in(web, "mia@example.com")).status_code == 303
    return user


@pytest.fixture
async def other_browser(web_app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=web_app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        yield client


def field_error(html: str, name: str) -> str | None:
    found = re.search(rf'<p class="field__error" id="{name}-error">([^<]*)</p>', html)
    return unescape(found.group(1)) if found else None


def session_rows(html: str) -> list[str]:
    body = re.search(r'<table class="sessions">.*?<tbody>(.*?)</tbody>', html, re.DOTALL)
    assert body is not None
    return re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.DOTALL)


async def sessions_of(container: Container, user: User) -> int:
    async with container.uow_factory()(autocommit=True) as uow:
        return len(await uow.sessions.list_for_user(user.id))


# --- the page -------------------------------------------------------------------------------------


async def test_the_account_page_shows_who_you_are_and_where_you_are_signed_in(
    web: httpx.AsyncClient, other_browser: httpx.AsyncClient, mia: User
) -> None:
    await sign_in(other_browser, "mia@example.com")

    response = await web.get(
        "/account", headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"}
    )

    assert response.status_code == 200
    html = response.text
    assert "<h1>Your account</h1>" in html
    assert "<dd>Mia</dd>" in html and "<dd>mia@example.com</dd>" in html
    assert "Documents up to level 2" in html
    assert "Member: reads and uploads documents" in html
    rows = session_rows(html)
    assert len(rows) == 2
    assert '<strong class="badge">This browser</strong>' in rows[0]
    assert "This browser" not in rows[1]
    assert '<a class="sign-out__name" href="/account" aria-current="page">Mia</a>' in html
    assert 'href="/static/account.css"' in html


async def test_the_account_page_speaks_korean(web: httpx.AsyncClient, mia: User) -> None:
    response = await web.get("/account", headers={"Accept-Language": "ko"})

    assert "<h1>내 계정</h1>" in response.text
    assert "로그인된 곳" in response.text


# --- the password ---------------------------------------------------------------------------------


async def test_changing_the_password_keeps_this_session_and_ends_the_others(
    web: httpx.AsyncClient,
    other_browser: httpx.AsyncClient,
    web_app: Litestar,
    container: Container,
    mia: User,
) -> None:
    await sign_in(other_browser, "mia@example.com")
    token = await form_token(web, "/account")

    response = await web.post(
        "/account/password",
        data={
            "_csrf_token": token,
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/account?notice=password-changed"
    page = await web.get(response.headers["location"])
    assert "Your password is changed. Your other sessions have ended." in page.text
    assert (await other_browser.get("/account")).status_code == 303
    assert await sessions_of(container, mia) == 1
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web_app), base_url=BASE_URL
    ) as fresh:
        assert (await sign_in(fresh, "mia@example.com", PASSWORD)).status_code == 422
        assert (await sign_in(fresh, "mia@example.com", NEW_PASSWORD)).status_code == 303


@pytest.mark.parametrize(
    ("current", "new", "again", "field", "message"),
    [
        (
            "not my password at all",
            NEW_PASSWORD,
            NEW_PASSWORD,
            "current_password",
            "This is not your current password.",
        ),
        (PASSWORD, "short", "short", "new_password", "Use at least 12 characters."),
        (
            PASSWORD,
            "mia is my name 2024",
            "mia is my name 2024",
            "new_password",
            "The password must not contain your email address or the name before its @.",
        ),
        (
            PASSWORD,
            "password123456",
            "password123456",
            "new_password",
            "This password is too common: attackers try it first. Choose another.",
        ),
        (
            PASSWORD,
            NEW_PASSWORD,
            NEW_PASSWORD + "!",
            "new_password_again",
            "The two passwords differ.",
        ),
    ],
)
async def test_a_refused_password_shows_its_problem_beside_its_field(
    web: httpx.AsyncClient,
    mia: User,
    current: str,
    new: str,
    again: str,
    field: str,
    message: str,
) -> None:
    token = await form_token(web, "/account")

    response = await web.post(
        "/account/password",
        data={
            "_csrf_token": token,
            "current_password": current,
            "new_password": new,
            "new_password_again": again,
        },
    )

    assert response.status_code == 422
    assert field_error(response.text, field) == message
    assert f'aria-describedby="{field}' in response.text or f'{field}-error"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert "Your password was not changed." in response.text
    assert (await web.get("/account")).status_code == 200  # still signed in


async def test_a_policy_problem_is_in_korean_for_a_korean_page(
    web: httpx.AsyncClient, mia: User
) -> None:
    token = await form_token(web, "/account")

    response = await web.post(
        "/account/password",
        headers={"Accept-Language": "ko"},
        data={
            "_csrf_token": token,
            "current_password": PASSWORD,
            "new_password": "short",
            "new_password_again": "short",
        },
    )

    assert field_error(response.text, "new_password") == "12자 이상으로 정하세요."


# --- sessions -------------------------------------------------------------------------------------


async def test_ending_another_session_signs_that_browser_out(
    web: httpx.AsyncClient, other_browser: httpx.AsyncClient, mia: User
) -> None:
    await sign_in(other_browser, "mia@example.com")
    page = await web.get("/account")
    other = re.findall(r'action="/account/sessions/([0-9a-f-]+)/end"', page.text)[1]

    response = await web.post(
        f"/account/sessions/{other}/end", data={"_csrf_token": hidden_token(page.text)}
    )

    assert response.headers["location"] == "/account?notice=session-ended"
    assert (await other_browser.get("/account")).status_code == 303
    assert (await web.get("/account")).status_code == 200


async def test_nobody_ends_someone_elses_session(
    web: httpx.AsyncClient, other_browser: httpx.AsyncClient, container: Container, mia: User
) -> None:
    ned = await person(container, "ned")
    await sign_in(other_browser, "ned@example.com")
    async with container.uow_factory()(autocommit=True) as uow:
        (neds,) = await uow.sessions.list_for_user(ned.id)
    token = await form_token(web, "/account")

    response = await web.post(f"/account/sessions/{neds.id}/end", data={"_csrf_token": token})

    assert response.headers["location"] == "/account"
    assert (await other_browser.get("/account")).status_code == 200


async def test_ending_this_browsers_session_is_signing_out(
    web: httpx.AsyncClient, mia: User
) -> None:
    page = await web.get("/account")
    mine = re.findall(r'action="/account/sessions/([0-9a-f-]+)/end"', page.text)[0]

    response = await web.post(
        f"/account/sessions/{mine}/end", data={"_csrf_token": hidden_token(page.text)}
    )

    assert response.headers["location"] == "/sign-in?notice=signed-out"
    assert "max-age=0" in set_cookies(response)[SESSION].lower()


async def test_signing_out_everywhere_ends_every_session_this_one_too(
    web: httpx.AsyncClient, other_browser: httpx.AsyncClient, container: Container, mia: User
) -> None:
    await sign_in(other_browser, "mia@example.com")
    token = await form_token(web, "/account")

    response = await web.post("/account/sign-out-everywhere", data={"_csrf_token": token})

    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?notice=signed-out-everywhere"
    assert await sessions_of(container, mia) == 0
    assert (await web.get("/account")).status_code == 303
    assert (await other_browser.get("/account")).status_code == 303
    notice = await web.get(response.headers["location"])
    assert "You are signed out on every device and browser." in notice.text


# --- the set-password link ------------------------------------------------------------------------


async def _link(container: Container, user: User) -> str:
    issued = await container.passwords().issue_password_link(SYSTEM, user.id)
    return issued.secret


async def test_a_link_sets_the_password_once_and_then_the_person_signs_in(
    web: httpx.AsyncClient, container: Container
) -> None:
    nia = await person(container, "nia", password=None)
    secret = await _link(container, nia)

    form = await web.get("/set-password", params={"token": secret})

    assert form.status_code == 200
    assert "For the account nia@example.com. The link works once." in form.text
    assert f'<input type="hidden" name="token" value="{secret}">' in form.text
    assert 'autocomplete="new-password"' in form.text
    response = await web.post(
        "/set-password",
        data={
            "_csrf_token": hidden_token(form.text),
            "token": secret,
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?notice=password-set"
    assert "Your password is set." in (await web.get(response.headers["location"])).text
    assert (await sign_in(web, "nia@example.com", NEW_PASSWORD)).status_code == 303

    again = await web.get("/set-password", params={"token": secret})
    assert again.status_code == 410
    assert '<h1 id="set-password-heading">This link cannot be used</h1>' in again.text


@pytest.mark.parametrize("token", ["", "nonsense", "arvp_" + "A" * 43])
async def test_an_unknown_link_gets_a_page_that_says_so(web: httpx.AsyncClient, token: str) -> None:
    response = await web.get("/set-password", params={"token": token})

    assert response.status_code == 410
    assert "Ask an administrator for a new link" in response.text
    assert 'action="/set-password"' not in response.text


async def test_a_refused_password_leaves_the_link_usable(
    web: httpx.AsyncClient, container: Container
) -> None:
    nia = await person(container, "nia", password=None)
    secret = await _link(container, nia)
    token = await form_token(web, f"/set-password?token={secret}")

    short = await web.post(
        "/set-password",
        data={
            "_csrf_token": token,
            "token": secret,
            "password": "short",
            "password_again": "short",
        },
    )
    differ = await web.post(
        "/set-password",
        data={
            "_csrf_token": token,
            "token": secret,
            "password": NEW_PASSWORD,
            "password_again": "something else entirely",
        },
    )

    assert short.status_code == differ.status_code == 422
    assert field_error(short.text, "password") == "Use at least 12 characters."
    assert field_error(differ.text, "password_again") == "The two passwords differ."
    assert (await web.get("/set-password", params={"token": secret})).status_code == 200


async def test_a_link_replaced_by_a_newer_one_no_longer_works(
    web: httpx.AsyncClient, container: Container
) -> None:
    nia = await person(container, "nia", password=None)
    old = await _link(container, nia)
    await _link(container, nia)
    token = await form_token(web)

    response = await web.post(
        "/set-password",
        data={
            "_csrf_token": token,
            "token": old,
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
        },
    )

    assert response.status_code == 410
