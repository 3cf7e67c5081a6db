"""SQLAlchemy Core repositories. Statements are built once at import and bound per call."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import Event, EventFilter
from domain.pagination import EVENTS, TOKENS, USERS, Keyset, Page, PageRequest
from domain.settings import Setting, SettingType
from domain.tokens import ApiToken
from domain.users import User, UserFilter
from domain.values import AccessLevel, Role
from infrastructure.sqlalchemy import tables as t
from infrastructure.sqlalchemy.errors import translate_integrity_error
from infrastructure.sqlalchemy.paging import one_page
from infrastructure.sqlalchemy.prepared import PreparedStatement

# --- mapping rows <-> entities -------------------------------------------------------------

_TOKEN_COLS = list(t.api_tokens.c)


def _user(row: Any, prefix: str = "") -> User:
    return _user_of(row._mapping, prefix)


def _user_of(m: Any, prefix: str = "") -> User:
    """A user from a mapping by column name: a SQLAlchemy row's `_mapping` or an asyncpg
    `Record` (both index by key; the driver returns the same Python values either way)."""
    return User(
        id=m[prefix + "id"],
        email=m[prefix + "email"],
        name=m[prefix + "name"],
        department=m[prefix + "department"],
        access_level=AccessLevel(m[prefix + "access_level"]),
        role=Role(m[prefix + "role"]),
        is_active=m[prefix + "is_active"],
        created_at=m[prefix + "created_at"],
        updated_at=m[prefix + "updated_at"],
        last_login_at=m[prefix + "last_login_at"],
        last_login_ip=str(m[prefix + "last_login_ip"]) if m[prefix + "last_login_ip"] else None,
    )


def _user_values(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "department": user.department,
        "access_level": int(user.access_level),
        "role": user.role.value,
        "is_active": user.is_active,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "last_login_at": user.last_login_at,
        "last_login_ip": user.last_login_ip,
    }


def _token(row: Any) -> ApiToken:
    return _token_of(row._mapping)


def _token_of(m: Any) -> ApiToken:
    """A token from a mapping by column name (see `_user_of`)."""
    return ApiToken(
        id=m["id"],
        user_id=m["user_id"],
        name=m["name"],
        prefix=m["prefix"],
        token_hash=m["token_hash"],
        created_at=m["created_at"],
        expires_at=m["expires_at"],
        last_used_at=m["last_used_at"],
        revoked_at=m["revoked_at"],
    )


def _token_values(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "user_id": token.user_id,
        "name": token.name,
        "prefix": token.prefix,
        "token_hash": token.token_hash,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "last_used_at": token.last_used_at,
        "revoked_at": token.revoked_at,
    }


async def _created_page(
    conn: AsyncConnection,
    stmt: Select[Any],
    keyset: Keyset,
    table: Table,
    page: PageRequest,
    build: Any,
) -> Page[Any]:
    """One page of `table`'s rows in `(created_at, id)` order."""
    columns = (table.c.created_at, table.c.id)
    rows = (await conn.execute(one_page(stmt, keyset, columns, page))).all()
    return keyset.page([build(r) for r in rows], page.limit, lambda x: (x.created_at, x.id))


# --- users ----------------------------------------------------------------------------------

_GET_USER = select(t.users).where(t.users.c.id == bindparam("id"))
_GET_USER_BY_EMAIL = select(t.users).where(t.users.c.email == bindparam("email"))
_INSERT_USER = insert(t.users)
_COUNT_ACTIVE_ADMINS = (
    select(func.count()).select_from(t.users).where(t.users.c.role == "admin", t.users.c.is_active)
)
_ANY_USER = select(t.users.c.id).limit(1)


class SqlAlchemyUserRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, user: User) -> None:
        try:
            await self._conn.execute(_INSERT_USER, _user_values(user))
        except IntegrityError as err:
            raise translate_integrity_error(err) from err

    async def get(self, user_id: UUID) -> User | None:
        row = (await self._conn.execute(_GET_USER, {"id": user_id})).first()
        return _user(row) if row is not None else None

    async def get_by_email(self, email: str) -> User | None:
        row = (await self._conn.execute(_GET_USER_BY_EMAIL, {"email": email.lower()})).first()
        return _user(row) if row is not None else None

    async def list(self, filters: UserFilter, page: PageRequest) -> Page[User]:
        stmt = select(t.users)
        if filters.role is not None:
            stmt = stmt.where(t.users.c.role == filters.role.value)
        if filters.department is not None:
            stmt = stmt.where(t.users.c.department == filters.department)
        if filters.is_active is not None:
            stmt = stmt.where(t.users.c.is_active.is_(filters.is_active))
        return await _created_page(self._conn, stmt, USERS, t.users, page, _user)

    async def update(self, user: User) -> None:
        values = _user_values(user)
        del values["id"], values["created_at"]
        try:
            await self._conn.execute(update(t.users).where(t.users.c.id == user.id).values(values))
        except IntegrityError as err:
            raise translate_integrity_error(err) from err

    async def record_login(self, user_id: UUID, at: datetime, ip: str | None) -> None:
        await self._conn.execute(
            update(t.users)
            .where(t.users.c.id == user_id)
            .values(last_login_at=at, last_login_ip=ip)
        )

    async def count_active_admins(self) -> int:
        return int((await self._conn.execute(_COUNT_ACTIVE_ADMINS)).scalar_one())

    async def any_exist(self) -> bool:
        return (await self._conn.execute(_ANY_USER)).first() is not None


# --- tokens ---------------------------------------------------------------------------------

_USER_LABELLED = [c.label("u_" + c.name) for c in t.users.c]
# The hot path of every request: one indexed lookup joining the owner.
_FIND_TOKEN_WITH_USER = (
    select(*_TOKEN_COLS, *_USER_LABELLED)
    .join_from(t.api_tokens, t.users, t.users.c.id == t.api_tokens.c.user_id)
    .where(t.api_tokens.c.token_hash == bindparam("token_hash"))
)
# ...compiled once, to run on the driver connection: see `find_with_user`.
_FIND_TOKEN_WITH_USER_PREPARED = PreparedStatement(_FIND_TOKEN_WITH_USER)
_GET_TOKEN = select(t.api_tokens).where(t.api_tokens.c.id == bindparam("id"))
_INSERT_TOKEN = insert(t.api_tokens)
_TOUCH_TOKEN = (
    update(t.api_tokens)
    .where(
        t.api_tokens.c.id == bindparam("token_id"),
        or_(
            t.api_tokens.c.last_used_at.is_(None),
            t.api_tokens.c.last_used_at < bindparam("stale_before"),
        ),
    )
    .values(last_used_at=bindparam("now"))
)


class SqlAlchemyApiTokenRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, token: ApiToken) -> None:
        try:
            await self._conn.execute(_INSERT_TOKEN, _token_values(token))
        except IntegrityError as err:
            raise translate_integrity_error(err) from err

    async def get(self, token_id: UUID) -> ApiToken | None:
        row = (await self._conn.execute(_GET_TOKEN, {"id": token_id})).first()
        return _token(row) if row is not None else None

    async def find_with_user(self, token_hash: str) -> tuple[ApiToken, User] | None:
        """The token and its owner, or None. Runs on every authenticated request.

        Bypasses SQLAlchemy's execution: `_FIND_TOKEN_WITH_USER` runs as a
        `PreparedStatement` (compiled once, at import; timed and counted like any statement)
        on this unit of work's connection, and the record is mapped by column name exactly as
        `_token`/`_user` map a row. SQLAlchemy's statement cache lookup, execution context and
        result objects cost ~195 µs a request here, a quarter of the request (PERFORMANCE.md:
        `exec_driver_sql` or raw for the hottest read; docs/benchmarks.md). The read is still
        made on every request: nothing is cached."""
        record = await _FIND_TOKEN_WITH_USER_PREPARED.fetchrow(
            self._conn, {"token_hash": token_hash}
        )
        if record is None:
            return None
        return _token_of(record), _user_of(record, prefix="u_")

    async def list(self, user_id: UUID | None, page: PageRequest) -> Page[ApiToken]:
        stmt = select(t.api_tokens)
        if user_id is not None:
            stmt = stmt.where(t.api_tokens.c.user_id == user_id)
        return await _created_page(self._conn, stmt, TOKENS, t.api_tokens, page, _token)

    async def update(self, token: ApiToken) -> None:
        values = _token_values(token)
        del values["id"], values["created_at"]
        await self._conn.execute(
            update(t.api_tokens).where(t.api_tokens.c.id == token.id).values(values)
        )

    async def touch(self, token_id: UUID, now: datetime, stale_before: datetime) -> bool:
        result = await self._conn.execute(
            _TOUCH_TOKEN, {"token_id": token_id, "now": now, "stale_before": stale_before}
        )
        return bool(result.rowcount)


