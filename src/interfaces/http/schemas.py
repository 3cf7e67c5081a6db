"""Pydantic schemas of the HTTP API: `XCreate` / `XUpdate` in, `X` out."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Final, Generic, Literal, TypedDict, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from application.context import Principal
from domain.errors import ValidationFailed
from domain.settings import Setting as DomainSetting
from domain.tokens import MAX_TTL_DAYS, ApiToken
from domain.users import User as DomainUser
from domain.values import DEPARTMENT_MAX, EMAIL_MAX, NAME_MAX, clip_json_value, normalize_email
from interfaces.http.openapi import EMAIL, LINE, OPTIONAL_LINE, schema_only
from interfaces.http.validation import StoredText

T = TypeVar("T")

RoleName = Literal["guest", "member", "admin"]


class Input(StoredText):
    """Request bodies: unknown fields are an error, not silently dropped; no string holds
    what PostgreSQL text cannot (`StoredText`)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _json_boolean(cls, value: Any, info: ValidationInfo) -> Any:
        # A boolean is true or false: pydantic's lax mode would take 0, 1, "yes" (and
        # the OpenAPI schema, which says boolean, would not be true).
        field = cls.model_fields.get(info.field_name or "")
        is_boolean = field is not None and field.annotation in _BOOLEAN
        if is_boolean and value is not None and not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value


_BOOLEAN: Final = (bool, bool | None)


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
        for name in self.NOT_NULL:
            if name in sent and sent[name] is None:
                raise ValidationFailed.on(name, "must not be null")
        return sent


class User(BaseModel):
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


class TokenCreate(Input):
    name: str = Field(min_length=1, max_length=NAME_MAX, json_schema_extra=schema_only(LINE))
    expires_in_days: int | None = Field(default=None, ge=1, le=MAX_TTL_DAYS)
    user_id: UUID | None = None


class Token(BaseModel):
    id: UUID
    user_id: UUID
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> Token:
        return cls(
            id=token.id,
            user_id=token.user_id,
            name=token.name,
            prefix=token.prefix,
            created_at=token.created_at,
            expires_at=token.expires_at,
            last_used_at=token.last_used_at,
            revoked_at=token.revoked_at,
        )


class TokenCreated(Token):
    token: str = Field(description="The secret. Shown this once; store it now.")


SettingTypeName = Literal["string", "integer", "boolean", "json"]


class SettingPut(Input):
    value: Any
    type: SettingTypeName | None = None
    description: str | None = Field(default=None, max_length=2000)
    is_public: bool | None = None


class Setting(BaseModel):
    key: str
    value: Any
    type: SettingTypeName
    description: str
    is_public: bool
    updated_at: datetime | None

    @classmethod
    def of(cls, setting: DomainSetting) -> Setting:
        return cls(
            key=setting.key,
            value=clip_json_value(setting.value),
            type=setting.type.value,
            description=setting.description,
            is_public=setting.is_public,
            updated_at=setting.updated_at,
        )


class ListOf(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None
