"""Generated hostile values against every route that takes input (issue #9, must-show 2).

Whatever a client sends in a body field, a query parameter or a form field — JSON nested a
thousand levels, a NUL character, a date PostgreSQL cannot hold, a number no column takes,
bytes that are not UTF-8, a string of a megabyte, a lone surrogate, a value of the wrong
type — the answer is never a 5xx, every error is `application/problem+json`, and a 4xx leaves
the store exactly as it was. Run on both storages. The hand-picked table of the same inputs is
`test_hostile_inputs.py`; this one lets hypothesis combine them with every input slot."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import API, PROBLEM_JSON, Api, blob_keys, store_state

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

HOLE = "__HOSTILE__"


@dataclass(frozen=True)
class Slot:
    """One place a client puts a value: a JSON body field, a query parameter or a form field.
    `template` is a valid request; `field` is the part the hostile value replaces."""

    method: str
    path: str
    where: str  # "json" | "query" | "form" | "path"
    field: str
    template: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.where}:{self.field}"


def _json(method: str, path: str, template: dict[str, Any], *fields: str) -> list[Slot]:
    return [Slot(method, path, "json", f, template) for f in (fields or tuple(template))]


def _query(path: str, *fields: str) -> list[Slot]:
    return [Slot("GET", path, "query", f, {}) for f in fields]


TEXT_DOC = {"title": "A title", "content": "Some words", "document_type": "TXT"}
SEARCH_FILTERS = (
    "tags",
    "category",
    "document_type",
    "department",
    "metadata",
    "taxonomy",
    "taxonomy_version",
    "created_after",
    "created_before",
)

SLOTS: list[Slot] = [
    *_json(
        "POST",
        "/users",
        {"email": "x@example.com", "name": "X", "department": "D", "access_level": 1},
        "email",
        "name",
        "department",
        "access_level",
        "role",
    ),
    *_json("PATCH", "/users/{member}", {"name": "Y"}, "name", "email", "access_level", "role"),
    *_json("POST", "/tokens", {"name": "t"}, "name", "expires_in_days", "user_id"),
    *_json("PUT", "/settings/site_name", {"value": "x", "type": "string"}, "value", "type"),
    *_json("PUT", "/settings/search_retention_days", {"value": 30}, "value", "description"),
    *_json(
        "POST",
        "/documents/text",
        TEXT_DOC,
        "title",
        "content",
        "document_type",
        "access_level",
        "department",
        "category",
        "tags",
        "metadata",
        "source",
        "taxonomy_path",
        "taxonomy_version",
        "on_duplicate",
    ),
    *_json(
        "PATCH",
        "/documents/{doc}",
        {"title": "New"},
        "title",
        "access_level",
        "department",
        "category",
        "metadata",
        "source",
    ),
    *_json("PUT", "/documents/{doc}/tags", {"tags": ["a"]}, "tags"),
    *_json("POST", "/documents/{doc}/tags", {"tags": ["a"]}, "tags"),
    *_json("PUT", "/documents/{doc}/permissions/{member}", {"access": "read"}, "access"),
    *_json("POST", "/tags", {"name": "t1"}, "name", "color", "description"),
    *_json("POST", "/categories", {"name": "c1"}, "name", "description"),
    *_json("PUT", "/file-types/txt", {"mime_type": "text/plain"}, "mime_type", "max_size_bytes"),
    *_json("POST", "/taxonomies", {"version": "9.9.9"}, "version", "copy_from"),
    *_json("POST", "/taxonomies/1.0.0/nodes", {"path": "A/B"}, "path"),
    *_json(
        "POST",
        "/documents/{doc}/classifications",
        {"path": "A", "confidence": 0.5},
        "path",
        "version",
        "confidence",
    ),
    *_json("POST", "/search", {"query": "words"}, "query", "limit", "session_id", "filters"),
    *[
        Slot("POST", "/search", "json", f"filters.{f}", {"query": "words", "filters": {}})
        for f in SEARCH_FILTERS
    ],
    *_json("POST", "/search/{query}/feedback", {"rating": 3}, "rating", "comment"),
    *_query(
        "/documents",
        "tag",
        "category",
        "document_type",
        "department",
        "access_level",
        "owner_id",
        "metadata",
        "taxonomy",
        "created_after",
        "created_before",
        "sort",
        "limit",
        "cursor",
        "deleted",
    ),
    *_query("/events", "actor_id", "action", "subject_id", "since", "until", "cursor", "limit"),
    *_query("/users", "role", "department", "is_active", "cursor"),
    *_query("/tags", "sort"),
    *_query("/documents/{doc}/events", "cursor", "limit"),
    *_query("/search/history", "cursor", "limit"),
    *_query("/analytics/search", "days"),
    *_query("/documents/duplicates", "limit"),
    # Path segments that are free text (ids are UUIDs: anything else does not match a route).
    Slot("PUT", "/settings/{hole}", "path", "key", {"value": "x", "type": "string"}),
    Slot("GET", "/settings/{hole}", "path", "key", {}),
    Slot("PUT", "/file-types/{hole}", "path", "extension", {"mime_type": "text/plain"}),
    Slot("DELETE", "/documents/{doc}/tags/{hole}", "path", "name", {}),
    Slot("POST", "/taxonomies/{hole}/nodes", "path", "version", {"path": "A"}),
    Slot("GET", "/taxonomies/{hole}/nodes", "path", "version", {}),
    Slot("POST", "/taxonomies/{hole}/publish", "path", "version", {}),
    *[
        Slot("POST", "/documents", "form", f, {})
        for f in (
            "title",
            "access_level",
            "department",
            "category",
            "tags",
            "metadata",
            "source",
            "taxonomy_path",
            "taxonomy_version",
            "on_duplicate",
        )
    ],
]


# --- hostile values, each as the raw text a client would put in a JSON document --------------


def _deep(depth: int, kind: str) -> str:
    if kind == "list":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


DATES = [
    "9999-12-31T23:59:59-12:00",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999Z",
    "0000-01-01T00:00:00Z",
    "10000-01-01T00:00:00Z",
    "294277-01-01T00:00:00Z",
    "-4713-11-24T00:00:00Z",
    "2024-02-30T00:00:00Z",
    "2024-01-01T25:00:00Z",
    "2024-01-01T00:00:00+24:00",
    "2024-01-01",
    "99999999999",
]
NUMBERS = [
    "1e308",
    "-1e308",
    "1e309",
    "1e-400",
    str(10**30),
    str(-(10**30)),
    "9223372036854775808",
    "-9223372036854775809",
    "2147483648",
    "-2147483649",
    "0.5",
    "-0",
]


@st.composite
def hostile_json(draw: st.DrawFn) -> bytes:
    """The raw JSON text of one hostile value (not always valid JSON: that is the point)."""
    kind = draw(
        st.sampled_from(
            ["deep", "nul", "date", "number", "utf8", "long", "surrogate", "type", "text"]
        )
    )
    if kind == "deep":
        depth = draw(st.sampled_from([33, 100, 300, 1_001, 5_000, 100_000]))
        return _deep(depth, draw(st.sampled_from(["list", "dict"]))).encode()
    if kind == "nul":
        left, right = draw(st.text(max_size=8)), draw(st.text(max_size=8))
        return json.dumps(left + "\x00" + right).encode()
    if kind == "date":
        return json.dumps(draw(st.sampled_from(DATES))).encode()
    if kind == "number":
        return draw(st.sampled_from(NUMBERS)).encode()
    if kind == "utf8":
        bad = draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80"]))
        return b'"a' + bad + b'b"'
    if kind == "long":
        size = draw(st.sampled_from([101, 256, 2_001, 100_001, 1_000_001]))
        return json.dumps("x" * size).encode()
    if kind == "surrogate":
        return b'"\\ud800x"'
    if kind == "type":
        return draw(
            st.sampled_from([b"null", b"true", b"[]", b"{}", b'["a",1,null]', b'{"":{"":[]}}'])
        )
    return json.dumps(draw(st.text(max_size=40))).encode()


def _as_text(raw: bytes) -> bytes:
    """A hostile value as a query or form value: a JSON string's content, else the text."""
    try:
        decoded = json.loads(raw)
    except (ValueError, RecursionError):
        return raw
    return decoded.encode("utf-8", "surrogatepass") if isinstance(decoded, str) else raw