# --- events ---------------------------------------------------------------------------------

_INSERT_EVENT = insert(t.events)


def _event_values(event: Event) -> dict[str, Any]:
    return {
        "occurred_at": event.occurred_at,
        "actor_id": event.actor_id,
        "action": event.action,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "client_ip": event.client_ip,
        "user_agent": event.user_agent[:500] if event.user_agent else None,
        "data": event.data,
    }


def _event(row: Any) -> Event:
    m = row._mapping
    return Event(
        id=m["id"],
        occurred_at=m["occurred_at"],
        actor_id=m["actor_id"],
        action=m["action"],
        subject_type=m["subject_type"],
        subject_id=m["subject_id"],
        data=m["data"],
        client_ip=str(m["client_ip"]) if m["client_ip"] else None,
        user_agent=m["user_agent"],
    )


class SqlAlchemyEventRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, event: Event) -> None:
        # Core INSERT without RETURNING: the cheapest audit write (PERFORMANCE.md).
        await self._conn.execute(_INSERT_EVENT, _event_values(event))

    async def add_all(self, events: Sequence[Event]) -> None:
        if events:  # one executemany: the driver sends the rows in one round trip
            await self._conn.execute(_INSERT_EVENT, [_event_values(e) for e in events])

    async def delete_before(
        self, actions: Collection[str], cutoff: datetime, limit: int, *, dry_run: bool = False
    ) -> int:
        e = t.events.c
        oldest = (
            select(e.id)
            .where(e.action.in_(sorted(actions)), e.occurred_at < cutoff)
            .order_by(e.occurred_at, e.id)
            .limit(limit)
        )
        if dry_run:
            counted = select(func.count()).select_from(oldest.subquery())
            return int((await self._conn.execute(counted)).scalar_one())
        result = await self._conn.execute(
            delete(t.events).where(e.id.in_(oldest.scalar_subquery()))
        )
        return int(result.rowcount)

    async def list(self, filters: EventFilter, page: PageRequest) -> Page[Event]:
        e = t.events.c
        conds: list[ColumnElement[bool]] = []
        if filters.actor_id is not None:
            conds.append(e.actor_id == filters.actor_id)
        if filters.action is not None:
            conds.append(e.action == filters.action)
        if filters.subject_type is not None:
            conds.append(e.subject_type == filters.subject_type)
        if filters.subject_id is not None:
            conds.append(e.subject_id == filters.subject_id)
        if filters.since is not None:
            conds.append(e.occurred_at >= filters.since)
        if filters.until is not None:
            conds.append(e.occurred_at < filters.until)
        stmt = one_page(select(t.events).where(and_(True, *conds)), EVENTS, (e.id,), page)
        rows = (await self._conn.execute(stmt)).all()
        return EVENTS.page([_event(r) for r in rows], page.limit, lambda event: (event.id,))


# --- settings -------------------------------------------------------------------------------


def _setting(row: Row[Any]) -> Setting:
    m = row._mapping
    return Setting(
        key=m["key"],
        value=m["value"],
        type=SettingType(m["type"]),
        description=m["description"],
        is_public=m["is_public"],
        updated_at=m["updated_at"],
    )


class SqlAlchemySettingRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, key: str) -> Setting | None:
        row = (await self._conn.execute(select(t.settings).where(t.settings.c.key == key))).first()
        return _setting(row) if row is not None else None

    async def list(self) -> Sequence[Setting]:
        rows = (await self._conn.execute(select(t.settings).order_by(t.settings.c.key))).all()
        return [_setting(r) for r in rows]

    async def put(self, setting: Setting) -> None:
        values = {
            "key": setting.key,
            "value": setting.value,
            "type": setting.type.value,
            "description": setting.description,
            "is_public": setting.is_public,
            "updated_at": setting.updated_at,
        }
        stmt = pg_insert(t.settings).values(values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.settings.c.key],
            set_={k: stmt.excluded[k] for k in values if k != "key"},
        )
        await self._conn.execute(stmt)
