"""The OpenAPI document states what the server enforces (issue #9, Must-show 3; `make fuzz`
checks it with schemathesis): these are the rules it found untrue, pinned down."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.api.conftest import API, Api, assert_problem, upload


@pytest.fixture
async def openapi(api: Api) -> dict[str, Any]:
    response = await api.client.get("/schema/openapi.json")
    assert response.status_code == 200
    schema: dict[str, Any] = response.json()
    return schema


def api_operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        operation
        for path, item in schema["paths"].items()
        if path.startswith(f"{API}/")
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


async def test_every_api_operation_documents_the_statuses_any_request_can_get(
    openapi: dict[str, Any],
) -> None:
    missing = [
        (op["operationId"], status)
        for op in api_operations(openapi)
        for status in ("401", "414", "429", "431", "503")
        if status not in op["responses"]
    ]

    assert missing == []


async def test_request_bodies_refuse_unknown_fields_in_the_schema(
    openapi: dict[str, Any],
) -> None:
    schemas = openapi["components"]["schemas"]

    assert schemas["UserCreate"]["additionalProperties"] is False
    assert schemas["DocumentUpdate"]["additionalProperties"] is False


async def test_a_field_that_may_not_be_null_is_not_nullable_in_the_schema(
    openapi: dict[str, Any],
) -> None:
    is_active = openapi["components"]["schemas"]["TagUpdate"]["properties"]["is_active"]

    assert is_active == {"type": "boolean"}


async def test_stripped_names_state_their_length_in_the_pattern(openapi: dict[str, Any]) -> None:
    name = openapi["components"]["schemas"]["CategoryCreate"]["properties"]["name"]
    pattern = re.compile(name["pattern"])

    assert "maxLength" not in name  # it would count the spaces the server strips
    assert pattern.match("  " + "x" * 100 + "  ")
    assert not pattern.match("x" * 101)
    assert not pattern.match("   ")
    assert not pattern.match("a\tb")


async def test_optional_headers_are_never_null(openapi: dict[str, Any]) -> None:
    headers = [
        p for op in api_operations(openapi) for p in op.get("parameters", []) if p["in"] == "header"
    ]

    assert headers
    assert [h["name"] for h in headers if "oneOf" in h["schema"]] == []


async def test_a_boolean_field_refuses_a_number(api: Api) -> None:
    created = await api.client.post(
        f"{API}/categories", json={"name": "Reports"}, headers=api.admin.headers
    )

    response = await api.client.patch(
        f"{API}/categories/{created.json()['id']}",
        json={"is_active": 0},
        headers=api.admin.headers,
    )

    body = assert_problem(response, 422)
    assert body["errors"][0]["field"] == "is_active"


async def test_an_empty_if_match_is_no_precondition(api: Api) -> None:
    created = await api.client.post(
        f"{API}/documents/text",
        json={"title": "Memo", "content": "some text"},
        headers=api.admin.headers,
    )

    response = await api.client.patch(
        f"{API}/documents/{created.json()['id']}",
        json={"title": "Memo 2"},
        headers={**api.admin.headers, "If-Match": ""},
    )

    assert response.status_code == 200, response.text


# A bare date (2026-01-31) is the start of that day: tests/api/test_listing_inputs.py.
@pytest.mark.parametrize("value", ["0.5", "1700000000", "2026-01-31T12:00Z", "2026-01-31T"])
async def test_a_query_instant_must_be_an_rfc3339_date_time(api: Api, value: str) -> None:
    response = await api.client.get(
        f"{API}/events", params={"until": value}, headers=api.admin.headers
    )

    body = assert_problem(response, 422)
    assert body["errors"][0]["field"] == "until"


async def test_a_query_instant_keeps_its_offset_and_fraction(api: Api) -> None:
    response = await api.client.get(
        f"{API}/documents",
        params={"created_after": "2026-01-31T12:00:00.1234567+02:00"},
        headers=api.admin.headers,
    )

    assert response.status_code == 200, response.text


async def test_a_file_type_needs_a_real_media_type(api: Api) -> None:
    # Downloads carry it as their Content-Type: "0" made every .txt download malformed.
    response = await api.client.put(
        f"{API}/file-types/txt",
        json={"mime_type": "0", "max_size_bytes": 1000},
        headers=api.admin.headers,
    )

    body = assert_problem(response, 422)
    assert body["errors"][0]["field"] == "mime_type"


async def test_a_listing_checks_its_taxonomy_version_even_without_a_taxonomy(api: Api) -> None:
    refused = await api.client.get(
        f"{API}/documents", params={"taxonomy_version": "\x84"}, headers=api.admin.headers
    )
    empty = await api.client.get(
        f"{API}/documents", params={"taxonomy_version": ""}, headers=api.admin.headers
    )

    assert assert_problem(refused, 422)["errors"][0]["field"] == "version"
    assert empty.status_code == 200


@pytest.mark.parametrize("number", ["-1.731760081455284e113", "1e20", "9223372036854775808.0"])
async def test_a_stored_number_beyond_a_bigint_is_refused_however_written(
    api: Api, number: str
) -> None:
    # JSON Schema reads 1e20 as the integer 10**20, outside the schema's range: the server
    # accepted it as a float until `make fuzz` noticed (ST201).
    body = '{"title": "Memo", "content": "text", "metadata": {"n": ' + number + "}}"
    response = await api.client.post(
        f"{API}/documents/text",
        content=body,
        headers={**api.admin.headers, "content-type": "application/json"},
    )

    problem = assert_problem(response, 422)
    assert problem["errors"][0]["field"] == "metadata"


async def test_the_schema_states_one_range_for_every_stored_number(
    openapi: dict[str, Any],
) -> None:
    numbers = [
        branch
        for branch in openapi["components"]["schemas"]["JsonValue"]["anyOf"]
        if branch.get("type") in {"integer", "number"}
    ]

    assert numbers == [{"type": "number", "minimum": -(2**63), "maximum": 2**63 - 1}]


def _strings(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """Every string schema a parameter's schema holds: itself, its branches, their items."""
    found = []
    for branch in [schema, *schema.get("oneOf", [])]:
        for candidate in (branch, branch.get("items") or {}):
            if candidate.get("type") == "string":
                found.append(candidate)
    return found