def _path(slot: Slot, ids: dict[str, str]) -> str:
    return API + slot.path.format(**ids, hole="")


def _json_body(slot: Slot, raw: bytes) -> bytes:
    body = json.loads(json.dumps(slot.template))
    target, key = body, slot.field
    if "." in key:
        outer, key = key.split(".", 1)
        target = body.setdefault(outer, {})
    target[key] = HOLE
    return json.dumps(body).encode().replace(json.dumps(HOLE).encode(), raw)


async def _send(api: Api, slot: Slot, raw: bytes, ids: dict[str, str]) -> Any:
    headers = dict(api.admin.headers)
    path = _path(slot, ids)
    if slot.where == "json":
        headers["content-type"] = "application/json"
        return await api.client.request(
            slot.method, path, content=_json_body(slot, raw), headers=headers
        )
    if slot.where == "path":
        # The hostile text as the free path segment (a JSON body, if any, stays valid).
        segment = quote_from_bytes(_as_text(raw)[:20_000], safe="")
        path = API + slot.path.format(**ids, hole=segment)
        body = json.dumps(slot.template).encode() if slot.method in {"PUT", "POST"} else None
        headers["content-type"] = "application/json"
        return await api.client.request(slot.method, path, content=body, headers=headers)
    if slot.where == "query":
        # httpx refuses URLs of 64 KiB and more before sending; the server's limit is 8 KiB
        # (414), so a longer value proves nothing more.
        query = f"{slot.field}={quote_from_bytes(_as_text(raw)[:20_000], safe='')}"
        return await api.client.request(slot.method, f"{path}?{query}", headers=headers)
    boundary = "hostileboundary7MA4YWxkTrZu0gW"
    parts = [
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
            "Content-Type: text/plain\r\n\r\nhello hostile world\r\n"
        ).encode(),
        (f'--{boundary}\r\nContent-Disposition: form-data; name="{slot.field}"\r\n\r\n').encode()
        + _as_text(raw)
        + b"\r\n",
        f"--{boundary}--\r\n".encode(),
    ]
    headers["content-type"] = f"multipart/form-data; boundary={boundary}"
    return await api.client.request(slot.method, path, content=b"".join(parts), headers=headers)


