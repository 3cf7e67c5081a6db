"""/me, the probes, the security headers on every response, and what a 500 may reveal."""

from __future__ import annotations

from uuid import UUID

import pytest
from dependency_injector import providers

from application.context import RequestContext
from tests.api.conftest import API, Api, Caller, assert_problem


@pytest.mark.parametrize(("role", "access_level"), [("admin", 3), ("member", 2), ("guest", 1)])
async def test_me_is_the_caller_and_the_token_they_used(
    api: Api, role: str, access_level: int
) -> None:
    caller: Caller = getattr(api, role)

    response = await api.client.get(f"{API}/me", headers=caller.headers)

    assert response.status_code == 200
    me = response.json()
    assert (me["id"], me["email"], me["role"], me["access_level"]) == (
        str(caller.user_id),
        caller.email,
        role,
        access_level,
    )
    assert me["token_id"] == str(caller.token_id)


async def test_health_answers_200_without_a_token(api: Api) -> None:
    response = await api.client.get("/health")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_ready_answers_200_when_the_store_is_ready(api: Api) -> None:
    response = await api.client.get("/ready")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


# --- security headers ------------------------------------------------------------------------

STRICT_CSP = "default-src 'none'; frame-ancestors 'none'"


@pytest.mark.parametrize(
    ("path", "role", "status"),
    [
        pytest.param(f"{API}/me", "member", 200, id="success"),
        pytest.param(f"{API}/me", None, 401, id="unauthenticated"),
        pytest.param(f"{API}/users", "member", 403, id="forbidden"),
        pytest.param(f"{API}/users?limit=0", "admin", 422, id="invalid"),
        pytest.param(f"{API}/no-such-route", "member", 404, id="unknown route"),
    ],
)
async def test_every_api_response_forbids_sniffing_framing_scripts_and_caching(
    api: Api, path: str, role: str | None, status: int
) -> None:
    headers = getattr(api, role).headers if role else {}

    response = await api.client.get(path, headers=headers)

    assert response.status_code == status
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["content-security-policy"] == STRICT_CSP
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", ["/health", "/ready"])
async def test_probes_forbid_sniffing_and_scripts(api: Api, path: str) -> None:
    response = await api.client.get(path)

    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == STRICT_CSP


# --- unexpected errors -------------------------------------------------------------------------


class ExplodingUserService:
    """Stands in for the user use cases and fails the way a bug would."""

    async def get(self, ctx: RequestContext, user_id: UUID) -> None:
        raise RuntimeError("boom: internal detail /srv/archivist/secret.py line 42")


async def test_unexpected_error_is_a_generic_500_problem_without_a_traceback(api: Api) -> None:
    api.container.users.override(providers.Object(ExplodingUserService()))

    response = await api.client.get(f"{API}/users/{api.member.user_id}", headers=api.admin.headers)

    problem = assert_problem(response, 500)
    assert problem["detail"] == "internal server error"
    for leak in ("Traceback", "RuntimeError", "boom", "secret.py", 'File "'):
        assert leak not in response.text
    assert response.headers["cache-control"] == "no-store"
