"""The OpenAPI document describes the API as it is: every /api/v1 operation is named, needs the
bearer scheme, and documents its errors as problem details; the probes need nothing."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest

from interfaces.http.examples import CLASSIFICATION, CLASSIFY_REQUEST, SEARCH_REQUEST
from tests.api.conftest import API, PROBLEM_JSON, Api, uploaded


@pytest.fixture
async def openapi(api: Api) -> dict[str, Any]:
    response = await api.client.get("/schema/openapi.json")
    assert response.status_code == 200, response.text
    schema: dict[str, Any] = response.json()
    return schema


def api_operations(schema: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in schema["paths"].items()
        if path.startswith(f"{API}/")
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    }


def bearer_scheme_names(schema: dict[str, Any]) -> set[str]:
    schemes = schema.get("components", {}).get("securitySchemes", {})
    return {
        name
        for name, scheme in schemes.items()
        if scheme.get("type") == "http" and scheme.get("scheme") == "bearer"
    }


async def test_schema_declares_a_bearer_security_scheme(openapi: dict[str, Any]) -> None:
    assert len(bearer_scheme_names(openapi)) == 1


async def test_every_api_operation_has_a_unique_operation_id(openapi: dict[str, Any]) -> None:
    operations = api_operations(openapi)
    ids = [op.get("operationId") for op in operations.values()]

    assert operations
    assert [key for key, op in operations.items() if not op.get("operationId")] == []
    assert len(set(ids)) == len(ids)


async def test_every_api_operation_requires_the_bearer_scheme(openapi: dict[str, Any]) -> None:
    [scheme] = bearer_scheme_names(openapi)

    unsecured = [
        key
        for key, op in api_operations(openapi).items()
        if {scheme: []} not in op.get("security", openapi.get("security", []))
    ]
    assert unsecured == []


async def test_every_api_operation_documents_401_as_a_problem(openapi: dict[str, Any]) -> None:
    undocumented = [
        key
        for key, op in api_operations(openapi).items()
        if PROBLEM_JSON not in op["responses"].get("401", {}).get("content", {})
    ]
    assert undocumented == []


async def test_every_documented_api_error_is_a_problem(openapi: dict[str, Any]) -> None:
    not_problems = [
        (key, status, list(response.get("content", {})))
        for key, op in api_operations(openapi).items()
        for status, response in op["responses"].items()
        if status.startswith(("4", "5")) and list(response.get("content", {})) != [PROBLEM_JSON]
    ]
    assert not_problems == []


@pytest.mark.parametrize("path", ["/health", "/ready"])
async def test_probes_need_no_authentication(openapi: dict[str, Any], path: str) -> None:
    operation = openapi["paths"][path]["get"]

    assert operation.get("security", openapi.get("security", [])) == []


# --- what the docs page shows (issue #13 item 6) ---------------------------------------------

# (method, path): the status whose response shows an example, and whether the request body
# shows one too.
EXAMPLES: dict[tuple[str, str], tuple[str, bool]] = {
    ("POST", f"{API}/documents"): ("201", False),  # multipart: its description shows a curl
    ("GET", f"{API}/documents"): ("200", False),
    ("POST", f"{API}/search"): ("200", True),
    ("POST", f"{API}/documents/{{doc_id}}/classifications"): ("201", True),
}


def every_operation(schema: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    }


def example_of(media: dict[str, Any]) -> Any:
    [example] = media["examples"].values()
    return example["value"]


def conforms(document: dict[str, Any], schema: dict[str, Any], value: Any) -> list[str]:
    """What is wrong with `value` under `schema` (a part of `document`: its references
    resolve in the document's components)."""
    validator = jsonschema_rs.Draft202012Validator(
        {**schema, "components": document["components"]}, validate_formats=True
    )
    return [f"{e.instance_path}: {e.message}" for e in validator.iter_errors(value)]


async def test_every_operation_has_a_summary_and_a_description(
    openapi: dict[str, Any],
) -> None:
    operations = every_operation(openapi)
    undescribed = [
        key
        for key, op in operations.items()
        if not op.get("summary", "").strip() or not op.get("description", "").strip()
    ]

    assert len(operations) > 50
    assert undescribed == []


async def test_the_main_routes_show_request_and_response_examples(
    openapi: dict[str, Any],
) -> None:
    operations = every_operation(openapi)
    missing = []
    for key, (status, with_request) in EXAMPLES.items():
        op = operations[key]
        for media in op["responses"][status]["content"].values():
            if "examples" not in media:
                missing.append((key, status))
        if with_request:
            for media in op["requestBody"]["content"].values():
                if "examples" not in media:
                    missing.append((key, "request"))

    assert missing == []


async def test_every_example_conforms_to_its_schema(openapi: dict[str, Any]) -> None:
    wrong = []
    for key, (status, with_request) in EXAMPLES.items():
        op = every_operation(openapi)[key]
        media = op["responses"][status]["content"]["application/json"]
        wrong += [(key, status, e) for e in conforms(openapi, media["schema"], example_of(media))]
        if with_request:
            body = op["requestBody"]["content"]["application/json"]
            wrong += [
                (key, "request", e) for e in conforms(openapi, body["schema"], example_of(body))
            ]

    assert wrong == []


async def test_the_request_examples_are_accepted(api: Api) -> None:
    headers = api.admin.headers
    doc = await uploaded(api, api.admin, "invoice.txt", b"Invoice for office chairs.")
    for step in (
        ("/taxonomies", {"version": "2025.1"}),
        ("/taxonomies/2025.1/nodes", {"path": "Finance"}),
        ("/taxonomies/2025.1/nodes", {"path": "Finance/Invoices"}),
        ("/taxonomies/2025.1/publish", None),
    ):
        made = await api.client.post(f"{API}{step[0]}", json=step[1], headers=headers)
        assert made.status_code in (200, 201), made.text

    searched = await api.client.post(f"{API}/search", json=SEARCH_REQUEST, headers=headers)
    classified = await api.client.post(
        f"{API}/documents/{doc['id']}/classifications", json=CLASSIFY_REQUEST, headers=headers
    )

    assert searched.status_code == 200, searched.text
    assert classified.status_code == 201, classified.text
    assert classified.json()["path"] == CLASSIFICATION["path"]
