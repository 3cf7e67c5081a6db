"""Ports of signing in: stored passwords, sessions and set-password links. Each has a
SQLAlchemy and an in-memory adapter held to one contract suite (tests/contract)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.passwords import PasswordLink, StoredPassword
from domain.sessions import UserSession
from domain.users import User


class PasswordRepository(Protocol):
    async def get(self, user_id: UUID) -> StoredPassword | None:
        """The user's stored password, or None if they have none."""
        ...

    async def find_by_email(self, email: str) -> tuple[User, StoredPassword | None] | None:
        """The user with this (normalised) e-mail and their stored password, in one lookup;
        None for an unknown e-mail."""
        ...

    async def put(self, password: StoredPassword) -> None:
        """Set (insert or replace) the user's password. Raises `Conflict` for an unknown user."""
        ...


class SessionRepository(Protocol):
    async def add(self, session: UserSession) -> None:
        """Store a new session. Raises `Conflict` for an unknown user."""
        ...

    async def get(self, session_id: UUID) -> UserSession | None: ...

    async def find_with_user(self, secret_hash: str) -> tuple[UserSession, User] | None:
        """The session with this secret hash and its user, in one lookup; None if unknown."""
        ...

    async def list_for_user(self, user_id: UUID) -> Sequence[UserSession]:
        """The user's sessions (expired ones too), newest first (`created_at`, then id)."""
        ...

    async def touch(
        self, session_id: UUID, now: datetime, idle_expires_at: datetime, stale_before: datetime
    ) -> bool:
        """Set last_seen_at to `now` and the idle deadline to `idle_expires_at`, unless
        last_seen_at is already at or after `stale_before`. Whether a row changed;
        concurrent requests race harmlessly, and a deleted session stays deleted."""
        ...

    async def delete(self, session_id: UUID) -> bool:
        """End one session; whether it existed."""
        ...

    async def delete_for_user(self, user_id: UUID, *, keep: UUID | None = None) -> int:
        """End every session of the user but `keep`; how many ended."""
        ...

    async def delete_expired_for_user(self, user_id: UUID, now: datetime) -> int:
        """Forget the user's sessions that expired (idle or absolute) by `now`; how many."""
        ...

    async def delete_expired(self, now: datetime, limit: int, *, dry_run: bool = False) -> int:
        """Forget at most `limit` sessions of anyone that expired (idle or absolute) by `now`
        (the purge); how many. A dry run counts them and deletes nothing."""
        ...


class PasswordLinkRepository(Protocol):
    async def add(self, link: PasswordLink) -> None:
        """Store a new link. Raises `Conflict` for an unknown user."""
        ...

    async def find(self, link_hash: str) -> PasswordLink | None:
        """The link with this secret hash (expired or not), or None."""
        ...

    async def delete(self, link_id: UUID) -> bool:
        """Use up a link: whether this unit of work deleted it. Of units of work using one
        link at once, only one commits having deleted it (the others get False, or
        `Conflict` at commit)."""
        ...

    async def delete_for_user(self, user_id: UUID) -> int:
        """Delete every link of the user; how many."""
        ...

    async def delete_expired(self, now: datetime, limit: int, *, dry_run: bool = False) -> int:
        """Delete at most `limit` links of anyone that expired by `now` (the purge; a used
        link is gone already); how many. A dry run counts them and deletes nothing."""
        ...
