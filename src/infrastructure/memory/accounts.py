"""In-memory repositories of signing in, over `StagedTable`s: the same results, order and
errors as the SQL adapters (`infrastructure.sqlalchemy.accounts`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from domain.passwords import PasswordLink, StoredPassword
from domain.sessions import UserSession
from domain.users import User
from infrastructure import constraints
from infrastructure.constraints import conflict
from infrastructure.memory.table import StagedTable


class InMemoryPasswordRepository:
    def __init__(
        self, table: StagedTable[UUID, StoredPassword], users: StagedTable[UUID, User]
    ) -> None:
        self._t = table
        self._users = users

    async def get(self, user_id: UUID) -> StoredPassword | None:
        return self._t.get(user_id)

    async def find_by_email(self, email: str) -> tuple[User, StoredPassword | None] | None:
        wanted = email.lower()
        user = self._users.find(lambda u: u.email == wanted)
        if user is None:
            return None
        return user, self._t.get(user.id)

    async def put(self, password: StoredPassword) -> None:
        if not self._users.exists(password.user_id):
            raise conflict(constraints.FK_USER_PASSWORDS_USER_ID_USERS)
        self._t.put(password.user_id, password)


class InMemorySessionRepository:
    def __init__(
        self, table: StagedTable[UUID, UserSession], users: StagedTable[UUID, User]
    ) -> None:
        self._t = table
        self._users = users

    async def add(self, session: UserSession) -> None:
        if not self._users.exists(session.user_id):
            raise conflict(constraints.FK_USER_SESSIONS_USER_ID_USERS)
        if self._t.find(lambda s: s.secret_hash == session.secret_hash) is not None:
            raise conflict(constraints.UQ_USER_SESSIONS_SECRET_HASH)
        self._t.put(session.id, session)

    async def get(self, session_id: UUID) -> UserSession | None:
        return self._t.get(session_id)

    async def find_with_user(self, secret_hash: str) -> tuple[UserSession, User] | None:
        session = self._t.find(lambda s: s.secret_hash == secret_hash)
        if session is None:
            return None
        user = self._users.get(session.user_id)
        return (session, user) if user is not None else None

    async def list_for_user(self, user_id: UUID) -> Sequence[UserSession]:
        mine = (s for s in self._t.values() if s.user_id == user_id)
        return sorted(mine, key=lambda s: (s.created_at, s.id), reverse=True)

    async def touch(
        self, session_id: UUID, now: datetime, idle_expires_at: datetime, stale_before: datetime
    ) -> bool:
        session = self._t.get(session_id)
        if session is None or session.last_seen_at >= stale_before:
            return False
        # A column patch: committing it after another unit of work deleted the session
        # changes nothing (the patch of a row that is gone is dropped), as an UPDATE would.
        return self._t.patch(session_id, last_seen_at=now, idle_expires_at=idle_expires_at)

    async def delete(self, session_id: UUID) -> bool:
        return self._t.remove(session_id)

    async def delete_for_user(self, user_id: UUID, *, keep: UUID | None = None) -> int:
        doomed = [s.id for s in self._t.values() if s.user_id == user_id and s.id != keep]
        for session_id in doomed:
            self._t.remove(session_id)
        return len(doomed)

    async def delete_expired_for_user(self, user_id: UUID, now: datetime) -> int:
        doomed = [s.id for s in self._t.values() if s.user_id == user_id and s.is_expired(now)]
        for session_id in doomed:
            self._t.remove(session_id)
        return len(doomed)

    async def delete_expired(self, now: datetime, limit: int, *, dry_run: bool = False) -> int:
        doomed = [s.id for s in self._t.values() if s.is_expired(now)][:limit]
        if not dry_run:
            for session_id in doomed:
                self._t.remove(session_id)
        return len(doomed)


class InMemoryPasswordLinkRepository:
    def __init__(
        self, table: StagedTable[UUID, PasswordLink], users: StagedTable[UUID, User]
    ) -> None:
        self._t = table
        self._users = users

    async def add(self, link: PasswordLink) -> None:
        if not self._users.exists(link.user_id):
            raise conflict(constraints.FK_PASSWORD_LINKS_USER_ID_USERS)
        if self._t.find(lambda k: k.link_hash == link.link_hash) is not None:
            raise conflict(constraints.UQ_PASSWORD_LINKS_LINK_HASH)
        self._t.put(link.id, link)

    async def find(self, link_hash: str) -> PasswordLink | None:
        return self._t.find(lambda k: k.link_hash == link_hash)

    async def delete(self, link_id: UUID) -> bool:
        if not self._t.exists(link_id):
            return False
        # PostgreSQL's row lock lets only one of two transactions deleting the link delete
        # it; here the commit re-checks that the link is still there (`stale()`).
        self._t.expect(link_id, "id", link_id)
        return self._t.remove(link_id)

    async def delete_for_user(self, user_id: UUID) -> int:
        doomed = [k.id for k in self._t.values() if k.user_id == user_id]
        for link_id in doomed:
            self._t.remove(link_id)
        return len(doomed)

    async def delete_expired(self, now: datetime, limit: int, *, dry_run: bool = False) -> int:
        doomed = [k.id for k in self._t.values() if k.is_expired(now)][:limit]
        if not dry_run:
            for link_id in doomed:
                self._t.remove(link_id)
        return len(doomed)
