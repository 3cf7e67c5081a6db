"""Keyset pages in SQL: the one form of the `WHERE (a, b) > (:a, :b) ORDER BY a, b LIMIT n+1`
every listing runs, driven by the listing's `Keyset` (domain.pagination), which also writes
and reads its cursors. The memory adapters page through the same keysets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, bindparam, tuple_

from domain.pagination import Keyset, PageRequest


def typed_value(value: object, column: ColumnElement[Any]) -> ColumnElement[Any]:
    """A cursor's value bound with the type of its column; text compares byte-wise (`"C"`),
    as the listings order it, whatever the database's collation."""
    param = bindparam(None, value, type_=column.type, unique=True)
    if isinstance(value, str):
        return param.collate("C")
    return param


def past_cursor(
    keyset: Keyset, columns: Sequence[ColumnElement[Any]], page: PageRequest
) -> ColumnElement[bool] | None:
    """The condition of the rows past the page's cursor in `columns` order; None on the
    first page. A cursor another listing issued is a 422 (`Keyset.decode`)."""
    after = keyset.after(page)
    if after is None:
        return None
    position = tuple_(*columns)
    mark = tuple_(*(typed_value(v, c) for v, c in zip(after, columns, strict=True)))
    return position < mark if keyset.descending else position > mark


def in_order(keyset: Keyset, columns: Sequence[ColumnElement[Any]]) -> list[ColumnElement[Any]]:
    """`columns` as the listing's ORDER BY."""
    return [c.desc() for c in columns] if keyset.descending else list(columns)


def one_page(
    stmt: Select[Any],
    keyset: Keyset,
    columns: Sequence[ColumnElement[Any]],
    page: PageRequest,
    *,
    literal_limit: bool = False,
) -> Select[Any]:
    """`stmt` past the cursor, in order, limited to one row more than the page (to know
    whether another page follows: `Keyset.page`). With `literal_limit` the limit is written
    into the SQL, not bound: with a bound LIMIT, PostgreSQL's generic plan (chosen after five
    runs of a prepared statement) cannot tell a page of 51 from a scan of everything."""
    after = past_cursor(keyset, columns, page)
    if after is not None:
        stmt = stmt.where(after)
    limit: Any = page.limit + 1
    if literal_limit:
        limit = bindparam("page_limit", limit, type_=Integer, literal_execute=True)
    return stmt.order_by(*in_order(keyset, columns)).limit(limit)
