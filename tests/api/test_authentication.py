"""Every /api/v1 request needs a working bearer token; anything else is a 401 problem with a
`WWW-Authenticate: Bearer` challenge (SPEC §3, §2.2)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api.conftest import API, Api, assert_unauthorized, bearer

UNKNOWN_TOKEN = "arv_" + "A" * 43  # the shape of a real secret, never issued


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing header"),
        pytest.param({"Authorization": "Basic dXNlcjpwYXNzd29yZA=="}, id="basic scheme"),
        pytest.param({"Authorization": "Bearer"}, id="bearer without token"),
        pytest.param({"Authorization": "Bearer    "}, id="bearer with blank token"),
    ],
)
async def test_request_without_bearer_credentials_is_challenged_without_error_code(
    api: Api, headers: dict[str, str]
) -> None:
    response = await api.client.get(f"{API}/me", headers=headers)

    assert_unauthorized(response)
    assert "error=" not in response.headers["www-authenticate"]


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param("not-a-token", id="malformed"),
        pytest.param("arv_short", id="too short"),
        pytest.param("arv_" + "A" * 40 + "!?", id="bad characters"),
        pytest.param(UNKNOWN_TOKEN, id="well-formed but never issued"),
    ],
)
async def test_token_that_was_never_issued_is_rejected_as_invalid(api: Api, secret: str) -> None:
    response = await api.client.get(f"{API}/me", headers=bearer(secret))

    assert_unauthorized(response)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_token_works_until_it_expires(api: Api) -> None:
    issued = await api.client.post(
        f"{API}/tokens", json={"name": "one day", "expires_in_days": 1}, headers=api.member.headers
    )
    secret = issued.json()["token"]

    api.clock.advance(timedelta(days=1) - timedelta(minutes=1))
    assert (await api.client.get(f"{API}/me", headers=bearer(secret))).status_code == 200

    api.clock.advance(timedelta(minutes=1))
    response = await api.client.get(f"{API}/me", headers=bearer(secret))

    assert_unauthorized(response)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_revoked_token_stops_working_at_once(api: Api) -> None:
    revoked = await api.client.delete(
        f"{API}/tokens/{api.member.token_id}", headers=api.member.headers
    )
    assert revoked.status_code == 204

    response = await api.client.get(f"{API}/me", headers=api.member.headers)

    assert_unauthorized(response)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_deactivating_a_user_stops_their_token_on_the_next_request(api: Api) -> None:
    assert (await api.client.get(f"{API}/me", headers=api.member.headers)).status_code == 200

    deactivated = await api.client.patch(
        f"{API}/users/{api.member.user_id}", json={"is_active": False}, headers=api.admin.headers
    )
    assert deactivated.status_code == 200

    assert_unauthorized(await api.client.get(f"{API}/me", headers=api.member.headers))


async def test_reactivating_a_user_makes_their_token_work_again(api: Api) -> None:
    url = f"{API}/users/{api.member.user_id}"
    await api.client.patch(url, json={"is_active": False}, headers=api.admin.headers)
    await api.client.patch(url, json={"is_active": True}, headers=api.admin.headers)

    assert (await api.client.get(f"{API}/me", headers=api.member.headers)).status_code == 200


async def test_scheme_name_is_case_insensitive(api: Api) -> None:
    response = await api.client.get(
        f"{API}/me", headers={"Authorization": f"bearer {api.member.secret}"}
    )

    assert response.status_code == 200
