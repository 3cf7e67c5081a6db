"""Keyset pagination: a page request, a page, and the opaque cursor between them."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Generic, TypeVar
from uuid import UUID

from domain.errors import ValidationFailed
from domain.values import check_instant, text_problem

T = TypeVar("T")

DEFAULT_LIMIT: Final = 50
MAX_LIMIT: Final = 200
BIGINT_MAX: Final = 2**63 - 1
# The kind of value in the cursor of each sort that has one ("t" instant, "i" integer,
# "s" string), as `SortKey.encode` writes it.
SORT_VALUE_KINDS: Final = {
    "created_at": "t",
    "-created_at": "t",
    "-timestamp": "t",
    "title": "s",
    "size_bytes": "i",
}
# Whatever a crafted cursor makes decoding raise: it is then not a cursor we issued.
_GARBAGE: Final = (
    ValueError,
    TypeError,
    OverflowError,
    RecursionError,
    binascii.Error,
    json.JSONDecodeError,
    ValidationFailed,
)


def _loads(padded: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(padded.encode()))


def _instant(raw: object) -> datetime:
    """A cursor's instant: text, with an offset, within what every storage holds."""
    if not isinstance(raw, str):
        raise ValueError(raw)
    return check_instant(datetime.fromisoformat(raw), "cursor")


@dataclass(frozen=True, slots=True)
class PageRequest:
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.limit, bool) or not 1 <= self.limit <= MAX_LIMIT:
            raise ValidationFailed.on("limit", f"must be between 1 and {MAX_LIMIT}")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_cursor: str | None


@dataclass(frozen=True, slots=True, order=True)
class CreatedKey:
    """Position of a row in `(created_at, id)` order: the keyset of most listings."""

    created_at: datetime
    id: UUID

    def encode(self) -> str:
        raw = json.dumps([self.created_at.isoformat(), str(self.id)]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> CreatedKey:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            created, ident = _loads(padded)
            key = cls(_instant(created), UUID(ident))
        except _GARBAGE:
            raise ValidationFailed.on("cursor", "is not a cursor this service issued") from None
        return key


@dataclass(frozen=True, slots=True)
class SequenceKey:
    """Position in a descending append-only sequence (the audit trail's bigint ids)."""

    id: int

    def encode(self) -> str:
        return base64.urlsafe_b64encode(f"s{self.id}".encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> SequenceKey:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            raw = base64.urlsafe_b64decode(padded.encode()).decode()
        except (ValueError, binascii.Error):
            raw = ""
        digits = raw[1:]
        if not raw.startswith("s") or not digits.isascii() or not digits.isdigit():
            raise ValidationFailed.on("cursor", "is not a cursor this service issued")
        if len(digits) > 19 or int(digits) > BIGINT_MAX:
            raise ValidationFailed.on("cursor", "is not a cursor this service issued")
        return cls(int(digits))


@dataclass(frozen=True, slots=True)
class SortKey:
    """Position in a listing sorted by one column then id: the cursor remembers the sort it
    belongs to, so a cursor from one sort is refused by another."""

    sort: str
    value: str | int | datetime
    id: UUID

    def encode(self) -> str:
        if isinstance(self.value, datetime):
            raw: list[object] = [self.sort, "t", self.value.isoformat(), str(self.id)]
        elif isinstance(self.value, int):
            raw = [self.sort, "i", self.value, str(self.id)]
        else:
            raw = [self.sort, "s", self.value, str(self.id)]
        return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str, sort: str) -> SortKey:
        bad = ValidationFailed.on("cursor", "is not a cursor of this listing")
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            got_sort, kind, value, ident = _loads(padded)
            parsed: str | int | datetime
            if kind == "t":
                parsed = _instant(value)
            elif kind in ("i", "s") and _plain_value(kind, value):
                parsed = value
            else:
                raise bad
            key = cls(got_sort, parsed, UUID(ident))
        except _GARBAGE:
            raise bad from None
        # The sort names its column, and the column its kind of value: a cursor of another
        # sort, or with a value of another kind, would compare unlike values in the query.
        if key.sort != sort or SORT_VALUE_KINDS.get(sort, kind) != kind:
            raise bad
        return key


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _plain_value(kind: str, value: object) -> bool:
    """An integer a bigint holds ("i"), or text PostgreSQL can compare ("s")."""
    if kind == "i":
        return _is_int(value) and abs(value) <= BIGINT_MAX  # type: ignore[arg-type]
    return isinstance(value, str) and text_problem(value) is None


@dataclass(frozen=True, slots=True)
class ReviewKey:
    """Position in the review queue: `(created_at, doc_id, node_id)` ascending."""

    created_at: datetime
    doc_id: UUID
    node_id: UUID

    def encode(self) -> str:
        raw = json.dumps([self.created_at.isoformat(), str(self.doc_id), str(self.node_id)])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> ReviewKey:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            at, doc, node = _loads(padded)
            key = cls(_instant(at), UUID(doc), UUID(node))
        except _GARBAGE:
            raise ValidationFailed.on("cursor", "is not a cursor of this listing") from None
        return key
