"""Schemas of the /me route."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict
from uuid import UUID

from application.context import Principal
from interfaces.http.schemas.users import RoleName


class Me(TypedDict):
    """`GET /me`: the authenticated user (the fields of `User`) and the token in use.

    A TypedDict, not a model: the handler returns a plain dict, which Litestar hands to msgspec
    as is, while the OpenAPI schema is generated from these annotations just as from a model.
    `/me` is every client's first call and the benchmark of issue #2; a pydantic model here
    (validated twice, then dumped) cost ~35 µs a request (docs/benchmarks.md)."""

    id: UUID
    email: str
    name: str
    department: str | None
    access_level: int
    role: RoleName
    is_active: bool
    last_login_at: datetime | None
    created_at: datetime
    updated_at: datetime
    token_id: UUID


def me_of(principal: Principal) -> Me:
    """The `/me` body of a principal. No validation: the values come from a domain `User`
    the storage layer built, already of the right types."""
    user = principal.user
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "department": user.department,
        "access_level": int(user.access_level),
        "role": user.role.value,
        "is_active": user.is_active,
        "last_login_at": user.last_login_at,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "token_id": principal.token_id,
    }
