"""`domain.policy.can_read` as an SQL predicate, composed into every document read.

The reader is known when the statement is built, so the rule is specialised in Python (an
admin needs no clearance test, an inactive user sees nothing) and the rest stays in SQL.
`tests/contract` and `tests/integration` prove this equals the domain function."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, cast
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    and_,
    bindparam,
    exists,
    false,
    literal_column,
    or_,
    true,
)
from sqlalchemy.dialects.postgresql import asyncpg as pg_asyncpg
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

from domain.users import User
from domain.values import AccessLevel, Role
from infrastructure.sqlalchemy.tables import documents, permissions

d = documents.c


# The reader's values are named bind parameters, so a statement built for one reader can be
# compiled once and run for any reader of the same shape (see `view_readable`).
def reader_id(reader: User) -> ColumnElement[Any]:
    return bindparam("reader_id", reader.id, type_=d.owner_id.type)


def has_grant(reader: User) -> ColumnElement[bool]:
    return exists().where(
        permissions.c.document_id == d.id, permissions.c.user_id == reader_id(reader)
    )


def has_delete_grant(reader: User) -> ColumnElement[bool]:
    return exists().where(
        permissions.c.document_id == d.id,
        permissions.c.user_id == reader_id(reader),
        permissions.c.access == literal_column("'delete'"),
    )


def readable_by(reader: User, *, include_trash: bool = True) -> ColumnElement[bool]:
    """Rows of `documents` that `reader` may read. With `include_trash`, trashed documents
    count for their owner, admins and delete grantees (as `can_read` says); without, only
    live ones."""
    if not reader.is_active:
        return false()
    live = d.deleted_at.is_(None)
    if reader.is_admin:
        return true() if include_trash else live
    owner = d.owner_id == reader_id(reader)
    department = (
        d.department.is_(None)
        if reader.department is None
        else or_(
            d.department.is_(None),
            d.department == bindparam("reader_department", reader.department, type_=String),
        )
    )
    level = bindparam("reader_level", int(reader.access_level), type_=Integer)
    clearance = and_(d.access_level <= level, department)
    live_rule = and_(live, or_(owner, has_grant(reader), clearance))
    if include_trash:
        return or_(live_rule, in_trash_of(reader))
    return live_rule


def in_trash_of(reader: User) -> ColumnElement[bool]:
    """The trash as `reader` sees it: their own trashed documents and those they hold a
    delete grant on (every one for admins)."""
    trashed = d.deleted_at.is_not(None)
    if not reader.is_active:
        return false()
    if reader.is_admin:
        return trashed
    return and_(trashed, or_(d.owner_id == reader_id(reader), has_delete_grant(reader)))


# --- statements compiled once per reader shape ---------------------------------------------

ReaderShape = Literal["admin", "department", "no department"]


def reader_shape(reader: User) -> ReaderShape:
    """What `readable_by` depends on besides bound values (an active reader's)."""
    if reader.is_admin:
        return "admin"
    return "department" if reader.department is not None else "no department"


def example_reader(shape: ReaderShape) -> User:
    """A reader of `shape`, to build a statement any reader of that shape can run."""
    return User(
        id=UUID(int=0),
        email="shape@example.invalid",
        name="shape",
        department="shape" if shape == "department" else None,
        access_level=AccessLevel.L1,
        role=Role.ADMIN if shape == "admin" else Role.MEMBER,
        is_active=True,
        created_at=datetime.min,
        updated_at=datetime.min,
    )


def reader_values(reader: User) -> dict[str, Any]:
    """The values of `readable_by`'s named parameters, for a statement compiled once."""
    return {
        "reader_id": reader.id,
        "reader_level": int(reader.access_level),
        "reader_department": reader.department,
    }


def compile_for_asyncpg(stmt: ClauseElement) -> tuple[str, list[str], dict[str, Any]]:
    """`stmt` rendered for asyncpg: (SQL, parameter names in `$n` order, the values bound
    when it was built). Run it with `driver_fetch`/`driver_fetchrow` and values by name."""
    compiled = cast(
        SQLCompiler,
        stmt.compile(dialect=pg_asyncpg.dialect()),  # type: ignore[no-untyped-call]
    )
    return str(compiled), list(compiled.positiontup or []), dict(compiled.params)
