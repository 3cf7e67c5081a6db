"""Who may call what, for every route the app has (SPEC §3: "a test enumerates the app's routes
so a new route cannot escape it"). The table below is the access rule of each /api/v1 route;
adding a route without classifying it here fails the suite."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import httpx
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute

from tests.api.conftest import API, PROBLEM_JSON, Api, Caller

ADMIN = "admin"
ANY_USER = "any authenticated user"

ROUTE_ACCESS: dict[tuple[str, str], str] = {
    ("GET", f"{API}/me"): ANY_USER,
    ("POST", f"{API}/users"): ADMIN,
    ("GET", f"{API}/users"): ADMIN,
    ("GET", f"{API}/users/{{user_id:uuid}}"): ADMIN,
    ("PATCH", f"{API}/users/{{user_id:uuid}}"): ADMIN,
    ("PUT", f"{API}/me/password"): ANY_USER,
    ("PUT", f"{API}/users/{{user_id:uuid}}/password"): ADMIN,
    ("POST", f"{API}/users/{{user_id:uuid}}/password-link"): ADMIN,
    ("DELETE", f"{API}/users/{{user_id:uuid}}/sessions"): ADMIN,
    ("POST", f"{API}/tokens"): ANY_USER,
    ("GET", f"{API}/tokens"): ANY_USER,
    ("DELETE", f"{API}/tokens/{{token_id:uuid}}"): ANY_USER,
    ("GET", f"{API}/settings"): ANY_USER,
    ("GET", f"{API}/settings/{{key:str}}"): ANY_USER,
    ("PUT", f"{API}/settings/{{key:str}}"): ADMIN,
    ("POST", f"{API}/documents"): ANY_USER,
    ("GET", f"{API}/documents"): ANY_USER,
    ("POST", f"{API}/documents/text"): ANY_USER,
    ("GET", f"{API}/documents/duplicates"): ANY_USER,
    ("POST", f"{API}/documents/bulk"): ANY_USER,
    ("GET", f"{API}/documents/{{doc_id:uuid}}"): ANY_USER,
    ("PATCH", f"{API}/documents/{{doc_id:uuid}}"): ANY_USER,
    ("DELETE", f"{API}/documents/{{doc_id:uuid}}"): ANY_USER,
    ("GET", f"{API}/documents/{{doc_id:uuid}}/file"): ANY_USER,
    ("GET", f"{API}/documents/{{doc_id:uuid}}/thumbnail"): ANY_USER,
    ("GET", f"{API}/documents/{{doc_id:uuid}}/events"): ANY_USER,
    ("POST", f"{API}/documents/{{doc_id:uuid}}/restore"): ANY_USER,
    ("PUT", f"{API}/documents/{{doc_id:uuid}}/tags"): ANY_USER,
    ("POST", f"{API}/documents/{{doc_id:uuid}}/tags"): ANY_USER,
    ("DELETE", f"{API}/documents/{{doc_id:uuid}}/tags/{{name:str}}"): ANY_USER,
    ("GET", f"{API}/documents/{{doc_id:uuid}}/permissions"): ANY_USER,
    ("PUT", f"{API}/documents/{{doc_id:uuid}}/permissions/{{user_id:uuid}}"): ANY_USER,
    ("DELETE", f"{API}/documents/{{doc_id:uuid}}/permissions/{{user_id:uuid}}"): ANY_USER,
    ("GET", f"{API}/tags"): ANY_USER,
    ("POST", f"{API}/tags"): ANY_USER,
    ("PATCH", f"{API}/tags/{{tag_id:uuid}}"): ADMIN,
    ("DELETE", f"{API}/tags/{{tag_id:uuid}}"): ADMIN,
    ("GET", f"{API}/categories"): ANY_USER,
    ("POST", f"{API}/categories"): ADMIN,
    ("PATCH", f"{API}/categories/{{category_id:uuid}}"): ADMIN,
    ("DELETE", f"{API}/categories/{{category_id:uuid}}"): ADMIN,
    ("GET", f"{API}/file-types"): ANY_USER,
    ("PUT", f"{API}/file-types/{{extension:str}}"): ADMIN,
    ("GET", f"{API}/events"): ADMIN,
    ("GET", f"{API}/uploads"): ADMIN,
    ("GET", f"{API}/jobs"): ADMIN,
    ("POST", f"{API}/jobs/{{job_id:int}}/retry"): ADMIN,
    ("GET", f"{API}/taxonomies"): ANY_USER,
    ("POST", f"{API}/taxonomies"): ADMIN,
    ("GET", f"{API}/taxonomies/{{version:str}}/nodes"): ANY_USER,
    ("POST", f"{API}/taxonomies/{{version:str}}/nodes"): ADMIN,
    ("POST", f"{API}/taxonomies/{{version:str}}/publish"): ADMIN,
    ("POST", f"{API}/documents/{{doc_id:uuid}}/classifications"): ANY_USER,
    ("GET", f"{API}/documents/{{doc_id:uuid}}/classifications"): ANY_USER,
    ("DELETE", f"{API}/documents/{{doc_id:uuid}}/classifications/{{node_id:uuid}}"): ANY_USER,
    ("POST", f"{API}/documents/{{doc_id:uuid}}/classifications/{{node_id:uuid}}/approve"): ANY_USER,
    ("GET", f"{API}/classifications/review"): ANY_USER,
    ("POST", f"{API}/search"): ANY_USER,
    ("GET", f"{API}/documents/{{doc_id:uuid}}/similar"): ANY_USER,
    ("GET", f"{API}/search/history"): ANY_USER,
    ("POST", f"{API}/search/{{query_id:uuid}}/feedback"): ANY_USER,
    ("GET", f"{API}/analytics/search"): ADMIN,
    ("GET", f"{API}/stats"): ADMIN,
}

# OPTIONS is Litestar's automatic CORS-preflight answer: no data, deliberately unauthenticated.
_UNGUARDED_METHODS = frozenset({"OPTIONS"})
_PATH_PARAMETER = re.compile(r"\{(\w+):(\w+)\}")
_SAMPLE_OF_TYPE: dict[str, Callable[[], str]] = {
    "uuid": lambda: str(uuid4()),
    # str parameters: a setting key, a tag name, a file extension; any word will do.
    "str": lambda: "search_retention_days",
    "int": lambda: "1",  # a job id
}


def api_routes(app: Litestar) -> set[tuple[str, str]]:
    """Every (method, path template) the app serves under /api/v1."""
    return {
        (method, route.path)
        for route in app.routes
        if isinstance(route, HTTPRoute) and route.path.startswith(f"{API}/")
        for handler in route.route_handlers
        for method in handler.http_methods
        if method not in _UNGUARDED_METHODS
    }


def concrete(path: str) -> str:
    """The path template with each parameter filled with a value of its type."""

    def sample(match: re.Match[str]) -> str:
        kind = match.group(2)
        assert kind in _SAMPLE_OF_TYPE, f"no sample value for a {kind} path parameter ({path})"
        return _SAMPLE_OF_TYPE[kind]()

    return _PATH_PARAMETER.sub(sample, path)


async def call(api: Api, method: str, path: str, caller: Caller | None) -> httpx.Response:
    body: dict[str, Any] | None = {} if method in {"POST", "PUT", "PATCH"} else None
    return await api.client.request(
        method, concrete(path), json=body, headers=caller.headers if caller else {}
    )


def is_bearer_challenge(response: httpx.Response) -> bool:
    return (
        response.status_code == 401
        and response.headers["content-type"].startswith(PROBLEM_JSON)
        and response.headers.get("www-authenticate", "").startswith("Bearer ")
    )


def routes_for(access: str) -> list[tuple[str, str]]:
    return sorted(key for key, value in ROUTE_ACCESS.items() if value == access)


async def test_every_api_route_is_classified_and_every_classified_route_exists(api: Api) -> None:
    served = api_routes(api.app)

    assert sorted(served - ROUTE_ACCESS.keys()) == [], "routes missing from ROUTE_ACCESS"
    assert sorted(ROUTE_ACCESS.keys() - served) == [], "ROUTE_ACCESS names unserved routes"


async def test_anonymous_caller_gets_401_on_every_api_route(api: Api) -> None:
    responses = {route: await call(api, *route, caller=None) for route in api_routes(api.app)}

    assert responses, "the app serves no /api/v1 route"
    not_challenged = {
        r: res.status_code for r, res in responses.items() if not is_bearer_challenge(res)
    }
    assert not_challenged == {}


@pytest.mark.parametrize("role", ["member", "guest"])
async def test_non_admin_gets_403_on_every_admin_route(api: Api, role: str) -> None:
    caller: Caller = getattr(api, role)

    statuses = {r: (await call(api, *r, caller=caller)).status_code for r in routes_for(ADMIN)}

    assert {route: s for route, s in statuses.items() if s != 403} == {}


@pytest.mark.parametrize("role", ["member", "guest"])
async def test_non_admin_is_let_through_on_every_route_open_to_any_user(
    api: Api, role: str
) -> None:
    caller: Caller = getattr(api, role)

    statuses = {r: (await call(api, *r, caller=caller)).status_code for r in routes_for(ANY_USER)}

    refused = {route: s for route, s in statuses.items() if s in {401, 403} or s >= 500}
    assert refused == {}


async def test_admin_is_let_through_on_every_api_route(api: Api) -> None:
    statuses = {r: (await call(api, *r, caller=api.admin)).status_code for r in api_routes(api.app)}

    refused = {route: s for route, s in statuses.items() if s in {401, 403} or s >= 500}
    assert refused == {}


@pytest.mark.parametrize("role", ["member", "guest"])
async def test_non_admin_can_list_their_own_tokens(api: Api, role: str) -> None:
    caller: Caller = getattr(api, role)

    response = await api.client.get(f"{API}/tokens", headers=caller.headers)

    assert response.status_code == 200
    assert [t["id"] for t in response.json()["items"]] == [str(caller.token_id)]
