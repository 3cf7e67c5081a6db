"""Passwords: users change their own, admins set one or issue a one-time set-password link,
and a link's holder sets the password with it. Signing in is `application.accounts`.

Hashing runs off the event loop (the `PasswordHashing` port: argon2id spends ~0.1 s of CPU
and 64 MiB per hash by default, `infrastructure.passwords.OffloadedHasher` bounds the threads).
Setting a password any way deletes the user's set-password links; it ends their sessions (all
of them, or all but the caller's own when they change it themselves). API tokens are not
touched: they are credentials of their own, revoked on their own."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from uuid import UUID

from application.auth_throttle import FailedAuthenticationThrottle, throttle_key
from application.context import RequestContext
from domain import events
from domain.clock import Clock
from domain.errors import (
    AuthenticationFailed,
    Conflict,
    NotFound,
    TooManyAttempts,
    ValidationFailed,
)
from domain.passwords import (
    PasswordHashing,
    PasswordLink,
    StoredPassword,
    check_password,
    hash_link_secret,
    looks_like_link_secret,
)
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.users import User

INVALID_LINK = "this set-password link is not valid: it was used, replaced or has expired"
SET_PASSWORD_PATH = "/set-password"  # noqa: S105 (the web page a link opens: ?token=<secret>)


def refuse_if_throttled(throttle: FailedAuthenticationThrottle, key: str | None) -> None:
    """`TooManyAttempts` while the address is over its limit of refused credentials."""
    wait = throttle.retry_after(key) if key is not None else None
    if wait is not None:
        raise TooManyAttempts("too many failed attempts from this address; try again later", wait)


@dataclass(frozen=True, slots=True)
class IssuedPasswordLink:
    user: User
    link: PasswordLink
    secret: str = field(repr=False)  # shown to the admin once; never stored, never logged

    @property
    def expires_at(self) -> datetime:
        return self.link.expires_at

    @property
    def path(self) -> str:
        """The web page that sets the password, relative to the service's address."""
        return f"{SET_PASSWORD_PATH}?token={self.secret}"


