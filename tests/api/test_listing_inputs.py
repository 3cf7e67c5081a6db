"""Human-friendly listing inputs (issue #13 item 7), on both storages: dates as instants,
document types in any case, descending title and size sorts whose cursors round-trip, unknown
query parameters refused, the category's name in listing items, and the `q` title filter."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.api.conftest import API, Api, Caller, assert_problem, uploaded

D = f"{API}/documents"


async def listing(api: Api, caller: Caller, **params: Any) -> list[dict[str, Any]]:
    response = await api.client.get(D, params=params, headers=caller.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def titles(api: Api, **params: Any) -> list[str]:
    return [item["title"] for item in await listing(api, api.admin, **params)]


async def text_doc(api: Api, title: str, content: str = "text", **fields: Any) -> Any:
    response = await api.client.post(
        f"{D}/text",
        json={"title": title, "content": content, "on_duplicate": "allow", **fields},
        headers=api.admin.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def all_pages(api: Api, **params: Any) -> tuple[list[dict[str, Any]], int]:
    """Every item, page after page, and how many pages it took."""
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await api.client.get(D, params=query, headers=api.admin.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        seen += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return seen, pages


# --- dates ---------------------------------------------------------------------------------------


async def test_a_bare_date_is_the_start_of_that_day_utc(api: Api) -> None:
    # The stepping clock starts at 2026-01-01T00:00Z; the second document a day later.
    first = await text_doc(api, "Day one")
    api.clock.advance(timedelta(days=1))
    second = await text_doc(api, "Day two")
    day_two = second["created_at"][:10]
    assert first["created_at"][:10] < day_two

    assert await titles(api, created_after=day_two) == ["Day two"]
    assert await titles(api, created_before=day_two) == ["Day one"]
    # A full RFC 3339 date-time still works.
    assert await titles(api, created_after=second["created_at"]) == ["Day two"]


@pytest.mark.parametrize("value", ["2026-02-30", "2026-1-31", "yesterday", "20260131"])
async def test_a_malformed_date_is_a_422_naming_the_parameter(api: Api, value: str) -> None:
    response = await api.client.get(D, params={"created_before": value}, headers=api.admin.headers)

    body = assert_problem(response, 422)
    assert [e["field"] for e in body["errors"]] == ["created_before"]


@pytest.mark.parametrize(("path", "name"), [("events", "since"), ("uploads", "until")])
async def test_the_audit_listings_take_a_date_too(api: Api, path: str, name: str) -> None:
    response = await api.client.get(
        f"{API}/{path}", params={name: "2026-01-31"}, headers=api.admin.headers
    )

    assert response.status_code == 200, response.text


# --- document type -------------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["markdown", "Markdown", "MARKDOWN"])
async def test_the_document_type_is_read_in_any_case(api: Api, spelling: str) -> None:
    await text_doc(api, "Notes", document_type="MARKDOWN")
    await text_doc(api, "Plain")

    assert await titles(api, document_type=spelling) == ["Notes"]


@pytest.mark.parametrize("value", ["pdfx", "", "ṕdf"])
async def test_an_unknown_document_type_is_a_422(api: Api, value: str) -> None:
    response = await api.client.get(D, params={"document_type": value}, headers=api.admin.headers)

    body = assert_problem(response, 422)
    assert [e["field"] for e in body["errors"]] == ["document_type"]


# --- sorts ---------------------------------------------------------------------------------------


async def test_titles_and_sizes_sort_descending_and_their_cursors_go_all_the_way(
    api: Api,
) -> None:
    # Ties on both columns: the id breaks them, and no page loses or repeats one.
    for title, content in [
        ("beta", "xx"),
        ("Alpha", "x"),
        ("gamma", "xxx"),
        ("beta", "xxxx"),
        ("Zulu", "xx"),
        ("alpha", "x"),
    ]:
        await text_doc(api, title, content)

    by_title, pages = await all_pages(api, sort="-title", limit=2)
    assert [i["title"] for i in by_title] == ["gamma", "beta", "beta", "alpha", "Zulu", "Alpha"]
    assert pages == 3  # byte order above: lower case after upper case
    ascending, _ = await all_pages(api, sort="title", limit=4)
    assert [i["id"] for i in ascending] == [i["id"] for i in by_title][::-1]

    one_page = await listing(api, api.admin, sort="-size_bytes")
    assert [i["size_bytes"] for i in one_page] == [4, 3, 2, 2, 1, 1]
    by_size, pages = await all_pages(api, sort="-size_bytes", limit=1)
    assert [i["id"] for i in by_size] == [i["id"] for i in one_page] and pages == 6
    smallest_first, _ = await all_pages(api, sort="size_bytes", limit=4)
    assert [i["id"] for i in smallest_first] == [i["id"] for i in one_page][::-1]


async def test_a_cursor_of_one_direction_is_refused_by_the_other(api: Api) -> None:
    for title in ("a", "b", "c"):
        await text_doc(api, title)
    first = await api.client.get(
        D, params={"sort": "-title", "limit": 1}, headers=api.admin.headers
    )
    cursor = first.json()["next_cursor"]

    response = await api.client.get(
        D, params={"sort": "title", "cursor": cursor}, headers=api.admin.headers
    )

    body = assert_problem(response, 422)
    assert [e["field"] for e in body["errors"]] == ["cursor"]


# --- unknown parameters --------------------------------------------------------------------------


async def test_an_unknown_query_parameter_is_a_422_naming_it(api: Api) -> None:
    await text_doc(api, "Report")

    response = await api.client.get(
        D, params={"title": "Report", "limit": 5, "colour": "red"}, headers=api.member.headers
    )

    body = assert_problem(response, 422)
    assert [e["field"] for e in body["errors"]] == ["title", "colour"]


@pytest.mark.parametrize(
    "path",
    ["users", "tokens", "events", "uploads", "tags", "categories", "file-types", "search/history"],
)
async def test_every_list_route_refuses_an_unknown_parameter(api: Api, path: str) -> None:
    response = await api.client.get(
        f"{API}/{path}", params={"nonsense": "1"}, headers=api.admin.headers
    )

    body = assert_problem(response, 422)
    assert [e["field"] for e in body["errors"]] == ["nonsense"]


async def test_declared_parameters_and_a_repeated_one_pass(api: Api) -> None:
    response = await api.client.get(
        D,
        params=[("tag", "a"), ("tag", "b"), ("limit", "5"), ("sort", "-size_bytes")],
        headers=api.admin.headers,
    )

    assert response.status_code == 200, response.text


async def test_the_unknown_parameter_check_still_lets_401_and_403_come_first(api: Api) -> None:
    anonymous = await api.client.get(f"{API}/users", params={"nonsense": "1"})
    member = await api.client.get(
        f"{API}/users", params={"nonsense": "1"}, headers=api.member.headers
    )

    assert (anonymous.status_code, member.status_code) == (401, 403)


# --- the category's name -------------------------------------------------------------------------


async def test_listing_items_carry_the_category_name(api: Api) -> None:
    for name in ("Reports", "Invoices"):
        created = await api.client.post(
            f"{API}/categories", json={"name": name}, headers=api.admin.headers
        )
        assert created.status_code == 201, created.text
    report = await uploaded(api, api.member, "r.txt", b"report", category="Reports")
    assert report["category"] == "Reports"  # the upload's answer too
    await uploaded(api, api.member, "o.txt", b"other")

    items = await listing(api, api.member, sort="title")
    assert [(i["title"], i["category"]) for i in items] == [("o", None), ("r", "Reports")]

    changed = await api.client.patch(
        f"{D}/{report['id']}", json={"category": "Invoices"}, headers=api.member.headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["category"] == "Invoices"
    items = await listing(api, api.member, category="Invoices")
    assert [(i["id"], i["category"]) for i in items] == [(report["id"], "Invoices")]
    cleared = await api.client.patch(
        f"{D}/{report['id']}", json={"category": None}, headers=api.member.headers
    )
    assert (cleared.json()["category_id"], cleared.json()["category"]) == (None, None)


# --- q: a part of the title ----------------------------------------------------------------------


async def test_q_finds_a_part_of_the_title_in_any_case(api: Api) -> None:
    for title in ("Quarterly Report", "report draft", "Invoice 2026", "Reporter notes"):
        await text_doc(api, title)

    assert await titles(api, q="REPORT", sort="title") == [
        "Quarterly Report",
        "Reporter notes",
        "report draft",
    ]
    assert await titles(api, q="ce 20") == ["Invoice 2026"]
    assert await titles(api, q="rt d") == ["report draft"]
    assert await titles(api, q="ep", sort="-title") == [
        "report draft",
        "Reporter notes",
        "Quarterly Report",
    ]
    assert await titles(api, q="nothing like it") == []


async def test_q_takes_like_wildcards_and_quotes_as_plain_characters(api: Api) -> None:
    for title in ("100% done", "1000 done", "a_b", "axb", "it's \\ here"):
        await text_doc(api, title)

    assert await titles(api, q="0%") == ["100% done"]
    assert await titles(api, q="%") == ["100% done"]
    assert await titles(api, q="a_b") == ["a_b"]
    assert await titles(api, q="_") == ["a_b"]
    assert await titles(api, q="'s \\") == ["it's \\ here"]


async def test_q_does_not_search_the_file_name(api: Api) -> None:
    await uploaded(api, api.admin, "scan-0042.txt", b"bytes", title="Lease")

    assert await titles(api, q="scan") == []
    assert await titles(api, q="lease") == ["Lease"]


async def test_an_empty_q_is_no_filter_and_a_long_one_is_a_422(api: Api) -> None:
    await text_doc(api, "Anything")

    assert await titles(api, q="  ") == ["Anything"]
    response = await api.client.get(D, params={"q": "x" * 101}, headers=api.admin.headers)
    assert response.status_code in (400, 422), response.text
    assert "q" in response.text
