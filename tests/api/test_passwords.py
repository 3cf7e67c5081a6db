"""Passwords and sessions over the API: `PUT /me/password`, and the admin's
`PUT /users/{id}/password`, `POST /users/{id}/password-link`, `DELETE /users/{id}/sessions`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from dependency_injector import providers

from application.accounts import AccountService
from application.auth_throttle import FailedAuthenticationThrottle
from application.context import RequestContext
from application.passwords import PasswordService
from domain import events
from domain.errors import AuthenticationFailed
from infrastructure.config import AppSettings
from tests.api.conftest import API, Api, assert_problem, instant, recorded_events

PASSWORD = "violet staple orbit 42"
NEW_PASSWORD = "amber lantern river 7"
WEB = RequestContext(actor=None, client_ip="192.0.2.10", user_agent="browser")


async def _with_password(api: Api, user_id: UUID, password: str = PASSWORD) -> None:
    passwords: PasswordService = api.container.passwords()
    await passwords.set_password(RequestContext.system(), user_id, password)


async def _signs_in(api: Api, email: str, password: str) -> bool:
    accounts: AccountService = api.container.accounts()
    try:
        await accounts.sign_in(email, password, WEB)
    except AuthenticationFailed:
        return False
    return True


def _field_errors(body: dict[str, Any]) -> dict[str, str]:
    return {e["field"]: e["message"] for e in body["errors"]}


# --- PUT /me/password -----------------------------------------------------------------------


async def test_a_user_changes_their_password(api: Api) -> None:
    await _with_password(api, api.member.user_id)

    response = await api.client.put(
        f"{API}/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=api.member.headers,
    )

    assert response.status_code == 204, response.text
    assert await _signs_in(api, api.member.email, NEW_PASSWORD)
    assert not await _signs_in(api, api.member.email, PASSWORD)
    [event] = await recorded_events(api.container, events.USER_PASSWORD_CHANGED)
    assert event.actor_id == api.member.user_id and NEW_PASSWORD not in str(event.data)


async def test_changing_a_password_ends_web_sessions_but_not_tokens(api: Api) -> None:
    await _with_password(api, api.member.user_id)
    accounts: AccountService = api.container.accounts()
    secret = (await accounts.sign_in(api.member.email, PASSWORD, WEB)).secret

    response = await api.client.put(
        f"{API}/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=api.member.headers,
    )
    me = await api.client.get(f"{API}/me", headers=api.member.headers)

    assert response.status_code == 204 and me.status_code == 200
    with pytest.raises(AuthenticationFailed):
        await accounts.resume(secret)


async def test_a_wrong_current_password_is_a_422_naming_it(api: Api) -> None:
    await _with_password(api, api.member.user_id)

    response = await api.client.put(
        f"{API}/me/password",
        json={"current_password": PASSWORD + "?", "new_password": NEW_PASSWORD},
        headers=api.member.headers,
    )

    body = assert_problem(response, 422)
    assert _field_errors(body) == {"current_password": "is not your current password"}


async def test_a_password_the_policy_refuses_is_a_422_naming_new_password(api: Api) -> None:
    await _with_password(api, api.member.user_id)
    cases = {
        "short": "must be at least 12 characters",
        "member@example.com rocks": "must not contain your e-mail address or its name",
        "Password2024!": "is too common: it is on a list of passwords attackers try first",
    }
    for new, message in cases.items():
        response = await api.client.put(
            f"{API}/me/password",
            json={"current_password": PASSWORD, "new_password": new},
            headers=api.member.headers,
        )
        body = assert_problem(response, 422)
        assert _field_errors(body) == {"new_password": message}


async def test_a_password_is_taken_as_typed_not_stripped(api: Api) -> None:
    await _with_password(api, api.member.user_id)
    spaced = "  " + NEW_PASSWORD + "  "

    response = await api.client.put(
        f"{API}/me/password",
        json={"current_password": PASSWORD, "new_password": spaced},
        headers=api.member.headers,
    )

    assert response.status_code == 204, response.text
    assert await _signs_in(api, api.member.email, spaced)
    assert not await _signs_in(api, api.member.email, NEW_PASSWORD)


async def test_without_a_password_yet_one_cannot_set_it_oneself(api: Api) -> None:
    response = await api.client.put(
        f"{API}/me/password",
        json={"current_password": "", "new_password": NEW_PASSWORD},
        headers=api.guest.headers,
    )

    body = assert_problem(response, 422)
    assert list(_field_errors(body)) == ["current_password"]


async def test_wrong_current_passwords_are_throttled(api: Api) -> None:
    api.container.auth_throttle.override(providers.Object(FailedAuthenticationThrottle(2)))
    await _with_password(api, api.member.user_id)
    body = {"current_password": "not my password", "new_password": NEW_PASSWORD}
    statuses = [
        (
            await api.client.put(f"{API}/me/password", json=body, headers=api.member.headers)
        ).status_code
        for _ in range(3)
    ]

    throttled = await api.client.get(f"{API}/me", headers=api.member.headers)

    assert statuses[:2] == [422, 422] and statuses[2] == 429
    assert_problem(throttled, 429)
    assert int(throttled.headers["retry-after"]) >= 1


async def test_a_malformed_body_is_refused_with_the_field(api: Api) -> None:
    response = await api.client.put(
        f"{API}/me/password",
        json={"current_password": PASSWORD, "new_password": "x" * 1025, "extra": 1},
        headers=api.member.headers,
    )

    body = assert_problem(response, 422)
    assert {"new_password", "extra"} <= set(_field_errors(body))


# --- PUT /users/{id}/password ---------------------------------------------------------------


async def test_an_admin_sets_a_users_password(api: Api) -> None:
    response = await api.client.put(
        f"{API}/users/{api.guest.user_id}/password",
        json={"password": PASSWORD},
        headers=api.admin.headers,
    )

    assert response.status_code == 204, response.text
    assert await _signs_in(api, api.guest.email, PASSWORD)
    [event] = await recorded_events(api.container, events.USER_PASSWORD_SET)
    assert event.actor_id == api.admin.user_id and event.subject_id == str(api.guest.user_id)


async def test_setting_a_password_checks_it_against_that_users_email(api: Api) -> None:
    response = await api.client.put(
        f"{API}/users/{api.guest.user_id}/password",
        json={"password": "guest@example.com-2026"},
        headers=api.admin.headers,
    )

    body = assert_problem(response, 422)
    assert _field_errors(body) == {"password": "must not contain your e-mail address or its name"}


async def test_setting_the_password_of_an_unknown_user_is_a_404(api: Api) -> None:
    response = await api.client.put(
        f"{API}/users/{uuid4()}/password", json={"password": PASSWORD}, headers=api.admin.headers
    )

    assert_problem(response, 404)


async def test_a_member_cannot_set_anyones_password(api: Api) -> None:
    response = await api.client.put(
        f"{API}/users/{api.member.user_id}/password",
        json={"password": PASSWORD},
        headers=api.member.headers,
    )

    assert_problem(response, 403)
    assert not await _signs_in(api, api.member.email, PASSWORD)


# --- POST /users/{id}/password-link ---------------------------------------------------------


async def test_an_admin_issues_a_set_password_link_shown_once(api: Api) -> None:
    response = await api.client.post(
        f"{API}/users/{api.guest.user_id}/password-link", headers=api.admin.headers
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["user_id"] == str(api.guest.user_id) and body["url"] is None
    assert body["path"] == f"/set-password?token={body['token']}"
    assert instant(body["expires_at"]) - api.clock.current <= timedelta(hours=24)
    passwords: PasswordService = api.container.passwords()
    await passwords.set_password_with_link(body["token"], PASSWORD, WEB)
    assert await _signs_in(api, api.guest.email, PASSWORD)
    [event] = await recorded_events(api.container, events.USER_PASSWORD_LINK_ISSUED)
    assert body["token"] not in str(event.data)


async def test_the_link_is_made_absolute_on_the_public_url(api: Api) -> None:
    settings = AppSettings(storage="memory", public_url="https://archive.example.com/")
    api.container.app_settings.override(providers.Object(settings))

    response = await api.client.post(
        f"{API}/users/{api.guest.user_id}/password-link", headers=api.admin.headers
    )

    body = response.json()
    assert body["url"] == f"https://archive.example.com/set-password?token={body['token']}"


async def test_no_link_for_an_inactive_user(api: Api) -> None:
    await api.client.patch(
        f"{API}/users/{api.guest.user_id}", json={"is_active": False}, headers=api.admin.headers
    )

    response = await api.client.post(
        f"{API}/users/{api.guest.user_id}/password-link", headers=api.admin.headers
    )

    assert_problem(response, 409)


# --- DELETE /users/{id}/sessions and deactivation --------------------------------------------


async def test_an_admin_signs_a_user_out_everywhere(api: Api) -> None:
    await _with_password(api, api.member.user_id)
    accounts: AccountService = api.container.accounts()
    secrets = [(await accounts.sign_in(api.member.email, PASSWORD, WEB)).secret for _ in "ab"]

    response = await api.client.delete(
        f"{API}/users/{api.member.user_id}/sessions", headers=api.admin.headers
    )
    again = await api.client.delete(
        f"{API}/users/{api.member.user_id}/sessions", headers=api.admin.headers
    )

    assert (response.status_code, again.status_code) == (204, 204)
    for secret in secrets:
        with pytest.raises(AuthenticationFailed):
            await accounts.resume(secret)
    assert (await api.client.get(f"{API}/me", headers=api.member.headers)).status_code == 200
    ended = await recorded_events(api.container, events.USER_SESSIONS_ENDED)
    assert [e.data for e in ended] == [{"sessions": 0}, {"sessions": 2}]


async def test_signing_out_an_unknown_user_is_a_404(api: Api) -> None:
    response = await api.client.delete(f"{API}/users/{uuid4()}/sessions", headers=api.admin.headers)

    assert_problem(response, 404)


async def test_deactivating_a_user_over_the_api_ends_their_sessions(api: Api) -> None:
    await _with_password(api, api.member.user_id)
    accounts: AccountService = api.container.accounts()
    secret = (await accounts.sign_in(api.member.email, PASSWORD, WEB)).secret

    response = await api.client.patch(
        f"{API}/users/{api.member.user_id}", json={"is_active": False}, headers=api.admin.headers
    )

    assert response.status_code == 200, response.text
    with pytest.raises(AuthenticationFailed):
        await accounts.resume(secret)
