"""What every schema module shares: the base of request bodies, the page of a listing, and
validators of values sent as text."""

from __future__ import annotations

import json
from typing import Any, Final, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from domain.errors import ValidationFailed
from interfaces.http.validation import StoredText

T = TypeVar("T")


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


class ListOf(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def json_object(raw: str | None, field_name: str) -> dict[str, Any] | None:
    """A JSON object sent as text (a multipart field, a query parameter); None if absent."""
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, dict):
        raise ValidationFailed.on(field_name, "must be a JSON object (sent as text)")
    return value


def refuse_nulls(sent: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """`sent` unchanged, unless it sends null for one of `names` (fields that may be left out
    but not cleared)."""
    for name in names:
        if name in sent and sent[name] is None:
            raise ValidationFailed.on(name, "must not be null")
    return sent
