"""Schemas of the /me route."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.context import Principal
from interfaces.http.schemas.users import User


@dataclass(slots=True)
class Me(User):
    """`GET /me`: the authenticated user (the users routes' `User`, whose fields it extends)
    and the token in use.

    Not a pydantic model: a pydantic model here (validated twice, then dumped) cost ~35 µs a
    request (docs/benchmarks.md); a dataclass costs what the plain dict it replaced did."""

    token_id: UUID


def me_of(principal: Principal) -> Me:
    """The `/me` body of a principal. No validation: the values come from a domain `User`
    the storage layer built, already of the right types."""
    user = principal.user
    return Me(
        id=user.id,
        email=user.email,
        name=user.name,
        department=user.department,
        access_level=int(user.access_level),
        role=user.role.value,
        is_active=user.is_active,
        last_login_at=user.last_login_at,
        created_at=user.created_at,
        updated_at=user.updated_at,
        token_id=principal.token_id,
    )
