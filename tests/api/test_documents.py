"""Documents through the API: the trash, conditional requests, downloads, duplicates and tags
(issue #3, acceptance 6 and the routes' contracts)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from tests.api.conftest import (
    API,
    Api,
    Caller,
    assert_problem,
    blob_keys,
    make_user,
    recorded_events,
    uploaded,
)

D = f"{API}/documents"


async def listed(api: Api, caller: Caller, **params: Any) -> list[str]:
    response = await api.client.get(D, params=params, headers=caller.headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


# --- the trash -----------------------------------------------------------------------------------


async def test_a_trashed_document_disappears_for_everyone_but_its_owner(api: Api) -> None:
    doc = await uploaded(api, api.member, "memo.txt", b"a memo")
    reader = await make_user(api.container, "reader@example.com", access_level=3)

    deleted = await api.client.delete(f"{D}/{doc['id']}", headers=api.member.headers)

    assert deleted.status_code == 204
    assert_problem(await api.client.get(f"{D}/{doc['id']}", headers=reader.headers), 404)
    assert doc["id"] not in await listed(api, reader)
    assert doc["id"] not in await listed(api, reader, deleted="true")
    assert doc["id"] not in await listed(api, api.member)
    assert await listed(api, api.member, deleted="true") == [doc["id"]]


async def test_a_restored_document_comes_back(api: Api) -> None:
    doc = await uploaded(api, api.member, "memo.txt", b"a memo")
    await api.client.delete(f"{D}/{doc['id']}", headers=api.member.headers)

    restored = await api.client.post(f"{D}/{doc['id']}/restore", headers=api.member.headers)

    assert restored.status_code == 200
    assert restored.json()["deleted_at"] is None
    assert await listed(api, api.guest) == [doc["id"]]
    assert await listed(api, api.member, deleted="true") == []


async def test_purge_removes_the_row_and_its_unreferenced_blob(api: Api) -> None:
    doc = await uploaded(api, api.member, "memo.txt", b"a memo")
    blobs_before = await blob_keys(api.container)

    purged = await api.client.delete(
        f"{D}/{doc['id']}", params={"purge": "true"}, headers=api.member.headers
    )

    assert purged.status_code == 204
    assert_problem(await api.client.get(f"{D}/{doc['id']}", headers=api.admin.headers), 404)
    assert await listed(api, api.admin, deleted="true") == []
    assert len(blobs_before) == 1
    assert await blob_keys(api.container) == set()


async def test_a_blob_shared_by_two_documents_survives_the_purge_of_one(api: Api) -> None:
    first = await uploaded(api, api.member, "a.txt", b"the same bytes")
    second = await uploaded(api, api.admin, "b.txt", b"the same bytes", on_duplicate="allow")

    await api.client.delete(
        f"{D}/{first['id']}", params={"purge": "true"}, headers=api.member.headers
    )

    download = await api.client.get(f"{D}/{second['id']}/file", headers=api.admin.headers)
    assert download.status_code == 200
    assert download.content == b"the same bytes"
    assert len(await blob_keys(api.container)) == 1


# --- conditional requests ------------------------------------------------------------------------


async def test_a_document_carries_its_version_as_a_weak_etag(api: Api) -> None:
    doc = await uploaded(api, api.member, "memo.txt", b"a memo")

    response = await api.client.get(f"{D}/{doc['id']}", headers=api.member.headers)

    assert response.headers["etag"] == 'W/"1"'
    assert response.json()["content"] == "a memo"


async def test_patch_with_the_current_etag_applies_and_returns_the_next_one(api: Api) -> None:
    doc = await uploaded(api, api.member, "memo.txt", b"a memo")

    response = await api.client.patch(
        f"{D}/{doc['id']}",
        json={"title": "Renamed"},
        headers={**api.member.headers, "If-Match": 'W/"1"'},
    )

    assert response.status_code == 200
    assert response.headers["etag"] == 'W/"2"'
    assert response.json()["title"] == "Renamed"


async def test_patch_with_a_stale_etag_is_412_and_changes_nothing(api: Api) -> None:
    doc = await uploaded(api, api.member, "memo.txt", b"a memo")
    await api.client.patch(f"{D}/{doc['id']}", json={"title": "B"}, headers=api.member.headers)

    response = await api.client.patch(
        f"{D}/{doc['id']}",
        json={"title": "C"},
        headers={**api.member.headers, "If-Match": 'W/"1"'},
    )

    assert_problem(response, 412)
    current = await api.client.get(f"{D}/{doc['id']}", headers=api.member.headers)
    assert current.json()["title"] == "B"


async def test_delete_with_a_stale_etag_is_412(api: Api) -> None:
    doc = await uploaded(api, api.member, "memo.txt", b"a memo")

    response = await api.client.delete(
        f"{D}/{doc['id']}", headers={**api.member.headers, "If-Match": 'W/"7"'}
    )

    assert_problem(response, 412)
    assert await listed(api, api.member) == [doc["id"]]


async def test_a_malformed_if_match_is_400(api: Api) -> None:
    doc = await uploaded(api, api.member, "memo.txt", b"a memo")

    response = await api.client.patch(
        f"{D}/{doc['id']}",
        json={"title": "C"},
        headers={**api.member.headers, "If-Match": "version one"},
    )

    assert_problem(response, 400)


# --- downloads -----------------------------------------------------------------------------------


async def test_a_download_streams_the_original_bytes_with_a_utf8_filename(api: Api) -> None:
    doc = await uploaded(api, api.member, "Résumé 보고서.txt", "ünïcode text".encode())

    response = await api.client.get(f"{D}/{doc['id']}/file", headers=api.member.headers)

    assert response.status_code == 200
    assert response.content == "ünïcode text".encode()
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["etag"] == f'"{doc["sha256"]}"'
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="Resume .txt"')
    assert disposition.endswith("filename*=UTF-8''" + quote("Résumé 보고서.txt", safe=""))


async def test_a_download_is_recorded(api: Api) -> None:
    doc = await uploaded(api, api.member, "memo.txt", b"a memo")

    await api.client.get(f"{D}/{doc['id']}/file", headers=api.member.headers)

    [event] = await recorded_events(api.container, "document.downloaded")
    assert (event.subject_id, event.actor_id) == (doc["id"], api.member.user_id)


async def test_a_matching_if_none_match_is_304_without_a_body_and_still_recorded(
    api: Api,
) -> None:
    doc = await uploaded(api, api.member, "memo.txt", b"a memo")

    response = await api.client.get(
        f"{D}/{doc['id']}/file",
        headers={**api.member.headers, "If-None-Match": f'"{doc["sha256"]}"'},
    )

    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == f'"{doc["sha256"]}"'
    assert len(await recorded_events(api.container, "document.downloaded")) == 1


async def test_an_outdated_if_none_match_gets_the_file(api: Api) -> None:
    doc = await uploaded(api, api.member, "memo.txt", b"a memo")

    response = await api.client.get(
        f"{D}/{doc['id']}/file", headers={**api.member.headers, "If-None-Match": '"0000"'}
    )

    assert response.status_code == 200
    assert response.content == b"a memo"


# --- duplicates ----------------------------------------------------------------------------------


async def test_uploading_the_same_bytes_again_is_409_naming_the_readable_duplicate(
    api: Api,
) -> None:
    first = await uploaded(api, api.member, "a.txt", b"the same bytes")

    response = await api.client.post(
        D, files={"file": ("b.txt", b"the same bytes")}, headers=api.admin.headers
    )

    assert first["id"] in assert_problem(response, 409)["detail"]


async def test_a_duplicate_the_uploader_cannot_read_is_not_named(api: Api) -> None:
    await uploaded(api, api.admin, "secret.txt", b"the same bytes", access_level=3)
    low = await make_user(api.container, "low@example.com", access_level=1)

    response = await api.client.post(
        D, files={"file": ("mine.txt", b"the same bytes")}, headers=low.headers
    )

    assert response.status_code == 201, response.text


async def test_on_duplicate_allow_keeps_both_and_lists_them_as_duplicates(api: Api) -> None:
    first = await uploaded(api, api.member, "a.txt", b"the same bytes")
    second = await uploaded(api, api.member, "b.txt", b"the same bytes", on_duplicate="allow")

    response = await api.client.get(f"{D}/duplicates", headers=api.member.headers)

    [group] = response.json()["items"]
    assert {d["id"] for d in group["documents"]} == {first["id"], second["id"]}
    assert group["sha256"] == first["sha256"]


# --- tags ----------------------------------------------------------------------------------------


async def test_tagging_with_unknown_names_creates_the_tags(api: Api) -> None:
    doc = await uploaded(api, api.member, "memo.txt", b"a memo", tags=["Alpha", "beta"])

    tags = await api.client.get(f"{API}/tags", headers=api.guest.headers)

    assert doc["tags"] == ["Alpha", "beta"]
    assert [t["name"] for t in tags.json()["items"]] == ["Alpha", "beta"]


async def test_listing_by_tag_needs_every_tag(api: Api) -> None:
    both = await uploaded(api, api.member, "a.txt", b"a", tags=["x", "y"])
    await uploaded(api, api.member, "b.txt", b"b", tags=["x"])

    assert await listed(api, api.member, tag=["x", "Y"]) == [both["id"]]


async def test_tags_of_a_document_are_replaced_added_and_removed(api: Api) -> None:
    doc = await uploaded(api, api.member, "memo.txt", b"a memo", tags=["old"])
    url = f"{D}/{doc['id']}/tags"

    replaced = await api.client.put(url, json={"tags": ["new"]}, headers=api.member.headers)
    added = await api.client.post(url, json={"tags": ["more"]}, headers=api.member.headers)
    removed = await api.client.delete(f"{url}/NEW", headers=api.member.headers)

    assert replaced.json()["tags"] == ["new"]
    assert added.json()["tags"] == ["more", "new"]
    assert removed.status_code == 204
    current = await api.client.get(f"{D}/{doc['id']}", headers=api.member.headers)
    assert current.json()["tags"] == ["more"]


async def test_popular_tags_count_only_documents_the_caller_can_read(api: Api) -> None:
    await uploaded(api, api.admin, "open.txt", b"open", tags=["shared"])
    await uploaded(api, api.admin, "secret1.txt", b"s1", tags=["shared", "secret"], access_level=3)
    await uploaded(api, api.admin, "secret2.txt", b"s2", tags=["secret"], access_level=3)

    as_guest = await api.client.get(
        f"{API}/tags", params={"sort": "popular"}, headers=api.guest.headers
    )
    as_admin = await api.client.get(
        f"{API}/tags", params={"sort": "popular"}, headers=api.admin.headers
    )

    def counts(response: Any) -> dict[str, int]:
        return {
            t["name"]: t["document_count"] for t in response.json()["items"] if t["document_count"]
        }

    assert counts(as_guest) == {"shared": 1}
    assert counts(as_admin) == {"shared": 2, "secret": 2}


# --- creating from text, categories, file types, events ------------------------------------


async def test_a_document_is_created_from_text(api: Api) -> None:
    response = await api.client.post(
        f"{D}/text",
        json={"title": "Notes", "content": "# Heading", "document_type": "MARKDOWN"},
        headers=api.member.headers,
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["document_type"], body["extension"], body["content"]) == (
        "MARKDOWN",
        "md",
        "# Heading",
    )
    assert response.headers["location"] == f"{D}/{body['id']}"


async def test_listing_by_category_name(api: Api) -> None:
    created = await api.client.post(
        f"{API}/categories", json={"name": "Reports"}, headers=api.admin.headers
    )
    assert created.status_code == 201, created.text
    report = await uploaded(api, api.member, "r.txt", b"report", category="Reports")
    await uploaded(api, api.member, "o.txt", b"other")

    assert report["category_id"] == created.json()["id"]
    assert await listed(api, api.member, category="Reports") == [report["id"]]


async def test_listing_by_an_unknown_category_is_a_422(api: Api) -> None:
    response = await api.client.get(
        D, params={"category": "Nope", "tag": "also-unknown"}, headers=api.member.headers
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == ["category"]


async def test_the_events_of_a_document_are_its_audit_trail(api: Api) -> None:
    doc = await uploaded(api, api.member, "memo.txt", b"a memo")
    await api.client.get(f"{D}/{doc['id']}", headers=api.member.headers)

    response = await api.client.get(f"{D}/{doc['id']}/events", headers=api.member.headers)

    assert [e["action"] for e in response.json()["items"]] == [
        "document.viewed",
        "document.uploaded",
    ]


async def test_admins_filter_the_whole_audit_trail(api: Api) -> None:
    doc = await uploaded(api, api.member, "memo.txt", b"a memo")

    response = await api.client.get(
        f"{API}/events",
        params={"action": "document.uploaded", "actor_id": str(api.member.user_id)},
        headers=api.admin.headers,
    )

    assert [(e["action"], e["subject_id"]) for e in response.json()["items"]] == [
        ("document.uploaded", doc["id"])
    ]


async def test_file_types_list_the_upload_policy(api: Api) -> None:
    response = await api.client.get(f"{API}/file-types", headers=api.guest.headers)

    assert {t["extension"] for t in response.json()["items"]} >= {"pdf", "docx", "txt", "md"}
