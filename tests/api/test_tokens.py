"""API tokens over HTTP: the secret is shown once, lists never show it, users manage their own
tokens and admins anyone's, revoking is idempotent (SPEC §2.2, §3)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api.conftest import (
    API,
    Api,
    Caller,
    assert_problem,
    assert_unauthorized,
    bearer,
    instant,
    make_user,
    recorded_events,
    store_state,
)

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


async def test_issuing_a_token_answers_201_with_its_secret(api: Api) -> None:
    response = await api.client.post(
        f"{API}/tokens", json={"name": "laptop"}, headers=api.member.headers
    )

    assert response.status_code == 201
    issued = response.json()
    assert issued["name"] == "laptop"
    assert issued["user_id"] == str(api.member.user_id)
    assert issued["token"].startswith(issued["prefix"])
    assert issued["revoked_at"] is None
    me = await api.client.get(f"{API}/me", headers=bearer(issued["token"]))
    assert (me.json()["id"], me.json()["token_id"]) == (str(api.member.user_id), issued["id"])


def lifetime(token: dict[str, str]) -> timedelta:
    return instant(token["expires_at"]) - instant(token["created_at"])


@pytest.mark.parametrize(
    ("request_days", "days"),
    [
        pytest.param(1, 1, id="one day"),
        pytest.param(3650, 3650, id="ten years, the maximum"),
        pytest.param(None, 90, id="default_token_ttl_days when unsaid"),
    ],
)
async def test_issued_token_lives_the_requested_days(
    api: Api, request_days: int | None, days: int
) -> None:
    body = {"name": "t"} | ({"expires_in_days": request_days} if request_days else {})

    response = await api.client.post(f"{API}/tokens", json=body, headers=api.member.headers)

    assert lifetime(response.json()) == timedelta(days=days)


async def test_issuing_a_token_records_token_issued_without_the_secret(api: Api) -> None:
    response = await api.client.post(
        f"{API}/tokens", json={"name": "laptop"}, headers=api.member.headers
    )
    issued = response.json()

    [event] = [
        e
        for e in await recorded_events(api.container, "token.issued")
        if e.subject_id == issued["id"]
    ]
    assert event.actor_id == api.member.user_id
    assert issued["token"] not in repr(event)


async def test_token_list_never_shows_a_secret_or_its_hash(api: Api) -> None:
    issued = await api.client.post(
        f"{API}/tokens", json={"name": "laptop"}, headers=api.member.headers
    )
    secret = issued.json()["token"]

    response = await api.client.get(f"{API}/tokens", headers=api.member.headers)

    assert response.status_code == 200
    items = response.json()["items"]
    assert {t["id"] for t in items} == {str(api.member.token_id), issued.json()["id"]}
    assert all("token" not in t and "token_hash" not in t for t in items)
    assert secret not in response.text
    assert api.member.secret not in response.text


async def test_token_list_shows_only_the_callers_own_tokens(api: Api) -> None:
    response = await api.client.get(f"{API}/tokens", headers=api.guest.headers)

    assert [t["user_id"] for t in response.json()["items"]] == [str(api.guest.user_id)]


async def test_admin_can_list_another_users_tokens(api: Api) -> None:
    response = await api.client.get(
        f"{API}/tokens", params={"user_id": str(api.member.user_id)}, headers=api.admin.headers
    )

    assert response.status_code == 200
    assert [t["id"] for t in response.json()["items"]] == [str(api.member.token_id)]


async def test_member_cannot_list_another_users_tokens(api: Api) -> None:
    response = await api.client.get(
        f"{API}/tokens", params={"user_id": str(api.admin.user_id)}, headers=api.member.headers
    )

    assert_problem(response, 403)


@pytest.mark.parametrize("role", ["member", "guest"])
async def test_non_admin_cannot_issue_a_token_for_another_user(api: Api, role: str) -> None:
    caller: Caller = getattr(api, role)
    before = await store_state(api.container)

    response = await api.client.post(
        f"{API}/tokens",
        json={"name": "stolen", "user_id": str(api.admin.user_id)},
        headers=caller.headers,
    )

    assert_problem(response, 403)
    assert await store_state(api.container) == before


async def test_admin_can_issue_a_token_for_another_user(api: Api) -> None:
    response = await api.client.post(
        f"{API}/tokens",
        json={"name": "for member", "user_id": str(api.member.user_id)},
        headers=api.admin.headers,
    )

    assert response.status_code == 201
    assert response.json()["user_id"] == str(api.member.user_id)
    me = await api.client.get(f"{API}/me", headers=bearer(response.json()["token"]))
    assert me.json()["id"] == str(api.member.user_id)


async def test_issuing_for_an_unknown_user_is_404(api: Api) -> None:
    response = await api.client.post(
        f"{API}/tokens", json={"name": "ghost", "user_id": UNKNOWN_ID}, headers=api.admin.headers
    )

    assert_problem(response, 404)


async def test_issuing_for_an_inactive_user_is_409_and_writes_nothing(api: Api) -> None:
    inactive = await make_user(api.container, "gone@example.com", is_active=False)
    before = await store_state(api.container)

    response = await api.client.post(
        f"{API}/tokens",
        json={"name": "revival", "user_id": str(inactive.user_id)},
        headers=api.admin.headers,
    )

    assert_problem(response, 409)
    assert await store_state(api.container) == before


# --- revoking ---------------------------------------------------------------------------------


async def test_revoking_is_idempotent_and_recorded_once(api: Api) -> None:
    url = f"{API}/tokens/{api.guest.token_id}"

    first = await api.client.delete(url, headers=api.admin.headers)
    second = await api.client.delete(url, headers=api.admin.headers)

    assert (first.status_code, second.status_code) == (204, 204)
    revoked = [
        e
        for e in await recorded_events(api.container, "token.revoked")
        if e.subject_id == str(api.guest.token_id)
    ]
    assert len(revoked) == 1
    assert revoked[0].actor_id == api.admin.user_id


async def test_revoked_token_is_listed_with_its_revocation_time(api: Api) -> None:
    issued = await api.client.post(
        f"{API}/tokens", json={"name": "spare"}, headers=api.member.headers
    )
    await api.client.delete(f"{API}/tokens/{issued.json()['id']}", headers=api.member.headers)

    listed = await api.client.get(f"{API}/tokens", headers=api.member.headers)

    revoked_at = {t["id"]: t["revoked_at"] for t in listed.json()["items"]}
    assert revoked_at[issued.json()["id"]] is not None
    assert revoked_at[str(api.member.token_id)] is None


async def test_admin_can_revoke_another_users_token(api: Api) -> None:
    response = await api.client.delete(
        f"{API}/tokens/{api.member.token_id}", headers=api.admin.headers
    )

    assert response.status_code == 204
    assert_unauthorized(await api.client.get(f"{API}/me", headers=api.member.headers))


@pytest.mark.parametrize("role", ["member", "guest"])
async def test_non_admin_revoking_another_users_token_gets_404_and_it_keeps_working(
    api: Api, role: str
) -> None:
    caller: Caller = getattr(api, role)
    before = await store_state(api.container)

    response = await api.client.delete(f"{API}/tokens/{api.admin.token_id}", headers=caller.headers)

    assert_problem(response, 404)
    assert await store_state(api.container) == before
    assert (await api.client.get(f"{API}/me", headers=api.admin.headers)).status_code == 200


async def test_revoking_an_unknown_token_is_404(api: Api) -> None:
    response = await api.client.delete(f"{API}/tokens/{UNKNOWN_ID}", headers=api.admin.headers)

    assert_problem(response, 404)
