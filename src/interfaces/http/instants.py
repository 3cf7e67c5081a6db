"""Instants in query strings: RFC 3339 date-times, as the OpenAPI document says.

Litestar would also read `0.5` or `1700000000` as a datetime (seconds since 1970), which the
document (`format: date-time`) does not allow and no client means; so the parameters are read
as text and parsed here."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Final

from litestar.openapi.spec import OpenAPIFormat

from domain.errors import ValidationFailed

_RFC3339: Final = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})"
)
# `schema_extra` of such a parameter: the document keeps saying date-time.
DATE_TIME: Final[dict[str, Any]] = {"format": OpenAPIFormat.DATE_TIME}


def rfc3339(raw: str | None, name: str) -> datetime | None:
    """The instant `raw` names, or None when absent; `ValidationFailed` on the parameter
    for anything but an RFC 3339 date-time (an offset is required)."""
    if raw is None:
        return None
    found = _RFC3339.fullmatch(raw)
    if found is None:
        raise ValidationFailed.on(name, "must be an RFC 3339 date-time, e.g. 2026-01-31T12:00:00Z")
    day, time, fraction, offset = found.groups()
    micro = f".{fraction[:6]}" if fraction else ""  # Python keeps microseconds
    zone = "+00:00" if offset in {"Z", "z"} else offset
    try:
        return datetime.fromisoformat(f"{day}T{time}{micro}{zone}")
    except ValueError:
        raise ValidationFailed.on(name, "is not a valid date and time") from None


def aware_rfc3339(raw: str | None, name: str) -> datetime | None:
    """`rfc3339`, and an instant without a time zone offset is a 422 naming the field."""
    value = rfc3339(raw, name)
    if value is not None and value.tzinfo is None:
        raise ValidationFailed.on(name, "needs a time zone offset (RFC 3339)")
    return value
