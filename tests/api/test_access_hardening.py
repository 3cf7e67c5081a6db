"""Issue #9, items 4, 5 and 7, on both storages: a write grant cannot reclassify, a delete grant
sees and restores the trashed document it is on, and history and audit trails show only what
the caller may see now."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import API, PROBLEM_JSON, Api, Caller, make_user, recorded_events

D = f"{API}/documents"


async def _text(api: Api, caller: Caller, **fields: Any) -> Any:
    body = {"title": "Plan", "content": "the quarterly plan for widgets", **fields}
    response = await api.client.post(f"{D}/text", json=body, headers=caller.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def _grant(api: Api, doc_id: str, user: Caller, access: str) -> None:
    response = await api.client.put(
        f"{D}/{doc_id}/permissions/{user.user_id}",
        json={"access": access},
        headers=api.admin.headers,
    )
    assert response.status_code == 200, response.text


# --- 4. a write grant cannot reclassify ----------------------------------------------------------


async def _classified(api: Api) -> tuple[Any, Caller]:
    doc = await _text(api, api.admin, access_level=3, department="Management")
    writer = await make_user(api.container, "writer@example.com", department="B", access_level=1)
    await _grant(api, doc["id"], writer, "write")
    return doc, writer


async def test_a_write_grantee_cannot_declassify_a_document(api: Api) -> None:
    doc, writer = await _classified(api)
    before = await recorded_events(api.container, "document.updated")

    response = await api.client.patch(
        f"{D}/{doc['id']}", json={"access_level": 1, "department": None}, headers=writer.headers
    )
    after = await api.client.get(f"{D}/{doc['id']}", headers=api.admin.headers)

    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert (after.json()["access_level"], after.json()["department"]) == (3, "Management")
    assert after.json()["version"] == doc["version"]
    assert await recorded_events(api.container, "document.updated") == before


async def test_a_write_grantee_cannot_change_level_or_department_even_within_clearance(
    api: Api,
) -> None:
    doc = await _text(api, api.admin, access_level=3, department="Management")
    writer = await make_user(
        api.container, "manager@example.com", department="Management", access_level=3
    )
    await _grant(api, doc["id"], writer, "write")
    for change in ({"access_level": 2}, {"access_level": 3, "department": None}):
        response = await api.client.patch(
            f"{D}/{doc['id']}", json={"title": "x", **change}, headers=writer.headers
        )
        assert response.status_code == 403, (change, response.text)
    after = await api.client.get(f"{D}/{doc['id']}", headers=api.admin.headers)
    assert after.json()["title"] == "Plan"


async def test_a_write_grantee_edits_fields_and_may_resend_the_current_classification(
    api: Api,
) -> None:
    doc, writer = await _classified(api)

    response = await api.client.patch(
        f"{D}/{doc['id']}",
        json={"title": "Renamed", "access_level": 3, "department": "Management"},
        headers=writer.headers,
    )

    assert response.status_code == 200, response.text
    assert (response.json()["title"], response.json()["access_level"]) == ("Renamed", 3)


async def test_the_owner_may_still_reclassify_within_their_clearance(api: Api) -> None:
    doc = await _text(api, api.member, access_level=2, department="Engineering")

    response = await api.client.patch(
        f"{D}/{doc['id']}", json={"access_level": 1, "department": None}, headers=api.member.headers
    )

    assert response.status_code == 200, response.text
    assert (response.json()["access_level"], response.json()["department"]) == (1, None)


# --- 5. a delete grant reaches the trash ---------------------------------------------------------


async def test_a_delete_grantee_sees_and_restores_a_trashed_document(api: Api) -> None:
    doc = await _text(api, api.admin, access_level=3, department="Management")
    deleter = await make_user(api.container, "deleter@example.com", department="B")
    reader = await make_user(api.container, "reader@example.com", department="B")
    await _grant(api, doc["id"], deleter, "delete")
    await _grant(api, doc["id"], reader, "write")
    trashed = await api.client.delete(f"{D}/{doc['id']}", headers=deleter.headers)
    assert trashed.status_code == 204, trashed.text

    trash = await api.client.get(D, params={"deleted": "true"}, headers=deleter.headers)
    by_id = await api.client.get(f"{D}/{doc['id']}", headers=deleter.headers)
    writers_trash = await api.client.get(D, params={"deleted": "true"}, headers=reader.headers)
    writers_view = await api.client.get(f"{D}/{doc['id']}", headers=reader.headers)
    restored = await api.client.post(f"{D}/{doc['id']}/restore", headers=deleter.headers)

    assert [d["id"] for d in trash.json()["items"]] == [doc["id"]]
    assert by_id.status_code == 200 and by_id.json()["deleted_at"] is not None
    assert writers_trash.json()["items"] == []
    assert writers_view.status_code == 404
    assert restored.status_code == 200, restored.text
    assert restored.json()["deleted_at"] is None


# --- 7. history and events ---------------------------------------------------------------------


async def test_history_hides_sources_and_answer_the_searcher_can_no_longer_read(api: Api) -> None:
    secret = await _text(
        api, api.admin, title="Zebra secret", content="zebra stripes", access_level=3
    )
    public = await _text(api, api.admin, title="Zebra public", content="zebra zebra crossing")
    await _grant(api, secret["id"], api.member, "read")
    searched = await api.client.post(
        f"{API}/search", json={"query": "zebra"}, headers=api.member.headers
    )
    hits = [r["document_id"] for r in searched.json()["results"]]
    assert set(hits) == {secret["id"], public["id"]}
    top_hit = hits[0]

    revoked = await api.client.delete(
        f"{D}/{secret['id']}/permissions/{api.member.user_id}", headers=api.admin.headers
    )
    assert revoked.status_code == 204
    history = await api.client.get(f"{API}/search/history", headers=api.member.headers)
    admin_view = await api.client.get(
        f"{API}/search/history",
        params={"user_id": str(api.member.user_id)},
        headers=api.admin.headers,
    )

    [entry] = history.json()["items"]
    assert [s["document_id"] for s in entry["sources"]] == [public["id"]]
    assert "secret" not in str(entry).lower()
    assert entry["answer"] == ("" if top_hit == secret["id"] else searched.json()["answer"])
    [seen_by_admin] = admin_view.json()["items"]
    assert {s["document_id"] for s in seen_by_admin["sources"]} == set(hits)


async def test_history_blanks_the_answer_when_the_top_source_is_gone(api: Api) -> None:
    doc = await _text(api, api.member, title="Okapi", content="okapi forest notes")
    searched = await api.client.post(
        f"{API}/search", json={"query": "okapi"}, headers=api.member.headers
    )
    assert searched.json()["answer"] != ""
    purged = await api.client.delete(
        f"{D}/{doc['id']}", params={"purge": "true"}, headers=api.member.headers
    )
    assert purged.status_code == 204

    history = await api.client.get(f"{API}/search/history", headers=api.member.headers)

    [entry] = history.json()["items"]
    assert (entry["answer"], entry["sources"], entry["result_count"]) == ("", [], 1)


async def test_only_admins_and_the_owner_see_where_other_readers_came_from(api: Api) -> None:
    doc = await _text(api, api.member)
    reader = await make_user(api.container, "reader@example.com")
    await _grant(api, doc["id"], reader, "read")
    await api.client.get(
        f"{D}/{doc['id']}", headers={**reader.headers, "User-Agent": "reader-agent/1"}
    )

    seen: dict[str, list[tuple[Any, Any]]] = {}
    for name, caller in (("reader", reader), ("owner", api.member), ("admin", api.admin)):
        response = await api.client.get(f"{D}/{doc['id']}/events", headers=caller.headers)
        assert response.status_code == 200, response.text
        seen[name] = [(e["client_ip"], e["user_agent"]) for e in response.json()["items"]]

    assert "reader-agent/1" in {agent for _, agent in seen["owner"]}
    assert seen["admin"] == seen["owner"]
    assert len(seen["reader"]) == len(seen["owner"])
    assert all(pair == (None, None) for pair in seen["reader"])
