"""Keyset pagination: a page request, a page, and the opaque cursor between them."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Generic, TypeVar
from uuid import UUID

from domain.errors import ValidationFailed

T = TypeVar("T")

DEFAULT_LIMIT: Final = 50
MAX_LIMIT: Final = 200


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
            created, ident = json.loads(base64.urlsafe_b64decode(padded.encode()))
            key = cls(datetime.fromisoformat(created), UUID(ident))
        except (ValueError, TypeError, binascii.Error, json.JSONDecodeError):
            raise ValidationFailed.on("cursor", "is not a cursor this service issued") from None
        if key.created_at.tzinfo is None:
            raise ValidationFailed.on("cursor", "is not a cursor this service issued")
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
        if not raw.startswith("s") or not raw[1:].isdigit() or len(raw) > 20:
            raise ValidationFailed.on("cursor", "is not a cursor this service issued")
        return cls(int(raw[1:]))


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
            got_sort, kind, value, ident = json.loads(base64.urlsafe_b64decode(padded.encode()))
            parsed: str | int | datetime
            if kind == "t":
                parsed = datetime.fromisoformat(value)
                if parsed.tzinfo is None:
                    raise bad
            elif _is_int(value) if kind == "i" else (kind == "s" and isinstance(value, str)):
                parsed = value
            else:
                raise bad
            key = cls(got_sort, parsed, UUID(ident))
        except (ValueError, TypeError, binascii.Error, json.JSONDecodeError):
            raise bad from None
        if key.sort != sort:
            raise bad
        return key


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


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
            at, doc, node = json.loads(base64.urlsafe_b64decode(padded.encode()))
            key = cls(datetime.fromisoformat(at), UUID(doc), UUID(node))
        except (ValueError, TypeError, binascii.Error, json.JSONDecodeError):
            raise ValidationFailed.on("cursor", "is not a cursor of this listing") from None
        if key.created_at.tzinfo is None:
            raise ValidationFailed.on("cursor", "is not a cursor of this listing")
        return key
