"""Value objects and the small validators every entity shares."""

from __future__ import annotations

import enum
import json
import math
import re
from datetime import UTC, datetime
from typing import Any, Final

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


# --- free text and JSON values on their way in ------------------------------------------------

# Bounds on a JSON value a client stores (document metadata, a search's metadata filter, a
# setting): deep enough for any real document description, small enough that no encoder,
# decoder or PostgreSQL's jsonb ever meets a limit of its own (docs/decisions.md, "Input bounds").
JSON_MAX_DEPTH: Final = 20  # nesting levels of objects and arrays; a scalar alone is 0
JSON_MAX_ITEMS: Final = 1000  # object members and array items, counted over the whole value
JSON_MAX_BYTES: Final = 64 * 1024  # UTF-8 bytes of its compact encoding
JSON_STRING_MAX: Final = 10_000  # characters of one string value
JSON_KEY_MAX: Final = 255  # characters of one object key
# Numbers within a bigint's range, however written: `1e20` is the integer 10**20 to JSON
# Schema (and to many JSON readers), so an integral float is held to the integers' bounds.
JSON_INT_MIN: Final = -(2**63)
JSON_INT_MAX: Final = 2**63 - 1
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as PostgreSQL text, or None: text refuses NUL, and a lone
    surrogate (which JSON's `\\ud800` escapes can make) is not encodable as UTF-8."""
    if "\x00" in value:
        return "must not contain NUL characters"
    # isascii() is O(1) on CPython's compact strings: most text is never scanned twice.
    if not value.isascii() and _SURROGATE.search(value) is not None:
        return "must be valid Unicode (no lone surrogates)"
    return None


def check_text(value: str, field_name: str) -> str:
    """`value` if PostgreSQL can store it as text, else `ValidationFailed` on the field."""
    problem = text_problem(value)
    if problem is not None:
        raise ValidationFailed.on(field_name, problem)
    return value


def check_instant(value: datetime, field_name: str) -> datetime:
    """An aware instant every storage can hold and compare: it needs an offset, and must
    stay within years 1-9999 once in UTC (`9999-12-31T23:59:59-12:00` does not)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationFailed.on(field_name, "needs a time zone offset (RFC 3339)")
    try:
        value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValidationFailed.on(field_name, "is out of range (years 1 to 9999 in UTC)") from None
    return value


def json_value_problem(value: Any) -> str | None:
    """Why `value` is not a bounded plain JSON value (see the JSON_* bounds), or None.
    Iterative, so no depth of nesting can exhaust the interpreter's stack."""
    items = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth >= JSON_MAX_DEPTH:
                return f"must not nest deeper than {JSON_MAX_DEPTH} levels"
            items += len(node)
            if items > JSON_MAX_ITEMS:
                return f"must hold at most {JSON_MAX_ITEMS} keys and items in total"
            if isinstance(node, dict):
                for key, member in node.items():
                    if not isinstance(key, str):
                        return "must have string keys"
                    if len(key) > JSON_KEY_MAX:
                        return f"keys must be at most {JSON_KEY_MAX} characters"
                    problem = text_problem(key)
                    if problem is not None:
                        return f"keys {problem}"
                    stack.append((member, depth + 1))
            else:
                stack.extend((member, depth + 1) for member in node)
        elif isinstance(node, str):
            if len(node) > JSON_STRING_MAX:
                return f"strings must be at most {JSON_STRING_MAX} characters"
            problem = text_problem(node)
            if problem is not None:
                return f"strings {problem}"
        elif isinstance(node, bool) or node is None:
            continue
        elif isinstance(node, int):
            if not JSON_INT_MIN <= node <= JSON_INT_MAX:
                return f"integers must be between {JSON_INT_MIN} and {JSON_INT_MAX}"
        elif isinstance(node, float):
            if not math.isfinite(node):
                return "numbers must be finite"
            if not JSON_INT_MIN <= node <= JSON_INT_MAX:
                return f"numbers must be between {JSON_INT_MIN} and {JSON_INT_MAX}"
        else:
            return "must be plain JSON"
    # Within the depth bound, so the encoder's recursion is safe.
    if len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()) > JSON_MAX_BYTES:
        return f"must encode to at most {JSON_MAX_BYTES} bytes"
    return None


def check_json_value(value: Any, field_name: str) -> Any:
    """`value` if it is plain JSON within the bounds, else `ValidationFailed` on the field.
    The one check every JSON value a client stores or filters by goes through."""
    problem = json_value_problem(value)
    if problem is not None:
        raise ValidationFailed.on(field_name, problem)
    return value


def clip_json_value(value: Any, max_depth: int = JSON_MAX_DEPTH) -> Any:
    """`value` as it may be shown: unchanged when it nests at most `max_depth` levels, else a
    copy whose containers below that depth are null. Values written before the bound existed
    (or by hand) would otherwise fail every response that carries them: no serializer takes
    JSON nested some hundreds of levels."""
    if not isinstance(value, _CONTAINERS) or _depth_within(value, max_depth):
        return value
    return _clipped(value, max_depth)


_CONTAINERS: Final = (dict, list)


def _depth_within(node: dict[str, Any] | list[Any], levels_left: int) -> bool:
    # Recursion at most `max_depth` deep (it stops there); this runs for every document of a
    # listing, and a plain loop is the cheapest walk for the small values metadata holds.
    if levels_left == 0:
        return False
    for member in node.values() if isinstance(node, dict) else node:
        if isinstance(member, _CONTAINERS) and not _depth_within(member, levels_left - 1):
            return False
    return True


def _clipped(value: Any, levels_left: int) -> Any:
    # Recursion at most `max_depth` deep: the input is cut there.
    if isinstance(value, dict):
        if levels_left == 0:
            return None
        return {key: _clipped(member, levels_left - 1) for key, member in value.items()}
    if isinstance(value, list):
        if levels_left == 0:
            return None
        return [_clipped(member, levels_left - 1) for member in value]
    return value
