"""Settings over HTTP: members read the public ones, admins read all and write, known keys keep
their type and range (SPEC §2.11)."""

from __future__ import annotations

from datetime import timedelta

from tests.api.conftest import API, Api, assert_problem, instant, recorded_events

KNOWN_KEYS = [
    "default_token_ttl_days",
    "event_retention_days",
    "job_log_retention_days",
    "search_retention_days",
    "trash_retention_days",
    "upload_retention_days",
]


async def _put_private_setting(api: Api) -> None:
    response = await api.client.put(
        f"{API}/settings/support_email",
        json={"value": "help@example.com", "type": "string", "description": "Who to ask"},
        headers=api.admin.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["is_public"] is False


async def _keys(api: Api, headers: dict[str, str]) -> list[str]:
    response = await api.client.get(f"{API}/settings", headers=headers)
    assert response.status_code == 200, response.text
    return [s["key"] for s in response.json()["items"]]


async def test_known_settings_show_their_defaults_before_anyone_writes_them(api: Api) -> None:
    response = await api.client.get(f"{API}/settings", headers=api.member.headers)

    values = {s["key"]: (s["value"], s["type"]) for s in response.json()["items"]}
    assert values == {
        "default_token_ttl_days": (90, "integer"),
        "event_retention_days": (365, "integer"),
        "job_log_retention_days": (30, "integer"),
        "search_retention_days": (90, "integer"),
        "trash_retention_days": (30, "integer"),
        "upload_retention_days": (365, "integer"),
    }


async def test_member_lists_only_public_settings(api: Api) -> None:
    await _put_private_setting(api)

    assert await _keys(api, api.member.headers) == KNOWN_KEYS


async def test_admin_lists_every_setting_ordered_by_key(api: Api) -> None:
    await _put_private_setting(api)

    assert await _keys(api, api.admin.headers) == sorted([*KNOWN_KEYS, "support_email"])


async def test_private_setting_is_404_to_a_member_and_readable_by_an_admin(api: Api) -> None:
    await _put_private_setting(api)
    url = f"{API}/settings/support_email"

    assert_problem(await api.client.get(url, headers=api.member.headers), 404)
    response = await api.client.get(url, headers=api.admin.headers)
    assert (response.json()["value"], response.json()["type"]) == ("help@example.com", "string")


async def test_unknown_setting_is_404(api: Api) -> None:
    response = await api.client.get(f"{API}/settings/no_such_thing", headers=api.admin.headers)

    assert_problem(response, 404)


async def test_admin_changes_a_known_setting_and_everyone_reads_the_new_value(api: Api) -> None:
    response = await api.client.put(
        f"{API}/settings/search_retention_days", json={"value": 30}, headers=api.admin.headers
    )

    assert response.status_code == 200
    assert (response.json()["value"], response.json()["type"]) == (30, "integer")
    read = await api.client.get(f"{API}/settings/search_retention_days", headers=api.member.headers)
    assert read.json()["value"] == 30


async def test_changing_a_setting_records_setting_updated_with_old_and_new_value(
    api: Api,
) -> None:
    await api.client.put(
        f"{API}/settings/trash_retention_days", json={"value": 7}, headers=api.admin.headers
    )

    [event] = await recorded_events(api.container, "setting.updated")
    assert (event.subject_id, event.actor_id) == ("trash_retention_days", api.admin.user_id)
    assert event.data == {"old": None, "new": 7}


async def test_default_token_ttl_setting_sets_the_lifetime_of_new_tokens(api: Api) -> None:
    await api.client.put(
        f"{API}/settings/default_token_ttl_days", json={"value": 14}, headers=api.admin.headers
    )

    token = (
        await api.client.post(f"{API}/tokens", json={"name": "t"}, headers=api.member.headers)
    ).json()

    assert instant(token["expires_at"]) - instant(token["created_at"]) == timedelta(days=14)
