"""Bad input gets a clear 4xx problem, never a 500, and nothing is written (SPEC principle 7;
issue #2, acceptance 4). Field errors name the field and where it came from."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.conftest import API, Api, assert_problem, store_state

# An address of 256 characters: a valid local part and valid labels, just too long in total.
EMAIL_256 = "a" * 64 + "@" + ".".join(["b" * 63, "c" * 63, "d" * 60]) + ".io"
assert len(EMAIL_256) == 256

VALID_USER = {"email": "new@example.com", "name": "New User"}


def user(**changes: Any) -> dict[str, Any]:
    return {**VALID_USER, **changes}


# (method, path, JSON body, offending field, where it came from). `{member}` is the member's id.
INVALID_FIELDS = [
    pytest.param("POST", "/users", user(email="not-an-email"), "email", "body", id="invalid email"),
    pytest.param(
        "POST", "/users", user(email="a b@example.com"), "email", "body", id="email space"
    ),
    pytest.param("POST", "/users", user(email=EMAIL_256), "email", "body", id="email 256 chars"),
    pytest.param("POST", "/users", {"name": "No Email"}, "email", "body", id="email missing"),
    pytest.param("POST", "/users", user(name="n" * 101), "name", "body", id="name 101 chars"),
    pytest.param("POST", "/users", user(name=""), "name", "body", id="name empty"),
    pytest.param("POST", "/users", user(name="a\x00b"), "name", "body", id="name control char"),
    pytest.param(
        "POST", "/users", user(department="d" * 51), "department", "body", id="department 51"
    ),
    pytest.param("POST", "/users", user(access_level=0), "access_level", "body", id="level 0"),
    pytest.param("POST", "/users", user(access_level=4), "access_level", "body", id="level 4"),
    pytest.param(
        "POST", "/users", user(access_level="high"), "access_level", "body", id="level text"
    ),
    pytest.param("POST", "/users", user(role="superuser"), "role", "body", id="unknown role"),
    pytest.param(
        "POST", "/users", user(is_superuser=True), "is_superuser", "body", id="unknown field"
    ),
    pytest.param("PATCH", "/users/{member}", {"name": None}, "name", "body", id="null name"),
    pytest.param("PATCH", "/users/{member}", {"email": None}, "email", "body", id="null email"),
    pytest.param("PATCH", "/users/{member}", {"role": None}, "role", "body", id="null role"),
    pytest.param(
        "PATCH", "/users/{member}", {"is_active": None}, "is_active", "body", id="null is_active"
    ),
    pytest.param(
        "PATCH",
        "/users/{member}",
        {"access_level": None},
        "access_level",
        "body",
        id="null access_level",
    ),
    pytest.param(
        "PATCH", "/users/{member}", {"email": "nope"}, "email", "body", id="patch invalid email"
    ),
    pytest.param(
        "PATCH", "/users/{member}", {"access_level": 4}, "access_level", "body", id="patch level 4"
    ),
    pytest.param("PATCH", "/users/{member}", {"role": "owner"}, "role", "body", id="patch role"),
    pytest.param("PATCH", "/users/{member}", {"id": "x"}, "id", "body", id="patch unknown field"),
    pytest.param("POST", "/tokens", {"name": "t" * 101}, "name", "body", id="token name 101"),
    pytest.param("POST", "/tokens", {"name": ""}, "name", "body", id="token name empty"),
    pytest.param(
        "POST",
        "/tokens",
        {"name": "t", "expires_in_days": 0},
        "expires_in_days",
        "body",
        id="expires_in_days 0",
    ),
    pytest.param(
        "POST",
        "/tokens",
        {"name": "t", "expires_in_days": 3651},
        "expires_in_days",
        "body",
        id="expires_in_days 3651",
    ),
    pytest.param(
        "POST", "/tokens", {"name": "t", "user_id": "bob"}, "user_id", "body", id="user_id text"
    ),
    pytest.param(
        "POST", "/tokens", {"name": "t", "scope": "all"}, "scope", "body", id="token extra"
    ),
    pytest.param(
        "PUT",
        "/settings/search_retention_days",
        {"value": "ninety"},
        "value",
        "body",
        id="setting wrong type",
    ),
    pytest.param(
        "PUT",
        "/settings/search_retention_days",
        {"value": True},
        "value",
        "body",
        id="setting boolean for integer",
    ),
    pytest.param(
        "PUT",
        "/settings/search_retention_days",
        {"value": 0},
        "value",
        "body",
        id="setting below range",
    ),
    pytest.param(
        "PUT",
        "/settings/trash_retention_days",
        {"value": 3651},
        "value",
        "body",
        id="setting above range",
    ),
    pytest.param(
        "PUT",
        "/settings/default_token_ttl_days",
        {"value": 30, "type": "string"},
        "type",
        "body",
        id="setting retyped",
    ),
    pytest.param(
        "PUT", "/settings/site_name", {"value": "Archive"}, "type", "body", id="new setting no type"
    ),
    pytest.param(
        "PUT",
        "/settings/site_name",
        {"value": "Archive", "type": "text"},
        "type",
        "body",
        id="unknown setting type",
    ),
    pytest.param(
        "PUT",
        "/settings/site_name",
        {"value": 1, "type": "string"},
        "value",
        "body",
        id="new setting wrong type",
    ),
    pytest.param("PUT", "/settings/Bad-Key", {"value": 1}, "key", "path", id="setting bad key"),
    pytest.param("GET", "/users?limit=0", None, "limit", "query", id="users limit 0"),
    pytest.param("GET", "/users?limit=201", None, "limit", "query", id="users limit 201"),
    pytest.param("GET", "/users?limit=ten", None, "limit", "query", id="users limit text"),
    pytest.param("GET", "/users?cursor=bogus", None, "cursor", "query", id="users bogus cursor"),
    pytest.param("GET", "/users?role=owner", None, "role", "query", id="users unknown role"),
    pytest.param("GET", "/users?is_active=maybe", None, "is_active", "query", id="users is_active"),
    pytest.param(
        "GET", "/users?department=" + "d" * 51, None, "department", "query", id="department 51"
    ),
    pytest.param("GET", "/tokens?limit=0", None, "limit", "query", id="tokens limit 0"),
    pytest.param("GET", "/tokens?limit=201", None, "limit", "query", id="tokens limit 201"),
    pytest.param("GET", "/tokens?cursor=bogus", None, "cursor", "query", id="tokens bogus cursor"),
    pytest.param("GET", "/tokens?user_id=bob", None, "user_id", "query", id="tokens user_id"),
]


@pytest.mark.parametrize(("method", "path", "body", "field", "source"), INVALID_FIELDS)
async def test_invalid_field_is_422_naming_the_field_and_writes_nothing(
    api: Api, method: str, path: str, body: Any, field: str, source: str
) -> None:
    before = await store_state(api.container)

    response = await api.client.request(
        method,
        API + path.format(member=api.member.user_id),
        json=body,
        headers=api.admin.headers,
    )

    problem = assert_problem(response, 422)
    assert {(e["field"], e["source"]) for e in problem["errors"]} == {(field, source)}
    assert all(e["message"] for e in problem["errors"])
    assert await store_state(api.container) == before


async def test_field_error_message_is_the_rule_without_pydantic_decoration(api: Api) -> None:
    response = await api.client.post(
        f"{API}/users", json=user(email="not-an-email"), headers=api.admin.headers
    )

    [error] = assert_problem(response, 422)["errors"]
    assert error["message"] == "is not a valid email address"


# Every route with a body, once; the other kinds of breakage on the first.
MALFORMED_BODIES = [
    pytest.param("POST", "/users", b'{"email": ', id="create user, truncated"),
    pytest.param("POST", "/users", b"{'email': 'a@b.co'}", id="create user, single quotes"),
    pytest.param("POST", "/users", b"\xff\xfe", id="create user, not utf-8"),
    pytest.param("PATCH", "/users/{member}", b'{"name": "x",}', id="update user"),
    pytest.param("POST", "/tokens", b'{"name": "t"', id="issue token"),
    pytest.param("PUT", "/settings/site_name", b"value=1", id="put setting"),
]

NON_OBJECT_BODIES = [
    pytest.param("POST", "/users", [VALID_USER], id="create user, array"),
    pytest.param("POST", "/users", "new@example.com", id="create user, string"),
    pytest.param("POST", "/users", None, id="create user, null"),
    pytest.param("PATCH", "/users/{member}", [{"name": "x"}], id="update user"),
    pytest.param("POST", "/tokens", [{"name": "t"}], id="issue token"),
    pytest.param("PUT", "/settings/site_name", [{"value": 1}], id="put setting"),
]


@pytest.mark.parametrize(("method", "path", "content"), MALFORMED_BODIES)
async def test_malformed_json_is_400_and_writes_nothing(
    api: Api, method: str, path: str, content: bytes
) -> None:
    before = await store_state(api.container)

    response = await api.client.request(
        method,
        API + path.format(member=api.member.user_id),
        content=content,
        headers={**api.admin.headers, "Content-Type": "application/json"},
    )

    assert_problem(response, 400)
    assert await store_state(api.container) == before


@pytest.mark.parametrize(("method", "path", "body"), NON_OBJECT_BODIES)
async def test_json_that_is_not_an_object_is_422_and_writes_nothing(
    api: Api, method: str, path: str, body: Any
) -> None:
    before = await store_state(api.container)

    response = await api.client.request(
        method,
        API + path.format(member=api.member.user_id),
        content=json.dumps(body).encode(),
        headers={**api.admin.headers, "Content-Type": "application/json"},
    )

    problem = assert_problem(response, 422)
    assert [e["source"] for e in problem["errors"]] == ["body"]
    assert await store_state(api.container) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("GET", "/users/not-a-uuid", id="get user"),
        pytest.param("PATCH", "/users/not-a-uuid", id="update user"),
        pytest.param("PATCH", "/users/123", id="update user, number"),
        pytest.param("DELETE", "/tokens/not-a-uuid", id="revoke token"),
    ],
)
async def test_non_uuid_id_in_path_is_a_4xx_problem_and_writes_nothing(
    api: Api, method: str, path: str
) -> None:
    before = await store_state(api.container)

    response = await api.client.request(
        method,
        API + path,
        json={"name": "x"} if method == "PATCH" else None,
        headers=api.admin.headers,
    )

    assert 400 <= response.status_code < 500
    assert_problem(response, response.status_code)
    assert await store_state(api.container) == before


@pytest.mark.parametrize(
    "email",
    [
        pytest.param("member@example.com", id="same"),
        pytest.param("Member@Example.COM", id="differing by case"),
        pytest.param("  member@example.com ", id="surrounded by spaces"),
    ],
)
async def test_creating_a_user_with_a_taken_email_is_409_and_writes_nothing(
    api: Api, email: str
) -> None:
    before = await store_state(api.container)

    response = await api.client.post(
        f"{API}/users", json=user(email=email), headers=api.admin.headers
    )

    assert_problem(response, 409)
    assert await store_state(api.container) == before


async def test_changing_email_to_a_taken_one_is_409_and_writes_nothing(api: Api) -> None:
    before = await store_state(api.container)

    response = await api.client.patch(
        f"{API}/users/{api.guest.user_id}",
        json={"email": "MEMBER@example.com"},
        headers=api.admin.headers,
    )

    assert_problem(response, 409)
    assert await store_state(api.container) == before
