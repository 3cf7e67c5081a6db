"""User administration over HTTP: create, list with filters and keyset pages, read, change."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import (
    API,
    Api,
    assert_problem,
    instant,
    make_user,
    recorded_events,
    store_state,
)


async def test_creating_a_user_answers_201_with_the_stored_user(api: Api) -> None:
    response = await api.client.post(
        f"{API}/users",
        json={
            "email": "  Grace.Hopper@Example.com ",
            "name": "Grace Hopper",
            "department": "Research",
            "access_level": 3,
            "role": "guest",
        },
        headers=api.admin.headers,
    )

    assert response.status_code == 201
    created = response.json()
    assert created | {"id": None, "created_at": None, "updated_at": None} == {
        "id": None,
        "email": "grace.hopper@example.com",
        "name": "Grace Hopper",
        "department": "Research",
        "access_level": 3,
        "role": "guest",
        "is_active": True,
        "last_login_at": None,
        "created_at": None,
        "updated_at": None,
    }
    fetched = await api.client.get(f"{API}/users/{created['id']}", headers=api.admin.headers)
    assert fetched.json() == created


async def test_a_new_user_defaults_to_an_l1_member(api: Api) -> None:
    response = await api.client.post(
        f"{API}/users", json={"email": "new@example.com", "name": "New"}, headers=api.admin.headers
    )

    assert (response.json()["role"], response.json()["access_level"]) == ("member", 1)
    assert response.json()["department"] is None


async def test_creating_a_user_records_user_created_by_the_admin(api: Api) -> None:
    response = await api.client.post(
        f"{API}/users", json={"email": "new@example.com", "name": "New"}, headers=api.admin.headers
    )

    user_id = response.json()["id"]
    events = await recorded_events(api.container, "user.created")
    [event] = [e for e in events if e.subject_id == user_id]
    assert event.subject_type == "user"
    assert event.actor_id == api.admin.user_id
    assert event.data["email"] == "new@example.com"


async def test_get_unknown_user_is_404(api: Api) -> None:
    response = await api.client.get(
        f"{API}/users/00000000-0000-4000-8000-000000000000", headers=api.admin.headers
    )

    assert_problem(response, 404)


# --- listing ---------------------------------------------------------------------------------


async def _people(api: Api) -> None:
    """Besides the fixture's admin (no department), member (Engineering) and guest: three more."""
    await make_user(api.container, "eve@example.com", department="Engineering", role="admin")
    await make_user(api.container, "sam@example.com", department="Sales")
    await make_user(api.container, "old@example.com", department="Sales", is_active=False)


async def _emails(api: Api, query: str) -> list[str]:
    response = await api.client.get(f"{API}/users?{query}", headers=api.admin.headers)
    assert response.status_code == 200, response.text
    return [u["email"] for u in response.json()["items"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("role=admin", ["admin", "eve"], id="role"),
        pytest.param("role=guest", ["guest"], id="role guest"),
        pytest.param("department=Engineering", ["member", "eve"], id="department"),
        pytest.param("department=Sales", ["sam", "old"], id="department sales"),
        pytest.param("is_active=false", ["old"], id="inactive"),
        pytest.param("is_active=true&department=Sales", ["sam"], id="active and department"),
        pytest.param("role=member&department=Sales", ["sam", "old"], id="role and department"),
        pytest.param("department=Nowhere", [], id="no match"),
        pytest.param("", ["admin", "member", "guest", "eve", "sam", "old"], id="no filter"),
    ],
)
async def test_list_users_filters_by_role_department_and_activity(
    api: Api, query: str, expected: list[str]
) -> None:
    await _people(api)

    assert await _emails(api, query) == [f"{name}@example.com" for name in expected]