class PasswordService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        hasher: PasswordHashing,
        throttle: FailedAuthenticationThrottle,
        link_ttl: timedelta = timedelta(hours=24),
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._hasher = hasher
        self._throttle = throttle
        self._link_ttl = link_ttl

    async def change_own_password(
        self, ctx: RequestContext, current: str, new: str, *, keep_session: UUID | None = None
    ) -> None:
        """The caller replaces their password, proving the current one. Their sessions end
        but `keep_session` (the one they changed it from, if any).

        Raises `ValidationFailed` naming `new_password` (the policy) or `current_password`
        (wrong, or they have none yet: an admin sets it or issues a link), `TooManyAttempts`
        while the address is throttled (wrong current passwords count as failed
        authentication), `PermissionDenied` for the system itself."""
        user = ctx.require_user("only a user has a password of their own")
        key = throttle_key(ctx.client_ip)
        refuse_if_throttled(self._throttle, key)
        check_password(new, user.email, "new_password")
        async with self._uow(autocommit=True) as uow:
            stored = await uow.passwords.get(user.id)
        if stored is None:
            raise ValidationFailed.on(
                "current_password",
                "you have no password yet: ask an administrator to set one or send a link",
            )
        if not await self._hasher.verify(stored.password_hash, current):
            if key is not None:
                self._throttle.record_failure(key)
            raise ValidationFailed.on("current_password", "is not your current password")
        password_hash = await self._hasher.hash(new)
        now = self._clock.now()
        async with self._uow() as uow:
            ended = await self._store(uow, user.id, password_hash, now, keep_session)
            await uow.events.add(
                ctx.event(
                    events.USER_PASSWORD_CHANGED, "user", user.id, now, {"sessions_ended": ended}
                )
            )
            await uow.commit()

    async def set_password(self, ctx: RequestContext, user_id: UUID, new: str) -> User:
        """An admin (or the system) sets a user's password; the user's sessions end.

        Raises `PermissionDenied` for a non-admin, `NotFound` for an unknown user,
        `ValidationFailed` naming `password` for one the policy refuses."""
        ctx.require_admin()
        user = await self._user(user_id)
        check_password(new, user.email)
        password_hash = await self._hasher.hash(new)
        now = self._clock.now()
        async with self._uow() as uow:
            ended = await self._store(uow, user.id, password_hash, now)
            await uow.events.add(
                ctx.event(
                    events.USER_PASSWORD_SET,
                    "user",
                    user.id,
                    now,
                    {"by": "administrator", "sessions_ended": ended},
                )
            )
            await uow.commit()
        return user

    async def issue_password_link(self, ctx: RequestContext, user_id: UUID) -> IssuedPasswordLink:
        """An admin (or the system) issues a one-time link that sets the user's password,
        valid for the configured hours; it replaces any earlier link of the user. The secret
        is in the result only.

        Raises `PermissionDenied` for a non-admin, `NotFound` for an unknown user, `Conflict`
        for an inactive one."""
        ctx.require_admin()
        now = self._clock.now()
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
            if user is None:
                raise NotFound("user", user_id)
            if not user.is_active:
                raise Conflict("cannot issue a set-password link for an inactive user")
            await uow.password_links.delete_for_user(user.id)
            link, secret = PasswordLink.issue(user_id=user.id, now=now, ttl=self._link_ttl)
            await uow.password_links.add(link)
            await uow.events.add(
                ctx.event(
                    events.USER_PASSWORD_LINK_ISSUED,
                    "user",
                    user.id,
                    now,
                    {"link_id": str(link.id), "expires_at": link.expires_at.isoformat()},
                )
            )
            await uow.commit()
        return IssuedPasswordLink(user, link, secret)

    async def password_link_user(self, secret: str) -> User:
        """Whose password a link sets, for the page that shows its form; `AuthenticationFailed`
        for a link that cannot be used (unknown, used, replaced, expired, inactive user)."""
        _, user = await self._usable_link(secret)
        return user

    async def set_password_with_link(
        self, secret: str, new: str, ctx: RequestContext | None = None
    ) -> User:
        """The holder of a link sets the password it is for, once: the link and any other of
        the user's go, and the user's sessions end. A password the policy refuses leaves the
        link usable. Returns the user (who then signs in).

        Raises `AuthenticationFailed` for a link that cannot be used, `ValidationFailed`
        naming `password` for a password the policy refuses."""
        link, user = await self._usable_link(secret)
        check_password(new, user.email)
        password_hash = await self._hasher.hash(new)
        now = self._clock.now()
        async with self._uow() as uow:
            current = await uow.users.get(user.id)
            if not await uow.password_links.delete(link.id) or current is None:
                raise AuthenticationFailed(INVALID_LINK)
            if not current.is_active:
                raise AuthenticationFailed(INVALID_LINK)
            ended = await self._store(uow, user.id, password_hash, now)
            acting = replace(ctx or RequestContext.system(), actor=current)
            await uow.events.add(
                acting.event(
                    events.USER_PASSWORD_SET,
                    "user",
                    user.id,
                    now,
                    {"by": "link", "link_id": str(link.id), "sessions_ended": ended},
                )
            )
            await uow.commit()
        return current

    async def _usable_link(self, secret: str) -> tuple[PasswordLink, User]:
        if not looks_like_link_secret(secret):
            raise AuthenticationFailed(INVALID_LINK)
        async with self._uow(autocommit=True) as uow:
            link = await uow.password_links.find(hash_link_secret(secret))
            user = await uow.users.get(link.user_id) if link is not None else None
        now = self._clock.now()
        if link is None or user is None or link.is_expired(now) or not user.is_active:
            raise AuthenticationFailed(INVALID_LINK)
        return link, user

    async def _user(self, user_id: UUID) -> User:
        async with self._uow(autocommit=True) as uow:
            user = await uow.users.get(user_id)
        if user is None:
            raise NotFound("user", user_id)
        return user

    @staticmethod
    async def _store(
        uow: UnitOfWork,
        user_id: UUID,
        password_hash: str,
        now: datetime,
        keep_session: UUID | None = None,
    ) -> int:
        """Store the new hash, drop the user's links, end their sessions (but `keep_session`);
        how many sessions ended."""
        await uow.passwords.put(StoredPassword(user_id, password_hash, now))
        await uow.password_links.delete_for_user(user_id)
        return await uow.sessions.delete_for_user(user_id, keep=keep_session)
