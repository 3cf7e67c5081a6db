"""SQLAlchemy Core repositories of signing in: stored passwords, sessions, set-password links."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Select, Table, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.passwords import PasswordLink, StoredPassword
from domain.sessions import UserSession
from domain.users import User
from infrastructure.sqlalchemy import tables as t
from infrastructure.sqlalchemy.errors import translate_integrity_error
from infrastructure.sqlalchemy.repositories import _user_of

_USER_LABELLED = [c.label("u_" + c.name) for c in t.users.c]

# --- passwords ------------------------------------------------------------------------------

_GET_PASSWORD = select(t.user_passwords).where(t.user_passwords.c.user_id == bindparam("id"))
# A sign-in's one read: the user by e-mail and their password if they have one.
_FIND_BY_EMAIL = (
    select(
        *_USER_LABELLED,
        t.user_passwords.c.password_hash,
        t.user_passwords.c.changed_at,
    )
    .select_from(t.users.outerjoin(t.user_passwords, t.user_passwords.c.user_id == t.users.c.id))
    .where(t.users.c.email == bindparam("email"))
)
_PUT_PASSWORD = pg_insert(t.user_passwords)
_PUT_PASSWORD = _PUT_PASSWORD.on_conflict_do_update(
    index_elements=[t.user_passwords.c.user_id],
    set_={
        "password_hash": _PUT_PASSWORD.excluded.password_hash,
        "changed_at": _PUT_PASSWORD.excluded.changed_at,
    },
)


def _password(m: Any) -> StoredPassword:
    return StoredPassword(
        user_id=m["user_id"], password_hash=m["password_hash"], changed_at=m["changed_at"]
    )


class SqlAlchemyPasswordRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, user_id: UUID) -> StoredPassword | None:
        row = (await self._conn.execute(_GET_PASSWORD, {"id": user_id})).first()
        return _password(row._mapping) if row is not None else None

    async def find_by_email(self, email: str) -> tuple[User, StoredPassword | None] | None:
        row = (await self._conn.execute(_FIND_BY_EMAIL, {"email": email.lower()})).first()
        if row is None:
            return None
        m = row._mapping
        user = _user_of(m, "u_")
        if m["password_hash"] is None:
            return user, None
        return user, StoredPassword(user.id, m["password_hash"], m["changed_at"])

    async def put(self, password: StoredPassword) -> None:
        values = {
            "user_id": password.user_id,
            "password_hash": password.password_hash,
            "changed_at": password.changed_at,
        }
        try:
            await self._conn.execute(_PUT_PASSWORD, values)
        except IntegrityError as err:
            raise translate_integrity_error(err) from err


# --- sessions -------------------------------------------------------------------------------

_SESSION_COLS = list(t.user_sessions.c)
_FIND_SESSION_WITH_USER = (
    select(*_SESSION_COLS, *_USER_LABELLED)
    .join_from(t.user_sessions, t.users, t.users.c.id == t.user_sessions.c.user_id)
    .where(t.user_sessions.c.secret_hash == bindparam("secret_hash"))
)
_GET_SESSION = select(t.user_sessions).where(t.user_sessions.c.id == bindparam("id"))
_INSERT_SESSION = insert(t.user_sessions)
_TOUCH_SESSION = (
    update(t.user_sessions)
    .where(
        t.user_sessions.c.id == bindparam("session_id"),
        t.user_sessions.c.last_seen_at < bindparam("stale_before"),
    )
    .values(last_seen_at=bindparam("now"), idle_expires_at=bindparam("idle_expires_at"))
)


def _session(m: Any) -> UserSession:
    return UserSession(
        id=m["id"],
        user_id=m["user_id"],
        secret_hash=m["secret_hash"],
        csrf_secret=m["csrf_secret"],
        created_at=m["created_at"],
        last_seen_at=m["last_seen_at"],
        idle_expires_at=m["idle_expires_at"],
        expires_at=m["expires_at"],
        client_ip=str(m["client_ip"]) if m["client_ip"] else None,
        user_agent=m["user_agent"],
    )


class SqlAlchemySessionRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, session: UserSession) -> None:
        values = {
            "id": session.id,
            "user_id": session.user_id,
            "secret_hash": session.secret_hash,
            "csrf_secret": session.csrf_secret,
            "created_at": session.created_at,
            "last_seen_at": session.last_seen_at,
            "idle_expires_at": session.idle_expires_at,
            "expires_at": session.expires_at,
            "client_ip": session.client_ip,
            "user_agent": session.user_agent,
        }
        try:
            await self._conn.execute(_INSERT_SESSION, values)
        except IntegrityError as err:
            raise translate_integrity_error(err) from err

    async def get(self, session_id: UUID) -> UserSession | None:
        row = (await self._conn.execute(_GET_SESSION, {"id": session_id})).first()
        return _session(row._mapping) if row is not None else None

    async def find_with_user(self, secret_hash: str) -> tuple[UserSession, User] | None:
        found = await self._conn.execute(_FIND_SESSION_WITH_USER, {"secret_hash": secret_hash})
        row = found.first()
        if row is None:
            return None
        return _session(row._mapping), _user_of(row._mapping, "u_")

    async def list_for_user(self, user_id: UUID) -> Sequence[UserSession]:
        stmt = (
            select(t.user_sessions)
            .where(t.user_sessions.c.user_id == user_id)
            .order_by(t.user_sessions.c.created_at.desc(), t.user_sessions.c.id.desc())
        )
        return [_session(r._mapping) for r in await self._conn.execute(stmt)]

    async def touch(
        self, session_id: UUID, now: datetime, idle_expires_at: datetime, stale_before: datetime
    ) -> bool:
        result = await self._conn.execute(
            _TOUCH_SESSION,
            {
                "session_id": session_id,
                "now": now,
                "idle_expires_at": idle_expires_at,
                "stale_before": stale_before,
            },
        )
        return bool(result.rowcount)

    async def delete(self, session_id: UUID) -> bool:
        result = await self._conn.execute(
            delete(t.user_sessions).where(t.user_sessions.c.id == session_id)
        )
        return bool(result.rowcount)

    async def delete_for_user(self, user_id: UUID, *, keep: UUID | None = None) -> int:
        stmt = delete(t.user_sessions).where(t.user_sessions.c.user_id == user_id)
        if keep is not None:
            stmt = stmt.where(t.user_sessions.c.id != keep)
        return int((await self._conn.execute(stmt)).rowcount)

    async def delete_expired_for_user(self, user_id: UUID, now: datetime) -> int:
        stmt = delete(t.user_sessions).where(
            t.user_sessions.c.user_id == user_id,
            or_(t.user_sessions.c.idle_expires_at <= now, t.user_sessions.c.expires_at <= now),
        )
        return int((await self._conn.execute(stmt)).rowcount)

    async def delete_expired(self, now: datetime, limit: int, *, dry_run: bool = False) -> int:
        s = t.user_sessions.c
        # A scan of the table: run by the purge once a day, over sessions of people.
        doomed = select(s.id).where(or_(s.idle_expires_at <= now, s.expires_at <= now)).limit(limit)
        return await _delete_or_count(self._conn, t.user_sessions, doomed, dry_run)


# --- set-password links ---------------------------------------------------------------------

_FIND_LINK = select(t.password_links).where(t.password_links.c.link_hash == bindparam("h"))


def _link(m: Any) -> PasswordLink:
    return PasswordLink(
        id=m["id"],
        user_id=m["user_id"],
        link_hash=m["link_hash"],
        created_at=m["created_at"],
        expires_at=m["expires_at"],
    )


class SqlAlchemyPasswordLinkRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, link: PasswordLink) -> None:
        values = {
            "id": link.id,
            "user_id": link.user_id,
            "link_hash": link.link_hash,
            "created_at": link.created_at,
            "expires_at": link.expires_at,
        }
        try:
            await self._conn.execute(insert(t.password_links), values)
        except IntegrityError as err:
            raise translate_integrity_error(err) from err

    async def find(self, link_hash: str) -> PasswordLink | None:
        row = (await self._conn.execute(_FIND_LINK, {"h": link_hash})).first()
        return _link(row._mapping) if row is not None else None

    async def delete(self, link_id: UUID) -> bool:
        # Row-locked: of two transactions deleting one link, the second waits for the first
        # and then deletes nothing (READ COMMITTED re-checks the row).
        result = await self._conn.execute(
            delete(t.password_links).where(t.password_links.c.id == link_id)
        )
        return bool(result.rowcount)

    async def delete_for_user(self, user_id: UUID) -> int:
        result = await self._conn.execute(
            delete(t.password_links).where(t.password_links.c.user_id == user_id)
        )
        return int(result.rowcount)

    async def delete_expired(self, now: datetime, limit: int, *, dry_run: bool = False) -> int:
        links = t.password_links.c
        doomed = select(links.id).where(links.expires_at <= now).limit(limit)
        return await _delete_or_count(self._conn, t.password_links, doomed, dry_run)


async def _delete_or_count(
    conn: AsyncConnection, table: Table, doomed: Select[tuple[UUID]], dry_run: bool
) -> int:
    """Delete the rows of `table` whose id `doomed` selects; or, in a dry run, count them."""
    if dry_run:
        counted = select(func.count()).select_from(doomed.subquery())
        return int((await conn.execute(counted)).scalar_one())
    result = await conn.execute(delete(table).where(table.c.id.in_(doomed.scalar_subquery())))
    return int(result.rowcount)