async def test_list_users_pages_through_everyone_once_in_creation_order(api: Api) -> None:
    created = [api.admin.email, api.member.email, api.guest.email]
    for n in range(7):
        created.append((await make_user(api.container, f"user{n}@example.com")).email)

    seen: list[str] = []
    page_sizes: list[int] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        response = await api.client.get(f"{API}/users", params=params, headers=api.admin.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [u["email"] for u in page["items"]]
        page_sizes.append(len(page["items"]))
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == created
    assert page_sizes == [3, 3, 3, 1]


async def test_list_users_pages_keep_their_filter(api: Api) -> None:
    await _people(api)

    first = await api.client.get(
        f"{API}/users", params={"department": "Sales", "limit": 1}, headers=api.admin.headers
    )
    second = await api.client.get(
        f"{API}/users",
        params={"department": "Sales", "limit": 1, "cursor": first.json()["next_cursor"]},
        headers=api.admin.headers,
    )

    assert [u["email"] for u in first.json()["items"]] == ["sam@example.com"]
    assert [u["email"] for u in second.json()["items"]] == ["old@example.com"]


# --- changing ---------------------------------------------------------------------------------


async def test_patch_changes_only_the_fields_sent(api: Api) -> None:
    url = f"{API}/users/{api.member.user_id}"
    before = (await api.client.get(url, headers=api.admin.headers)).json()

    response = await api.client.patch(
        url, json={"name": "Renamed", "access_level": 3}, headers=api.admin.headers
    )

    assert response.status_code == 200
    after = response.json()
    assert (after["name"], after["access_level"]) == ("Renamed", 3)
    unchanged = ("email", "department", "role", "is_active", "created_at")
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}
    assert instant(after["updated_at"]) > instant(before["updated_at"])
    assert (await api.client.get(url, headers=api.admin.headers)).json() == after


async def test_patch_records_user_updated_with_the_changes(api: Api) -> None:
    await api.client.patch(
        f"{API}/users/{api.member.user_id}", json={"role": "guest"}, headers=api.admin.headers
    )

    [event] = await recorded_events(api.container, "user.updated")
    assert event.subject_id == str(api.member.user_id)
    assert event.actor_id == api.admin.user_id
    assert event.data["changes"] == {"role": "guest"}


async def test_patch_with_department_null_clears_it(api: Api) -> None:
    response = await api.client.patch(
        f"{API}/users/{api.member.user_id}", json={"department": None}, headers=api.admin.headers
    )

    assert response.status_code == 200
    assert response.json()["department"] is None


async def test_patch_that_changes_nothing_writes_nothing(api: Api) -> None:
    before = await store_state(api.container)

    response = await api.client.patch(
        f"{API}/users/{api.member.user_id}",
        json={"department": "Engineering", "access_level": 2},
        headers=api.admin.headers,
    )

    assert response.status_code == 200
    assert await store_state(api.container) == before


async def test_patch_unknown_user_is_404(api: Api) -> None:
    response = await api.client.patch(
        f"{API}/users/00000000-0000-4000-8000-000000000000",
        json={"name": "Nobody"},
        headers=api.admin.headers,
    )

    assert_problem(response, 404)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"is_active": False}, id="deactivate"),
        pytest.param({"role": "member"}, id="demote to member"),
        pytest.param({"role": "guest", "is_active": False}, id="both"),
    ],
)
async def test_last_active_admin_cannot_deactivate_or_demote_themselves(
    api: Api, change: dict[str, Any]
) -> None:
    before = await store_state(api.container)

    response = await api.client.patch(
        f"{API}/users/{api.admin.user_id}", json=change, headers=api.admin.headers
    )

    assert_problem(response, 409)
    assert await store_state(api.container) == before
    assert (await api.client.get(f"{API}/me", headers=api.admin.headers)).status_code == 200


async def test_an_admin_can_step_down_while_another_active_admin_remains(api: Api) -> None:
    await make_user(api.container, "eve@example.com", role="admin")

    response = await api.client.patch(
        f"{API}/users/{api.admin.user_id}", json={"role": "member"}, headers=api.admin.headers
    )

    assert response.status_code == 200
    assert response.json()["role"] == "member"
