"""Users: who may sign in, with which clearance, department and role."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from domain.errors import ValidationFailed
from domain.values import (
    NAME_MAX,
    AccessLevel,
    Role,
    bounded_text,
    normalize_email,
    optional_department,
)


@dataclass(eq=False, slots=True)
class User:
    """A person or service account. Equality is object identity (`eq=False`), as for every
    entity: two loaded copies of one user are not `==`; compare their `id`s."""

    id: UUID
    email: str
    name: str
    department: str | None
    access_level: AccessLevel
    role: Role
    is_active: bool
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None = None
    last_login_ip: str | None = None

    @classmethod
    def register(
        cls,
        *,
        email: str,
        name: str,
        now: datetime,
        department: str | None = None,
        access_level: int = AccessLevel.L1,
        role: str = Role.MEMBER,
        user_id: UUID | None = None,
    ) -> User:
        return cls(
            id=user_id or uuid4(),
            email=normalize_email(email),
            name=bounded_text(name, "name", NAME_MAX),
            department=optional_department(department),
            access_level=AccessLevel.parse(access_level),
            role=Role.parse(role),
            is_active=True,
            created_at=now,
            updated_at=now,
        )

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_active_admin(self) -> bool:
        return self.is_active and self.is_admin

    def apply(self, changes: UserChanges, now: datetime) -> dict[str, Any]:
        """Apply `changes`; return {field: new value} for what really changed."""
        changed: dict[str, Any] = {}
        for name, value in changes.normalized().items():
            if getattr(self, name) != value:
                setattr(self, name, value)
                changed[name] = value
        if changed:
            self.updated_at = now
        return changed


USER_CHANGEABLE_FIELDS = frozenset(
    {"email", "name", "department", "access_level", "role", "is_active"}
)


@dataclass(frozen=True, slots=True)
class UserChanges:
    """A partial update: only the keys present in `values` are touched."""

    values: dict[str, Any] = field(default_factory=dict)

    def normalized(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in self.values.items():
            if key not in USER_CHANGEABLE_FIELDS:
                raise ValidationFailed.on(key, "cannot be changed")
            if value is None and key != "department":
                raise ValidationFailed.on(key, "must not be null")
            if key == "email":
                out[key] = normalize_email(value)
            elif key == "name":
                out[key] = bounded_text(value, "name", NAME_MAX)
            elif key == "department":
                out[key] = optional_department(value)
            elif key == "access_level":
                out[key] = AccessLevel.parse(value)
            elif key == "role":
                out[key] = Role.parse(value)
            elif key == "is_active":
                if not isinstance(value, bool):
                    raise ValidationFailed.on(key, "must be true or false")
                out[key] = value
        return out


@dataclass(frozen=True, slots=True)
class UserFilter:
    role: Role | None = None
    department: str | None = None
    is_active: bool | None = None

    def matches(self, user: User) -> bool:
        return (
            (self.role is None or user.role is self.role)
            and (self.department is None or user.department == self.department)
            and (self.is_active is None or user.is_active is self.is_active)
        )
