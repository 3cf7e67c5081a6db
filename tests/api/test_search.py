"""Search over HTTP (issue #5), on both storages."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import API, Api, assert_problem, uploaded


async def _corpus(api: Api) -> dict[str, Any]:
    return {
        "public": await uploaded(api, api.admin, "p.txt", b"Vector search with embeddings."),
        "secret": await uploaded(
            api, api.admin, "s.txt", b"Secret vector strategy.", access_level=3
        ),
        "korean": await uploaded(api, api.admin, "k.txt", "한국어 검색 문서".encode()),
    }


async def test_search_finds_what_the_caller_may_read(api: Api) -> None:
    docs = await _corpus(api)
    member = await api.client.post(
        f"{API}/search", json={"query": "vector"}, headers=api.member.headers
    )
    admin = await api.client.post(
        f"{API}/search", json={"query": "vector"}, headers=api.admin.headers
    )
    assert member.status_code == 200
    assert [r["document_id"] for r in member.json()["results"]] == [docs["public"]["id"]]
    assert {r["document_id"] for r in admin.json()["results"]} == {
        docs["public"]["id"],
        docs["secret"]["id"],
    }
    assert "strategy" not in member.json()["answer"].lower()


async def test_korean_words_and_prefixes_match(api: Api) -> None:
    docs = await _corpus(api)
    for query in ("검색", "한국어 문", "embedd"):
        response = await api.client.post(
            f"{API}/search", json={"query": query}, headers=api.member.headers
        )
        assert response.json()["results"], query
    hit = await api.client.post(f"{API}/search", json={"query": "검색"}, headers=api.member.headers)
    assert hit.json()["results"][0]["document_id"] == docs["korean"]["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"query": ""}, "query"),
        ({"query": "x" * 10_000}, "query"),
        ({"query": "x", "limit": 0}, "limit"),
        ({"query": "x", "limit": 51}, "limit"),
        ({"query": "x", "filters": {"colour": "red"}}, "filters.colour"),
        ({"query": "x", "unknown": 1}, "unknown"),
    ],
)
async def test_bad_searches_are_422(api: Api, body: dict[str, Any], field: str) -> None:
    response = await api.client.post(f"{API}/search", json=body, headers=api.member.headers)
    problem = assert_problem(response, 422)
    assert [e["field"] for e in problem["errors"]] == [field]


@pytest.mark.parametrize("query", ["!!!", "OR", "- -", '""'])
async def test_operators_alone_give_an_empty_result(api: Api, query: str) -> None:
    await _corpus(api)
    response = await api.client.post(
        f"{API}/search", json={"query": query}, headers=api.member.headers
    )
    assert response.status_code == 200
    assert (response.json()["results"], response.json()["answer"]) == ([], "")


async def test_feedback_history_and_analytics(api: Api) -> None:
    await _corpus(api)
    searched = await api.client.post(
        f"{API}/search", json={"query": "vector"}, headers=api.member.headers
    )
    query_id = searched.json()["query_id"]
    other = await api.client.post(
        f"{API}/search/{query_id}/feedback", json={"rating": 5}, headers=api.admin.headers
    )
    assert_problem(other, 404)
    for rating in (0, 6):
        bad = await api.client.post(
            f"{API}/search/{query_id}/feedback", json={"rating": rating}, headers=api.member.headers
        )
        assert_problem(bad, 422)
    await api.client.post(
        f"{API}/search/{query_id}/feedback", json={"rating": 2}, headers=api.member.headers
    )
    await api.client.post(
        f"{API}/search/{query_id}/feedback", json={"rating": 4}, headers=api.member.headers
    )
    history = await api.client.get(f"{API}/search/history", headers=api.member.headers)
    assert [(h["query"], h["rating"]) for h in history.json()["items"]] == [("vector", 4)]
    analytics = await api.client.get(
        f"{API}/analytics/search", params={"days": 30}, headers=api.admin.headers
    )
    body = analytics.json()
    assert (body["total_queries"], body["average_rating"]) == (1, 4.0)
    assert body["top_queries"] == [{"query": "vector", "count": 1}]
    forbidden = await api.client.get(f"{API}/analytics/search", headers=api.member.headers)
    assert_problem(forbidden, 403)


async def test_pages_facets_similar_and_relaxed_over_http(api: Api) -> None:
    docs = await _corpus(api)
    for i in range(3):
        await uploaded(api, api.admin, f"v{i}.txt", f"vector notes {i}".encode())
    first = await api.client.post(
        f"{API}/search",
        json={"query": "vector embeddings", "limit": 2, "facets": True},
        headers=api.member.headers,
    )
    body = first.json()
    assert first.status_code == 200 and body["total"] == 4 and body["next_cursor"]
    assert body["facets"]["document_type"] == [{"value": "TXT", "count": 4}]
    assert body["relaxed"] is False
    rest = await api.client.post(
        f"{API}/search",
        json={"query": "vector embeddings", "limit": 2, "cursor": body["next_cursor"]},
        headers=api.member.headers,
    )
    assert rest.json()["next_cursor"] is None and rest.json()["facets"] is None
    ids = [r["document_id"] for r in body["results"] + rest.json()["results"]]
    assert len(set(ids)) == 4 and docs["secret"]["id"] not in ids
    other = await api.client.post(
        f"{API}/search",
        json={"query": "vector", "cursor": body["next_cursor"]},
        headers=api.member.headers,
    )
    assert_problem(other, 422)
    assert "cursor" in other.text
    relaxed = await api.client.post(
        f"{API}/search", json={"query": '"embeddings vector"'}, headers=api.member.headers
    )
    assert relaxed.json()["relaxed"] is True and relaxed.json()["results"]
    similar = await api.client.get(
        f"{API}/documents/{docs['public']['id']}/similar", headers=api.member.headers
    )
    assert similar.status_code == 200
    assert docs["public"]["id"] not in [r["document_id"] for r in similar.json()["results"]]
    hidden = await api.client.get(
        f"{API}/documents/{docs['secret']['id']}/similar", headers=api.member.headers
    )
    assert_problem(hidden, 404)
