"""The OpenAPI document describes the API as it is: every /api/v1 operation is named, needs the
bearer scheme, and documents its errors as problem details; the probes need nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import API, PROBLEM_JSON, Api


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
