"""Instants in query strings: RFC 3339 date-times, or a bare date (the start of that day,
UTC), as the OpenAPI document says.

Litestar would also read `0.5` or `1700000000` as a datetime (seconds since 1970), which the
document (`format: date-time`) does not allow and no client means; so the parameters are read
as text and parsed here."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any, Final

from litestar.openapi.spec import OpenAPIFormat, OpenAPIType, Schema

from domain.errors import ValidationFailed

_RFC3339: Final = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})"
)
_DAY: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
# `schema_extra` of such a parameter: the document keeps saying date-time.
DATE_TIME: Final[dict[str, Any]] = {"format": OpenAPIFormat.DATE_TIME}
# The description of such a parameter's values (after what it bounds).
DATE_OR_DAY: Final = "an RFC 3339 date-time, or a date (2026-01-31: the start of that day, UTC)."
# `schema_extra` of a parameter `instant_or_day` reads: a date-time or a date.
DATE_TIME_OR_DATE: Final[dict[str, Any]] = {
    "any_of": [
        Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE_TIME),
        Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE),
    ]
}


def rfc3339(raw: str | None, name: str) -> datetime | None:
    """The instant `raw` names, or None when absent; `ValidationFailed` on the parameter
    for anything but an RFC 3339 date-time (an offset is required)."""
    if raw is None:
        return None
    found = _RFC3339.fullmatch(raw)
    if found is None:
        raise ValidationFailed.on(
            name, "must be an RFC 3339 date-time, e.g. 2026-01-31T12:00:00Z, or a date"
        )
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


def instant_or_day(raw: str | None, name: str) -> datetime | None:
    """`aware_rfc3339`, and a bare date (`2026-01-31`, RFC 3339 full-date) is the start of
    that day in UTC: `created_after=2026-01-31` includes the 31st, `created_before=2026-01-31`
    stops before it. Anything else is a 422 naming the parameter."""
    if raw is None or _DAY.fullmatch(raw) is None:
        return aware_rfc3339(raw, name)
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed.on(name, "is not a valid date") from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
