"""Keyset pagination: a page request, a page, and the opaque cursor between them.

Every listing pages the same way: it is ordered by a few columns ending in a unique one, a
page is the first `limit` rows past a position in that order, and the cursor is the position
of the last row served. `Keyset` is the one codec of those cursors: each listing declares its
keyset (below), both storages page through it, and a cursor names the listing it belongs to,
so a cursor of one listing (or of one sort of it) is refused by another."""

from __future__ import annotations

import base64
import binascii
import enum
import json
from collections.abc import Callable, Sequence
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


class Kind(enum.Enum):
    """The kind of value a keyset column holds, checked when a cursor is read back, so a
    crafted cursor never brings a value of another type into a query."""

    INSTANT = "instant"  # an aware datetime, within what every storage holds
    ID = "id"  # a UUID
    INT = "int"  # an integer a bigint holds
    TEXT = "text"  # text PostgreSQL can compare (no NUL, valid Unicode)


@dataclass(frozen=True, slots=True)
class Keyset:
    """The order of one listing, and the codec of its cursors.

    `columns` are the kinds of the order's values, the last one unique; `descending` tells
    which way the listing runs. A cursor is the listing's name and the values of the last row
    served, as URL-safe base64 of JSON (`encode`); `decode` gives the values back, checked
    against the kinds, or refuses the cursor with a 422 on "cursor"."""

    listing: str
    columns: tuple[Kind, ...]
    descending: bool = False

    def encode(self, values: Sequence[object]) -> str:
        raw = [self.listing, *(_dumped(k, v) for k, v in zip(self.columns, values, strict=True))]
        return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")

    def decode(self, cursor: str) -> tuple[Any, ...]:
        bad = ValidationFailed.on("cursor", "is not a cursor of this listing")
        try:
            raw = _loads(cursor + "=" * (-len(cursor) % 4))
            if not isinstance(raw, list) or len(raw) != len(self.columns) + 1:
                raise bad
            if raw[0] != self.listing:
                raise bad
            return tuple(_loaded(k, v) for k, v in zip(self.columns, raw[1:], strict=True))
        except _GARBAGE:
            raise bad from None

    def after(self, page: PageRequest) -> tuple[Any, ...] | None:
        """The position the page starts after; None for the first page."""
        return None if page.cursor is None else self.decode(page.cursor)

    def beyond(self, position: tuple[Any, ...], after: tuple[Any, ...]) -> bool:
        """Whether a row at `position` comes after `after` in this listing's order."""
        return position < after if self.descending else position > after

    def page(
        self, rows: Sequence[T], limit: int, position: Callable[[T], Sequence[object]]
    ) -> Page[T]:
        """The page of `rows`: the first `limit+1` rows past the cursor, in order (one more
        than the page, fetched to know whether another page follows)."""
        items = rows[:limit]
        more = len(rows) > limit
        return Page(items, self.encode(position(items[-1])) if more else None)


def _dumped(kind: Kind, value: object) -> object:
    if kind is Kind.INSTANT:
        if not isinstance(value, datetime):
            raise TypeError(value)
        return value.isoformat()
    if kind is Kind.ID:
        return str(value)
    return value


def _loaded(kind: Kind, raw: object) -> object:
    if kind is Kind.INSTANT:
        return _instant(raw)
    if kind is Kind.ID:
        if not isinstance(raw, str):
            raise ValueError(raw)
        return UUID(raw)
    if kind is Kind.INT:
        if not isinstance(raw, int) or isinstance(raw, bool) or abs(raw) > BIGINT_MAX:
            raise ValueError(raw)
        return raw
    if not isinstance(raw, str) or text_problem(raw) is not None:
        raise ValueError(raw)
    return raw


# --- the keysets of the listings --------------------------------------------------------------

USERS: Final = Keyset("users", (Kind.INSTANT, Kind.ID))
TOKENS: Final = Keyset("tokens", (Kind.INSTANT, Kind.ID))
# The audit trail runs newest first, by its append-only bigint id.
EVENTS: Final = Keyset("events", (Kind.INT,), descending=True)
SEARCH_HISTORY: Final = Keyset("searches", (Kind.INSTANT, Kind.ID), descending=True)
UPLOADS: Final = Keyset("uploads", (Kind.INSTANT, Kind.ID), descending=True)
REVIEW_QUEUE: Final = Keyset("review", (Kind.INSTANT, Kind.ID, Kind.ID))
