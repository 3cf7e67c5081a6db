"""Taxonomy over HTTP (issue #4): versions, nodes, publishing, classification with
suggestions, review, subtree listing — on both storages."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import API, Api, assert_problem, uploaded


async def _taxonomy(api: Api) -> None:
    admin = api.admin.headers
    assert (
        await api.client.post(f"{API}/taxonomies", json={"version": "1.0.0"}, headers=admin)
    ).status_code == 201
    for path in ("AI", "AI/RAG", "AI/RAG/Retrieval", "AI/Agents", "Finance"):
        response = await api.client.post(
            f"{API}/taxonomies/1.0.0/nodes", json={"path": path}, headers=admin
        )
        assert response.status_code == 201, response.text
    published = await api.client.post(f"{API}/taxonomies/1.0.0/publish", headers=admin)
    assert published.json()["status"] == "published"


async def test_the_tree_reads_back_in_path_order(api: Api) -> None:
    await _taxonomy(api)
    response = await api.client.get(f"{API}/taxonomies/1.0.0/nodes", headers=api.member.headers)
    assert [n["path"] for n in response.json()["items"]] == [
        "AI",
        "AI/Agents",
        "AI/RAG",
        "AI/RAG/Retrieval",
        "Finance",
    ]


async def test_an_unknown_path_is_404_with_the_nearest_paths_first(api: Api) -> None:
    await _taxonomy(api)
    doc = await uploaded(api, api.member, "a.txt", b"hello")
    response = await api.client.post(
        f"{API}/documents/{doc['id']}/classifications",
        json={"path": "AI/RAGG", "confidence": 0.9},
        headers=api.member.headers,
    )
    body = assert_problem(response, 404)
    assert body["code"] == "taxonomy_node_not_found"
    assert body["suggestions"][:2] == ["AI/RAG", "AI"]
    assert len(body["suggestions"]) == 5


async def test_published_versions_refuse_changes_with_409(api: Api) -> None:
    await _taxonomy(api)
    response = await api.client.post(
        f"{API}/taxonomies/1.0.0/nodes", json={"path": "AI/New"}, headers=api.admin.headers
    )
    assert_problem(response, 409)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"path": "", "confidence": 0.5}, 422, "path"),
        ({"path": "AI/" + "x" * 101, "confidence": 0.5}, 422, "path"),
        ({"path": "AI", "confidence": 1.5}, 422, "confidence"),
        ({"path": "AI", "confidence": -0.1}, 422, "confidence"),
        ({"path": "AI", "confidence": "NaN"}, 422, "confidence"),
        ({"path": "AI", "confidence": 0.5, "version": "9.9.9"}, 404, None),
        ({"path": "AI", "confidence": 0.5, "extra": 1}, 422, "extra"),
    ],
)
async def test_bad_classifications_are_problems(
    api: Api, body: dict[str, Any], status: int, field: str | None
) -> None:
    await _taxonomy(api)
    doc = await uploaded(api, api.member, "a.txt", b"hello")
    response = await api.client.post(
        f"{API}/documents/{doc['id']}/classifications", json=body, headers=api.member.headers
    )
    problem = assert_problem(response, status)
    if field is not None:
        assert [e["field"] for e in problem["errors"]] == [field]


async def test_a_node_needs_its_parent(api: Api) -> None:
    await api.client.post(f"{API}/taxonomies", json={"version": "2.0"}, headers=api.admin.headers)
    response = await api.client.post(
        f"{API}/taxonomies/2.0/nodes", json={"path": "Missing/Child"}, headers=api.admin.headers
    )
    assert_problem(response, 422)


async def test_an_unknown_version_is_404(api: Api) -> None:
    response = await api.client.get(f"{API}/taxonomies/nope/nodes", headers=api.member.headers)
    assert_problem(response, 404)


async def test_upload_classifies_and_listing_takes_the_subtree(api: Api) -> None:
    await _taxonomy(api)
    deep = await uploaded(api, api.member, "deep.txt", b"deep", taxonomy_path="AI/RAG/Retrieval")
    await uploaded(api, api.member, "other.txt", b"other", taxonomy_path="Finance")
    response = await api.client.get(
        f"{API}/documents", params={"taxonomy": "AI/RAG"}, headers=api.member.headers
    )
    assert [d["id"] for d in response.json()["items"]] == [deep["id"]]
    classes = await api.client.get(
        f"{API}/documents/{deep['id']}/classifications", headers=api.member.headers
    )
    assert [c["path"] for c in classes.json()["items"]] == ["AI/RAG/Retrieval"]


async def test_an_upload_with_a_bad_taxonomy_path_creates_nothing(api: Api) -> None:
    await _taxonomy(api)
    response = await api.client.post(
        f"{API}/documents",
        files={"file": ("a.txt", b"hello", "text/plain")},
        data={"taxonomy_path": "AI/Nowhere"},
        headers=api.member.headers,
    )
    assert assert_problem(response, 404)["suggestions"]
    listing = await api.client.get(f"{API}/documents", headers=api.admin.headers)
    assert listing.json()["items"] == []


async def test_review_queue_and_approval(api: Api) -> None:
    await _taxonomy(api)
    doc = await uploaded(api, api.member, "a.txt", b"hello")
    created = await api.client.post(
        f"{API}/documents/{doc['id']}/classifications",
        json={"path": "AI", "confidence": 0.3, "hitl_required": True},
        headers=api.member.headers,
    )
    node_id = created.json()["node_id"]
    queue = await api.client.get(f"{API}/classifications/review", headers=api.member.headers)
    assert [c["node_id"] for c in queue.json()["items"]] == [node_id]
    approved = await api.client.post(
        f"{API}/documents/{doc['id']}/classifications/{node_id}/approve",
        headers=api.member.headers,
    )
    assert approved.json()["hitl_required"] is False
    again = await api.client.get(f"{API}/classifications/review", headers=api.member.headers)
    assert again.json()["items"] == []
    duplicate = await api.client.post(
        f"{API}/documents/{doc['id']}/classifications",
        json={"path": "AI", "confidence": 0.3},
        headers=api.member.headers,
    )
    assert_problem(duplicate, 409)
