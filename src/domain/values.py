"""Value objects and the small validators every entity shares."""

from __future__ import annotations

import enum
import re
from typing import Final

from domain.errors import ValidationFailed

# Deliberately pragmatic: one '@', a dot-separated domain, no spaces or control characters.
# Deliverability is the mail server's business; this rejects what is plainly not an address.
_EMAIL_RE: Final = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
EMAIL_MAX: Final = 255
NAME_MAX: Final = 100
DEPARTMENT_MAX: Final = 50


def normalize_email(raw: str, field_name: str = "email") -> str:
    """Return the address lower-cased and stripped, or raise `ValidationFailed`."""
    if not isinstance(raw, str):
        raise ValidationFailed.on(field_name, "must be a string")
    value = raw.strip().lower()
    if not value:
        raise ValidationFailed.on(field_name, "must not be empty")
    if len(value) > EMAIL_MAX:
        raise ValidationFailed.on(field_name, f"must be at most {EMAIL_MAX} characters")
    local, _, _ = value.partition("@")
    if len(local) > 64 or not _EMAIL_RE.match(value):
        raise ValidationFailed.on(field_name, "is not a valid email address")
    return value


def bounded_text(raw: str, field_name: str, max_length: int, *, allow_empty: bool = False) -> str:
    """Strip `raw`, refuse control characters, empties (unless allowed) and overlong values."""
    if not isinstance(raw, str):
        raise ValidationFailed.on(field_name, "must be a string")
    value = raw.strip()
    if not value and not allow_empty:
        raise ValidationFailed.on(field_name, "must not be empty")
    if len(value) > max_length:
        raise ValidationFailed.on(field_name, f"must be at most {max_length} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValidationFailed.on(field_name, "must not contain control characters")
    return value


def optional_department(raw: str | None, field_name: str = "department") -> str | None:
    if raw is None:
        return None
    value = bounded_text(raw, field_name, DEPARTMENT_MAX, allow_empty=True)
    return value or None


class Role(enum.StrEnum):
    """What a user may do beyond their clearance: guests read, members write, admins manage."""

    GUEST = "guest"
    MEMBER = "member"
    ADMIN = "admin"

    @classmethod
    def parse(cls, raw: str, field_name: str = "role") -> Role:
        try:
            return cls(raw)
        except (ValueError, TypeError):
            allowed = ", ".join(r.value for r in cls)
            raise ValidationFailed.on(field_name, f"must be one of {allowed}") from None


class AccessLevel(enum.IntEnum):
    """Clearance of a user, sensitivity of a document: L1 (public) to L3 (restricted)."""

    L1 = 1
    L2 = 2
    L3 = 3

    @classmethod
    def parse(cls, raw: int, field_name: str = "access_level") -> AccessLevel:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValidationFailed.on(field_name, "must be an integer from 1 to 3")
        try:
            return cls(raw)
        except ValueError:
            raise ValidationFailed.on(field_name, "must be an integer from 1 to 3") from None
