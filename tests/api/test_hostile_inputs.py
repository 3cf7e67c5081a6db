"""The hostile inputs of issue #9, one row each: every one is a 4xx problem with a `code`,
never a 500, and nothing is written (SPEC principle 7). Run on both storages.

The generated counterpart (hypothesis combining such values with every input slot) is
`test_hostile_property.py`; the bound on JSON values itself is unit-tested in
`tests/unit/test_json_values.py`."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from litestar.routes import HTTPRoute

from domain.document_ports import DocumentFilter, DocumentSort
from domain.events import Event
from domain.pagination import MAX_LIMIT, PageRequest
from domain.search import SearchQueryLog, SearchResponseLog
from domain.settings import Setting, SettingType
from tests.api.conftest import (
    API,
    Api,
    assert_problem,
    blob_keys,
    store_state,
)


def nested(depth: int) -> dict[str, Any]:
    """A JSON object `depth` levels deep: {"a": {"a": ... {} }}."""
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def nested_text(depth: int) -> str:
    """The same as text, for depths no JSON encoder of this process would write."""
    return '{"a":' * (depth - 1) + "{}" + "}" * (depth - 1)


def cursor_of(raw: object) -> str:
    """A cursor as the service encodes them (url-safe base64 of JSON), with any content."""
    text = raw if isinstance(raw, str) else json.dumps(raw)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


LATE = "9999-12-31T23:59:59-12:00"  # year 10000 in UTC
EARLY = "0001-01-01T00:00:00+14:00"  # year 0 in UTC
NUL = "a\x00b"
TEXT_DOC = {"title": "A title", "content": "Some words"}
SEED_DOC = {"title": "Seed", "content": "The document the table's changes aim at"}
BIGINT_PAST = 2**63  # one past PostgreSQL's bigint


@dataclass(frozen=True)
class Hostile:
    """One request. `json` is a JSON body, `raw` a body sent as is (with `content_type`),
    `form` multipart fields beside a small text file. `{doc}` in the path is a document the
    admin owns."""

    method: str
    path: str
    status: int
    field: str | None = None  # a 422 names it in `errors`
    json: Any = None
    query: dict[str, str] | None = None
    raw: bytes | None = None
    content_type: str = "application/json"
    form: dict[str, str] | None = None


def case(id_: str, *args: Any, **kwargs: Any) -> Any:
    return pytest.param(Hostile(*args, **kwargs), id=id_)


HOSTILE = [
    # --- 1. deep and oversized JSON values --------------------------------------------------
    case(
        "text doc metadata 300 deep",
        "POST",
        "/documents/text",
        422,
        "metadata",
        json={**TEXT_DOC, "metadata": nested(300)},
    ),
    case(
        "text doc metadata 21 deep",
        "POST",
        "/documents/text",
        422,
        "metadata",
        json={**TEXT_DOC, "metadata": nested(21)},
    ),
    case(
        "text doc metadata 1001 keys",
        "POST",
        "/documents/text",
        422,
        "metadata",
        json={**TEXT_DOC, "metadata": {f"k{i}": i for i in range(1001)}},
    ),
    case(
        "text doc metadata 1001 list items",
        "POST",
        "/documents/text",
        422,
        "metadata",
        json={**TEXT_DOC, "metadata": {"k": list(range(1001))}},
    ),
    case(
        "text doc metadata long string",
        "POST",
        "/documents/text",
        422,
        "metadata",
        json={**TEXT_DOC, "metadata": {"k": "x" * 10_001}},
    ),
    case(
        "text doc metadata long key",
        "POST",
        "/documents/text",
        422,
        "metadata",
        json={**TEXT_DOC, "metadata": {"k" * 256: 1}},
    ),
    case(
        "text doc metadata huge integer",
        "POST",
        "/documents/text",
        422,
        "metadata",
        json={**TEXT_DOC, "metadata": {"k": 10**30}},
    ),
    case(
        "text doc body 1500 deep",
        "POST",
        "/documents/text",
        400,
        raw=('{"title": "t", "content": "c", "metadata": ' + nested_text(1500) + "}").encode(),
    ),
    case(
        "text doc body 100000 deep array",
        "POST",
        "/documents/text",
        400,
        raw=b"[" * 100_000 + b"]" * 100_000,
    ),
    case(
        "upload metadata 300 deep",
        "POST",
        "/documents",
        422,
        "metadata",
        form={"metadata": json.dumps(nested(300))},
    ),
    case(
        "upload metadata 1500 deep",
        "POST",
        "/documents",
        422,
        "metadata",
        form={"metadata": nested_text(1500)},
    ),
    case(
        "patch metadata 300 deep",
        "PATCH",
        "/documents/{doc}",
        422,
        "metadata",
        json={"metadata": nested(300)},
    ),
    case(
        "search filter metadata 300 deep",
        "POST",
        "/search",
        422,
        "metadata",
        json={"query": "words", "filters": {"metadata": nested(300)}},
    ),
    case(
        "list metadata filter 100 deep",
        "GET",
        "/documents",
        422,
        "metadata",
        query={"metadata": json.dumps(nested(100), separators=(",", ":"))},
    ),
    case(
        "setting json value 300 deep",
        "PUT",
        "/settings/hostile.json",
        422,
        "value",
        json={"value": nested(300), "type": "json"},
    ),
    case(
        "setting json value 1001 items",
        "PUT",
        "/settings/hostile.json",
        422,
        "value",
        json={"value": list(range(1001)), "type": "json"},
    ),
    # --- 2. instants PostgreSQL cannot hold -------------------------------------------------
    case(
        "list created_after late",
        "GET",
        "/documents",
        422,
        "created_after",
        query={"created_after": LATE},
    ),
    case(
        "list created_before early",
        "GET",
        "/documents",
        422,
        "created_before",
        query={"created_before": EARLY},
    ),
    case("events since late", "GET", "/events", 422, "since", query={"since": LATE}),
    case("events until early", "GET", "/events", 422, "until", query={"until": EARLY}),
    case(
        "search created_after late",
        "POST",
        "/search",
        422,
        "created_after",
        json={"query": "words", "filters": {"created_after": LATE}},
    ),
    case(
        "search created_before early",
        "POST",
        "/search",
        422,
        "created_before",
        json={"query": "words", "filters": {"created_before": EARLY}},
    ),
    # --- 2. crafted cursors -----------------------------------------------------------------
    case(
        "documents cursor late",
        "GET",
        "/documents",
        422,
        "cursor",
        query={"cursor": cursor_of(["-created_at", "t", LATE, str(uuid4())])},
    ),
    case(
        "documents cursor early",
        "GET",
        "/documents",
        422,
        "cursor",
        query={"sort": "created_at", "cursor": cursor_of(["created_at", "t", EARLY, str(uuid4())])},
    ),
    case(
        "documents cursor of another kind",
        "GET",
        "/documents",
        422,
        "cursor",
        query={"cursor": cursor_of(["-created_at", "i", 5, str(uuid4())])},
    ),
    case(
        "documents size cursor past bigint",
        "GET",
        "/documents",
        422,
        "cursor",
        query={
            "sort": "size_bytes",
            "cursor": cursor_of(["size_bytes", "i", BIGINT_PAST, str(uuid4())]),
        },
    ),
    case(
        "documents title cursor with NUL",
        "GET",
        "/documents",
        422,
        "cursor",
        query={"sort": "title", "cursor": cursor_of(["title", "s", NUL, str(uuid4())])},
    ),
    case(
        "documents cursor garbage",
        "GET",
        "/documents",
        422,
        "cursor",
        query={"cursor": "!!!not-base64"},
    ),
    case(
        "documents cursor nested json",
        "GET",
        "/documents",
        422,
        "cursor",
        query={"cursor": cursor_of("[" * 400)},
    ),
    case(
        "users cursor late",
        "GET",
        "/users",
        422,
        "cursor",
        query={"cursor": cursor_of([LATE, str(uuid4())])},
    ),
    case(
        "tokens cursor early",
        "GET",
        "/tokens",
        422,
        "cursor",
        query={"cursor": cursor_of([EARLY, str(uuid4())])},
    ),
    case(
        "events cursor past bigint",
        "GET",
        "/events",
        422,
        "cursor",
        query={"cursor": cursor_of(f"s{BIGINT_PAST}")},
    ),
    case(
        "search history cursor late",
        "GET",
        "/search/history",
        422,
        "cursor",
        query={"cursor": cursor_of(["-timestamp", "t", LATE, str(uuid4())])},
    ),
    case(
        "search history cursor of another kind",
        "GET",
        "/search/history",
        422,
        "cursor",
        query={"cursor": cursor_of(["-timestamp", "s", "x", str(uuid4())])},
    ),
    case(
        "review queue cursor early",
        "GET",
        "/classifications/review",
        422,
        "cursor",
        query={"cursor": cursor_of([EARLY, str(uuid4()), str(uuid4())])},
    ),
    case(
        "document events cursor past bigint",
        "GET",
        "/documents/{doc}/events",
        422,
        "cursor",
        query={"cursor": cursor_of(f"s{BIGINT_PAST}")},
    ),
    # --- 2. NUL characters in query parameters ----------------------------------------------
    case("list department NUL", "GET", "/documents", 422, "department", query={"department": NUL}),
    case("list category NUL", "GET", "/documents", 422, "category", query={"category": NUL}),
    case("list tag NUL", "GET", "/documents", 422, "tag", query={"tag": NUL}),
    case("list taxonomy NUL", "GET", "/documents", 422, "taxonomy", query={"taxonomy": NUL}),
    case(
        "list taxonomy_version NUL",
        "GET",
        "/documents",
        422,
        "taxonomy_version",
        query={"taxonomy": "A", "taxonomy_version": NUL},
    ),
    case(
        "list metadata NUL",
        "GET",
        "/documents",
        422,
        "metadata",
        query={"metadata": '{"k": "a\\u0000b"}'},
    ),
    case("events action NUL", "GET", "/events", 422, "action", query={"action": NUL}),
    case(
        "events subject_type NUL",
        "GET",
        "/events",
        422,
        "subject_type",
        query={"subject_type": NUL},
    ),
    case("events subject_id NUL", "GET", "/events", 422, "subject_id", query={"subject_id": NUL}),
    case("users department NUL", "GET", "/users", 422, "department", query={"department": NUL}),
    # --- 2. NUL characters in JSON fields ---------------------------------------------------
    case(
        "text doc title NUL",
        "POST",
        "/documents/text",
        422,
        "title",
        json={**TEXT_DOC, "title": NUL},
    ),
    case(
        "text doc content NUL",
        "POST",
        "/documents/text",
        422,
        "content",
        json={**TEXT_DOC, "content": NUL},
    ),
    case(
        "text doc source NUL",
        "POST",
        "/documents/text",
        422,
        "source",
        json={**TEXT_DOC, "source": NUL},
    ),
    case(
        "text doc category NUL",
        "POST",
        "/documents/text",
        422,
        "category",
        json={**TEXT_DOC, "category": NUL},
    ),
    case(
        "text doc department NUL",
        "POST",
        "/documents/text",
        422,
        "department",
        json={**TEXT_DOC, "department": NUL},
    ),
    case(
        "text doc tag NUL", "POST", "/documents/text", 422, "tags", json={**TEXT_DOC, "tags": [NUL]}
    ),
    case(
        "text doc taxonomy path NUL",
        "POST",
        "/documents/text",
        422,
        "taxonomy_path",
        json={**TEXT_DOC, "taxonomy_path": NUL},
    ),
    case(
        "text doc taxonomy version NUL",
        "POST",
        "/documents/text",
        422,
        "taxonomy_version",
        json={**TEXT_DOC, "taxonomy_path": "A", "taxonomy_version": NUL},
    ),
    case(
        "text doc metadata string NUL",
        "POST",
        "/documents/text",
        422,
        "metadata",
        json={**TEXT_DOC, "metadata": {"k": NUL}},
    ),
    case(
        "text doc metadata key NUL",
        "POST",
        "/documents/text",
        422,
        "metadata",
        json={**TEXT_DOC, "metadata": {NUL: 1}},
    ),
    case("upload title NUL", "POST", "/documents", 422, "title", form={"title": NUL}),
    case("upload category NUL", "POST", "/documents", 422, "category", form={"category": NUL}),
    case("upload source NUL", "POST", "/documents", 422, "source", form={"source": NUL}),
    case(
        "upload taxonomy path NUL",
        "POST",
        "/documents",
        422,
        "taxonomy_path",
        form={"taxonomy_path": NUL},
    ),
    case(
        "upload department NUL", "POST", "/documents", 422, "department", form={"department": NUL}
    ),
    case("upload tag NUL", "POST", "/documents", 422, "tags", form={"tags": NUL}),
    case(
        "upload metadata NUL",
        "POST",
        "/documents",
        422,
        "metadata",
        form={"metadata": '{"k": "a\\u0000b"}'},
    ),
    case("patch title NUL", "PATCH", "/documents/{doc}", 422, "title", json={"title": NUL}),
    case(
        "patch category NUL", "PATCH", "/documents/{doc}", 422, "category", json={"category": NUL}
    ),
    case("patch source NUL", "PATCH", "/documents/{doc}", 422, "source", json={"source": NUL}),
    case(
        "patch metadata NUL",
        "PATCH",
        "/documents/{doc}",
        422,
        "metadata",
        json={"metadata": {"k": [NUL]}},
    ),
    case("put tags NUL", "PUT", "/documents/{doc}/tags", 422, "tags", json={"tags": [NUL]}),
    case("add tags NUL", "POST", "/documents/{doc}/tags", 422, "tags", json={"tags": [NUL]}),
    case("search query NUL", "POST", "/search", 422, "query", json={"query": NUL}),
    case(
        "search session NUL",
        "POST",
        "/search",
        422,
        "session_id",
        json={"query": "w", "session_id": NUL},
    ),
    case(
        "search department NUL",
        "POST",
        "/search",
        422,
        "department",
        json={"query": "w", "filters": {"department": NUL}},
    ),
    case(
        "search category NUL",
        "POST",
        "/search",
        422,
        "category",
        json={"query": "w", "filters": {"category": NUL}},
    ),
    case(
        "search tag NUL",
        "POST",
        "/search",
        422,
        "tags",
        json={"query": "w", "filters": {"tags": [NUL]}},
    ),
    case(
        "search taxonomy NUL",
        "POST",
        "/search",
        422,
        "taxonomy",
        json={"query": "w", "filters": {"taxonomy": NUL}},
    ),
    case(
        "search metadata NUL",
        "POST",
        "/search",
        422,
        "metadata",
        json={"query": "w", "filters": {"metadata": {"k": NUL}}},
    ),
    case(
        "setting string NUL",
        "PUT",
        "/settings/hostile.text",
        422,
        "value",
        json={"value": NUL, "type": "string"},
    ),
    case(
        "setting json NUL",
        "PUT",
        "/settings/hostile.json",
        422,
        "value",
        json={"value": {"k": NUL}, "type": "json"},
    ),
    case(
        "setting description NUL",
        "PUT",
        "/settings/hostile.text",
        422,
        "description",
        json={"value": "v", "type": "string", "description": NUL},
    ),
    case(
        "user email NUL",
        "POST",
        "/users",
        422,
        "email",
        json={"email": "a\x00@example.com", "name": "N"},
    ),
    case(
        "user name NUL", "POST", "/users", 422, "name", json={"email": "n@example.com", "name": NUL}
    ),
    case(
        "user department NUL",
        "POST",
        "/users",
        422,
        "department",
        json={"email": "n@example.com", "name": "N", "department": NUL},
    ),
    case("token name NUL", "POST", "/tokens", 422, "name", json={"name": NUL}),
    case("tag name NUL", "POST", "/tags", 422, "name", json={"name": NUL}),
    case(
        "tag description NUL",
        "POST",
        "/tags",
        422,
        "description",
        json={"name": "t", "description": NUL},
    ),
    case("category name NUL", "POST", "/categories", 422, "name", json={"name": NUL}),
    case(
        "category description NUL",
        "POST",
        "/categories",
        422,
        "description",
        json={"name": "c", "description": NUL},
    ),
    case(
        "file type mime NUL",
        "PUT",
        "/file-types/txt",
        422,
        "mime_type",
        json={"mime_type": NUL, "max_size_bytes": 10},
    ),
    case("taxonomy version NUL", "POST", "/taxonomies", 422, "version", json={"version": NUL}),
    case(
        "taxonomy node path NUL", "POST", "/taxonomies/1.0.0/nodes", 422, "path", json={"path": NUL}
    ),
    case(
        "classification path NUL",
        "POST",
        "/documents/{doc}/classifications",
        422,
        "path",
        json={"path": NUL, "confidence": 0.5},
    ),
    # --- 2. bodies that are not UTF-8, or not JSON ------------------------------------------
    case(
        "text doc body not UTF-8",
        "POST",
        "/documents/text",
        400,
        raw=b'{"title": "\xff\xfe", "content": "c"}',
    ),
    case("search body not UTF-8", "POST", "/search", 400, raw=b'{"query": "\xc3\x28"}'),
    case(
        "setting body not UTF-8",
        "PUT",
        "/settings/hostile.text",
        400,
        raw=b'{"value": "\xed\xa0\x80", "type": "string"}',
    ),
    case(
        "setting body lone surrogate",
        "PUT",
        "/settings/hostile.text",
        400,
        raw=b'{"value": "\\ud800", "type": "string"}',
    ),
]


async def snapshot(api: Api) -> tuple[Any, ...]:
    """Everything a request could write: users, tokens, events, settings, documents (live
    and trashed, with their versions) and blobs."""
    async with api.container.uow_factory()(autocommit=True) as uow:
        admin = await uow.users.get(api.admin.user_id)
        assert admin is not None
        documents = []
        for deleted in (False, True):
            page = await uow.documents.list_readable(
                admin,
                DocumentFilter(deleted=deleted),
                DocumentSort.CREATED,
                PageRequest(limit=MAX_LIMIT),
            )
            documents += [(d.id, d.version, d.title, d.metadata, d.tags) for d in page.items]
    return (await store_state(api.container), documents, await blob_keys(api.container))


async def send(api: Api, hostile: Hostile, doc_id: str) -> httpx.Response:
    url = f"{API}{hostile.path.format(doc=doc_id)}"
    headers = dict(api.admin.headers)
    if hostile.form is not None:
        return await api.client.post(
            url,
            files={"file": ("notes.txt", b"some words", "text/plain")},
            data=hostile.form,
            headers=headers,
        )
    content: bytes | None = hostile.raw
    if hostile.json is not None:
        content = json.dumps(hostile.json).encode()
    if content is not None:
        headers["Content-Type"] = hostile.content_type
    return await api.client.request(
        hostile.method, url, params=hostile.query, content=content, headers=headers
    )


@pytest.mark.parametrize("hostile", HOSTILE)
async def test_hostile_input_is_a_problem_and_writes_nothing(api: Api, hostile: Hostile) -> None:
    created = await api.client.post(
        f"{API}/documents/text", json=SEED_DOC, headers=api.admin.headers
    )
    assert created.status_code == 201, created.text
    before = await snapshot(api)

    response = await send(api, hostile, created.json()["id"])

    body = assert_problem(response, hostile.status)
    if hostile.field is not None:
        fields = [e["field"] for e in body.get("errors") or []]
        assert any(hostile.field in f for f in fields), body
    assert await snapshot(api) == before


async def test_an_anonymous_hostile_query_is_still_a_401(api: Api) -> None:
    """Input is judged after authentication: a NUL tells an anonymous caller nothing."""
    response = await api.client.get(f"{API}/documents", params={"department": NUL})
    assert_problem(response, 401)


# --- values stored before the bound (or by hand) still read -----------------------------------

DEEP = nested(300)


async def test_stored_deep_metadata_does_not_break_reading_documents(api: Api) -> None:
    created = await api.client.post(
        f"{API}/documents/text",
        json={**TEXT_DOC, "metadata": {"kept": "yes"}},
        headers=api.member.headers,
    )
    assert created.status_code == 201, created.text
    doc_id = created.json()["id"]
    # Written past the use case, as a row from before the bound (or by hand) would be.
    async with api.container.uow_factory()() as uow:
        member = await uow.users.get(api.member.user_id)
        assert member is not None
        found = await uow.documents.get_readable(UUID(doc_id), member)
        assert found is not None
        doc = found.document
        version = doc.version
        doc.metadata = {"kept": "yes", "deep": DEEP}
        doc.version = version + 1
        assert await uow.documents.update(doc, version)
        await uow.commit()

    for caller in (api.member, api.admin):
        listing = await api.client.get(f"{API}/documents", headers=caller.headers)
        assert listing.status_code == 200, listing.text
        (item,) = listing.json()["items"]
        assert item["metadata"]["kept"] == "yes"
        one = await api.client.get(f"{API}/documents/{doc_id}", headers=caller.headers)
        assert one.status_code == 200, one.text
        assert one.json()["metadata"]["kept"] == "yes"


async def test_stored_deep_search_filters_do_not_break_search_history(api: Api) -> None:
    now = datetime.now(UTC)
    async with api.container.uow_factory()() as uow:
        query = SearchQueryLog(uuid4(), api.member.user_id, "words", None, {"metadata": DEEP}, now)
        await uow.search_logs.log(query, SearchResponseLog(uuid4(), query.id, "", [], 0, 1, now))
        await uow.commit()
    for caller in (api.member, api.admin):
        query = {} if caller is api.member else {"user_id": str(api.member.user_id)}
        history = await api.client.get(
            f"{API}/search/history", params=query, headers=caller.headers
        )
        assert history.status_code == 200, history.text
        (item,) = history.json()["items"]
        assert item["query"] == "words"


async def test_stored_deep_setting_does_not_break_reading_settings(api: Api) -> None:
    async with api.container.uow_factory()() as uow:
        await uow.settings.put(
            Setting("hostile.deep", DEEP, SettingType.JSON, "", True, datetime.now(UTC))
        )
        await uow.commit()
    listing = await api.client.get(f"{API}/settings", headers=api.admin.headers)
    assert listing.status_code == 200, listing.text
    one = await api.client.get(f"{API}/settings/hostile.deep", headers=api.member.headers)
    assert one.status_code == 200, one.text


async def test_stored_deep_event_data_does_not_break_the_audit_trail(api: Api) -> None:
    async with api.container.uow_factory()() as uow:
        await uow.events.add(Event(datetime.now(UTC), None, "hostile.deep", "x", "y", DEEP))
        await uow.commit()
    listing = await api.client.get(f"{API}/events", headers=api.admin.headers)
    assert listing.status_code == 200, listing.text


# --- 3. OPTIONS ---------------------------------------------------------------------------------

OPTIONS_ROUTES = [
    ("/users", {"GET", "POST"}),
    ("/users/{uuid}", {"GET", "PATCH"}),
    ("/stats", {"GET"}),
    ("/events", {"GET"}),
    ("/settings/some.key", {"GET", "PUT"}),
    ("/documents", {"GET", "POST"}),
    ("/documents/{uuid}", {"GET", "PATCH", "DELETE"}),
    ("/search", {"POST"}),
    ("/me", {"GET"}),
]


@pytest.mark.parametrize(("path", "methods"), OPTIONS_ROUTES)
async def test_options_answers_allow_without_credentials(
    api: Api, path: str, methods: set[str]
) -> None:
    response = await api.client.options(f"{API}{path.format(uuid=uuid4())}")
    assert response.status_code in (200, 204), response.text
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert allowed == methods | {"OPTIONS"}


async def test_every_route_answers_options_with_its_methods(api: Api) -> None:
    """Every route of the app, unauthenticated: 204 and `Allow` naming exactly its methods."""
    for route in api.app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        path = re.sub(r"\{[^}]+:uuid\}", str(uuid4()), route.path)
        path = re.sub(r"\{[^}]+:int\}", "7", path)
        path = re.sub(r"\{[^}]+\}", "x", path)
        response = await api.client.options(path)
        assert response.status_code == 204, (route.path, response.text)
        allowed = {m.strip() for m in response.headers["allow"].split(",")}
        assert allowed == set(route.methods), route.path


# --- 10. header and URL sizes -------------------------------------------------------------------


async def test_a_header_block_over_the_limit_is_431(api: Api) -> None:
    before = await snapshot(api)
    headers = {**api.admin.headers, "X-Padding": "x" * (17 * 1024)}
    response = await api.client.post(f"{API}/documents/text", json=TEXT_DOC, headers=headers)
    assert_problem(response, 431)
    assert await snapshot(api) == before


async def test_many_small_headers_over_the_limit_are_431(api: Api) -> None:
    headers = [("x-h", "y" * 100)] * 200
    response = await api.client.get(
        f"{API}/me", headers=httpx.Headers([*api.admin.headers.items(), *headers])
    )
    assert_problem(response, 431)


async def test_a_header_block_under_the_limit_is_served(api: Api) -> None:
    headers = {**api.admin.headers, "X-Padding": "x" * (8 * 1024)}
    response = await api.client.get(f"{API}/me", headers=headers)
    assert response.status_code == 200, response.text


async def test_a_url_over_the_limit_is_414(api: Api) -> None:
    response = await api.client.get(
        f"{API}/documents", params={"category": "c" * (9 * 1024)}, headers=api.admin.headers
    )
    assert_problem(response, 414)
    path = await api.client.get(f"{API}/documents/{'x' * (9 * 1024)}", headers=api.admin.headers)
    assert_problem(path, 414)


async def test_the_limits_are_settings(api: Api) -> None:
    from infrastructure.config import AppSettings

    settings = AppSettings(max_header_bytes=4096, max_url_bytes=1024)
    assert settings.max_header_bytes == 4096
    assert settings.max_url_bytes == 1024
