"""`POST /documents/bulk` over HTTP, on both storages: the answer's shape, a result per
document without leaking what the caller cannot read, a filter carried on by cursor, and
requests refused whole (with nothing written). Every user x document outcome is proven at the
use case (`tests/contract/test_document_bulk.py`)."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from tests.api.conftest import API, Api, Caller, assert_problem, recorded_events, uploaded

BULK = f"{API}/documents/bulk"


async def bulk(api: Api, caller: Caller, body: dict[str, Any]) -> Any:
    response = await api.client.post(BULK, json=body, headers=caller.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_each_document_gets_its_own_result_and_nothing_unreadable_leaks(
    api: Api,
) -> None:
    mine = await uploaded(api, api.member, "mine.txt", b"mine")
    secret = await uploaded(api, api.admin, "secret.txt", b"secret", access_level=3)
    readable = await uploaded(api, api.admin, "public.txt", b"public")  # L1: read, not write
    stranger = str(uuid4())

    answer = await bulk(
        api,
        api.member,
        {
            "select": {"ids": [mine["id"], secret["id"], readable["id"], stranger, mine["id"]]},
            "edit": {"action": "add_tags", "tags": ["reviewed"]},
        },
    )

    outcomes = [(r["id"], r["outcome"]) for r in answer["results"]]
    assert outcomes == [
        (mine["id"], "changed"),
        (secret["id"], "not_found"),  # exactly as for an id that does not exist
        (readable["id"], "forbidden"),
        (stranger, "not_found"),
    ]
    assert answer["results"][0]["version"] == mine["version"] + 1
    assert answer["counts"] == {
        "changed": 1,
        "unchanged": 0,
        "not_found": 2,
        "forbidden": 1,
        "conflict": 0,
        "invalid": 0,
    }
    assert answer["next_cursor"] is None
    got = await api.client.get(f"{API}/documents/{mine['id']}", headers=api.member.headers)
    assert got.json()["tags"] == ["reviewed"]
    updated = await recorded_events(api.container, "document.updated")
    assert [str(e.subject_id) for e in updated] == [mine["id"]]


async def test_a_filter_trashes_what_the_listing_selects_in_pages_of_a_cursor(api: Api) -> None:
    tagged = [
        await uploaded(api, api.member, f"{n}.txt", f"doc {n}".encode(), tags=["old"])
        for n in range(3)
    ]
    kept = await uploaded(api, api.member, "kept.txt", b"kept", tags=["new"])

    answer = await bulk(
        api, api.member, {"select": {"filter": {"tag": ["old"]}}, "edit": {"action": "trash"}}
    )

    assert [r["id"] for r in answer["results"]] == [d["id"] for d in tagged]  # oldest first
    assert {r["outcome"] for r in answer["results"]} == {"changed"}
    listed = await api.client.get(f"{API}/documents", headers=api.member.headers)
    assert [d["id"] for d in listed.json()["items"]] == [kept["id"]]
    trash = await bulk(
        api,
        api.member,
        {"select": {"filter": {"tag": ["old"], "deleted": True}}, "edit": {"action": "restore"}},
    )
    assert trash["counts"]["changed"] == 3


async def test_classifying_an_unknown_path_is_the_404_with_suggestions(api: Api) -> None:
    admin = api.admin.headers
    await api.client.post(f"{API}/taxonomies", json={"version": "1.0.0"}, headers=admin)
    for path in ("AI", "AI/RAG"):
        await api.client.post(f"{API}/taxonomies/1.0.0/nodes", json={"path": path}, headers=admin)
    await api.client.post(f"{API}/taxonomies/1.0.0/publish", headers=admin)
    doc = await uploaded(api, api.member, "a.txt", b"hello")

    response = await api.client.post(
        BULK,
        json={"select": {"ids": [doc["id"]]}, "edit": {"action": "classify", "path": "AI/RAGG"}},
        headers=api.member.headers,
    )
    body = assert_problem(response, 404)
    assert body["code"] == "taxonomy_node_not_found"
    assert body["suggestions"][:2] == ["AI/RAG", "AI"]

    answer = await bulk(
        api,
        api.member,
        {"select": {"ids": [doc["id"]]}, "edit": {"action": "classify", "path": "AI/RAG"}},
    )
    assert answer["results"][0]["outcome"] == "changed"


TRASH = {"action": "trash"}
DOC = {"ids": ["{doc}"]}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        pytest.param({"edit": TRASH}, 422, id="no selection"),
        pytest.param({"select": {}, "edit": TRASH}, 422, id="neither ids nor filter"),
        pytest.param({"select": {**DOC, "filter": {}}, "edit": TRASH}, 422, id="both"),
        pytest.param({"select": {"ids": []}, "edit": TRASH}, 422, id="no ids"),
        pytest.param({"select": DOC}, 422, id="no edit"),
        pytest.param({"select": DOC, "edit": {"action": "burn"}}, 422, id="unknown action"),
        pytest.param({"select": {**DOC, "cursor": "x"}, "edit": TRASH}, 422, id="cursor, ids"),
        pytest.param({"select": DOC, "edit": {"action": "add_tags"}}, 422, id="no tags"),
        pytest.param(
            {"select": DOC, "edit": {"action": "add_tags", "tags": []}}, 422, id="empty tags"
        ),
        pytest.param(
            {"select": DOC, "edit": {"action": "trash", "tags": ["x"]}}, 422, id="stray tags"
        ),
        pytest.param(
            {"select": DOC, "edit": {"action": "set_category", "category": "Nope"}},
            422,
            id="unknown category",
        ),
        pytest.param(
            {"select": {"filter": {"created_after": "2026-01-01T00:00:00"}}, "edit": TRASH},
            422,
            id="naive instant",
        ),
        pytest.param(
            {"select": {"filter": {"colour": "red"}}, "edit": TRASH}, 422, id="unknown filter"
        ),
        pytest.param(
            {"select": {"ids": [str(uuid4()) for _ in range(1001)]}, "edit": TRASH},
            422,
            id="too many",
        ),
    ],
)
async def test_a_request_that_applies_to_no_document_is_refused_and_writes_nothing(
    api: Api, body: dict[str, Any], status: int
) -> None:
    doc = await uploaded(api, api.member, "a.txt", b"hello")
    select = body.get("select")
    if isinstance(select, dict) and "ids" in select:
        ids = [doc["id"] if i == "{doc}" else i for i in select["ids"]]
        body = {**body, "select": {**select, "ids": ids}}
    before = await recorded_events(api.container)

    response = await api.client.post(BULK, json=body, headers=api.member.headers)

    assert_problem(response, status)
    assert await recorded_events(api.container) == before