async def _everything(api: Api) -> tuple[Any, ...]:
    """What any request could write: users, tokens, events, settings, rows and blobs."""
    async with api.container.uow_factory()(autocommit=True) as uow:
        rows = (
            sorted(await uow.documents.storage_keys()),
            sorted((t.name, t.color, t.description, t.is_active) for t in await uow.tags.list()),
            sorted((c.name, c.description) for c in await uow.categories.list()),
            sorted(
                (f.extension, f.mime_type, f.max_size_bytes) for f in await uow.file_types.list()
            ),
        )
    return (await store_state(api.container), rows, sorted(await blob_keys(api.container)))


async def _prepare(api: Api) -> dict[str, str]:
    """A document, a draft taxonomy with a node and a logged search, so ids exist."""
    admin = api.admin.headers
    doc = await api.client.post(f"{API}/documents/text", json=TEXT_DOC, headers=admin)
    assert doc.status_code == 201, doc.text
    taxonomy = await api.client.post(f"{API}/taxonomies", json={"version": "1.0.0"}, headers=admin)
    assert taxonomy.status_code == 201, taxonomy.text
    node = await api.client.post(f"{API}/taxonomies/1.0.0/nodes", json={"path": "A"}, headers=admin)
    assert node.status_code == 201, node.text
    search = await api.client.post(f"{API}/search", json={"query": "words"}, headers=admin)
    assert search.status_code == 200, search.text
    return {
        "doc": doc.json()["id"],
        "member": str(api.member.user_id),
        "query": search.json()["query_id"],
    }


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_no_hostile_value_gets_a_server_error_or_writes_on_refusal(
    api: Api, data: st.DataObject
) -> None:
    ids = await _prepare_once(api)
    slot = data.draw(st.sampled_from(SLOTS), label="slot")
    raw = data.draw(hostile_json(), label="value")
    before = await _everything(api)
    response = await _send(api, slot, raw, ids)
    status = response.status_code
    assert status < 500, f"{slot} answered {status}: {response.text[:500]}"
    if status >= 400:
        assert response.headers["content-type"].startswith(PROBLEM_JSON), (str(slot), status)
        body = response.json()
        assert body["status"] == status
        assert body["code"]
        assert await _everything(api) == before, f"{slot} answered {status} but wrote"


async def _prepare_once(api: Api) -> dict[str, str]:
    """hypothesis runs every example inside one test call, so one `api` fixture serves them
    all: prepare it once, remembered on the fixture (new for each storage's test call)."""
    if "hostile_ids" not in api.memo:
        api.memo["hostile_ids"] = await _prepare(api)
    ids: dict[str, str] = api.memo["hostile_ids"]
    return ids