async def test_no_string_parameter_admits_a_nul_character(openapi: dict[str, Any]) -> None:
    # The server refuses NUL in every query parameter (422); `department`'s optional branch
    # said nothing, and the fuzzer sent one (ST202).
    admitting = [
        (op["operationId"], p["name"])
        for op in api_operations(openapi)
        for p in op.get("parameters", [])
        if "schema" in p
        for string in _strings(p["schema"])
        if not ({"format", "enum", "const"} & string.keys())
        and re.search(string.get("pattern", ""), "a\x00b")
    ]

    assert admitting == []


async def test_the_upload_form_states_the_rules_of_a_json_body(openapi: dict[str, Any]) -> None:
    # The fuzzer sent metadata holding -22142449501274091520 in an upload: the form's metadata
    # was a free object while the server bounds it like every stored JSON value (ST202).
    form = openapi["paths"][f"{API}/documents"]["post"]["requestBody"]["content"]
    properties = form["multipart/form-data"]["schema"]["properties"]

    assert properties["metadata"]["additionalProperties"] == {
        "$ref": "#/components/schemas/JsonValue"
    }
    assert not re.search(properties["category"]["pattern"], "a\x00b")


async def test_the_upload_forms_taxonomy_version_states_its_rule(
    api: Api, openapi: dict[str, Any]
) -> None:
    # The fuzzer's stateful run sent taxonomy_version=")" in an upload, which the form's schema
    # allowed and the server refused (ST202); the refusal named "version", not the field.
    form = openapi["paths"][f"{API}/documents"]["post"]["requestBody"]["content"]
    pattern = form["multipart/form-data"]["schema"]["properties"]["taxonomy_version"]["pattern"]

    refused = await upload(api, api.member, "a.txt", b"text", taxonomy_version=")")

    assert not re.search(pattern, ")")
    assert re.search(pattern, " 1.0.0 ") and re.search(pattern, "")  # stripped; blank: absent
    assert assert_problem(refused, 422)["errors"][0]["field"] == "taxonomy_version"


def _body_strings(node: Any, components: dict[str, Any], seen: frozenset[str]) -> list[Any]:
    """Every string schema reachable from a request body (through $refs, once each)."""
    if isinstance(node, list):
        return [s for item in node for s in _body_strings(item, components, seen)]
    if not isinstance(node, dict):
        return []
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return [] if name in seen else _body_strings(components[name], components, seen | {name})
    found = [node] if node.get("type") == "string" else []
    for key, value in node.items():
        if key not in {"description", "examples", "default"}:
            found += _body_strings(value, components, seen)
    return found


async def test_no_request_body_string_admits_a_nul_character(openapi: dict[str, Any]) -> None:
    # Optional fields are `oneOf: [string, null]`; their string branch stated no rule, so a
    # generator could send "\u0000", which every body refuses (`StoredText`).
    components = openapi["components"]["schemas"]
    admitting = [
        string
        for op in api_operations(openapi)
        for string in _body_strings(op.get("requestBody", {}), components, frozenset())
        if not ({"format", "enum", "const"} & string.keys())
        and re.search(string.get("pattern", ""), "a\x00b")
    ]

    assert admitting == []
