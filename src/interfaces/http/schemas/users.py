"""Schemas of the users routes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import Field, field_validator

from domain.errors import ValidationFailed
from domain.users import User as DomainUser
from domain.values import DEPARTMENT_MAX, EMAIL_MAX, NAME_MAX, normalize_email
from interfaces.http.openapi import EMAIL, LINE, OPTIONAL_LINE, schema_only
from interfaces.http.schemas.common import Input, refuse_nulls

RoleName = Literal["guest", "member", "admin"]


def _email(value: str) -> str:
    try:
        return normalize_email(value)
    except ValidationFailed as err:
        raise ValueError(err.errors[0].message if err.errors else err.message) from None


class UserCreate(Input):
    email: str = Field(max_length=EMAIL_MAX, json_schema_extra=schema_only(EMAIL))
    name: str = Field(min_length=1, max_length=NAME_MAX, json_schema_extra=schema_only(LINE))
    department: str | None = Field(
        default=None, max_length=DEPARTMENT_MAX, json_schema_extra=schema_only(OPTIONAL_LINE)
    )
    access_level: int = Field(default=1, ge=1, le=3)
    role: RoleName = "member"

    _check_email = field_validator("email")(_email)


class UserUpdate(Input):
    """Every field optional; only those sent change. `department: null` clears it."""

    email: str | None = Field(
        default=None, max_length=EMAIL_MAX, json_schema_extra=schema_only(EMAIL)
    )
    name: str | None = Field(
        default=None, min_length=1, max_length=NAME_MAX, json_schema_extra=schema_only(LINE)
    )
    department: str | None = Field(
        default=None, max_length=DEPARTMENT_MAX, json_schema_extra=schema_only(OPTIONAL_LINE)
    )
    access_level: int | None = Field(default=None, ge=1, le=3)
    role: RoleName | None = None
    is_active: bool | None = None

    @field_validator("email")
    @classmethod
    def _check_email(cls, value: str | None) -> str | None:
        return _email(value) if value is not None else None

    # Fields that may be left out but not sent as null (the schema says so too).
    NOT_NULL: ClassVar[tuple[str, ...]] = ("email", "name", "access_level", "role", "is_active")

    def changes(self) -> dict[str, Any]:
        sent = self.model_dump(include=self.model_fields_set)
        return refuse_nulls(sent, self.NOT_NULL)


@dataclass(slots=True)
class User:
    """A user as the users routes (and, with its token, `/me`) return it.

    A dataclass, not a pydantic model: the values come from a domain `User`, already of the
    right types, so nothing is validated; msgspec encodes it as is (`/me`, every client's first
    call, is the benchmark of issue #2: docs/benchmarks.md), and the OpenAPI schema is
    generated from these fields just as from a model. Not frozen: a frozen dataclass's
    `__init__` costs a request a few µs more."""

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

    @classmethod
    def of(cls, user: DomainUser) -> User:
        return cls(
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
        )
