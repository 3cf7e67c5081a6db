"""Signing in to the web interface: sign in with an e-mail and a password, resume a session
from its secret on each request, sign out (one session, or everywhere).

The web layer keeps the session's secret in a cookie and calls `resume` with it; the API keeps
bearer tokens (`application.tokens`). Failed sign-ins are throttled per client address with the
same counters as failed tokens, and every sign-in, failed or not, is an audit event."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import NamedTuple, NoReturn
from uuid import UUID

from application.auth_throttle import FailedAuthenticationThrottle, throttle_key
from application.context import RequestContext
from application.passwords import refuse_if_throttled
from domain import events
from domain.clock import Clock
from domain.errors import AuthenticationFailed, NotFound, PermissionDenied, ValidationFailed
from domain.passwords import PASSWORD_MAX, PasswordHashing, StoredPassword
from domain.policy import can_manage_sessions_of
from domain.ports import UnitOfWorkFactory
from domain.sessions import (
    TOUCH_RESOLUTION,
    SessionLifetime,
    UserSession,
    hash_session_secret,
    looks_like_session_secret,
)
from domain.users import User
from domain.values import EMAIL_MAX, normalize_email, text_problem

SIGN_IN_REFUSED = "the e-mail address or the password is wrong"


class SignedIn(NamedTuple):
    """A new session: `secret` goes in the cookie (it is nowhere else: the store keeps its
    hash), `session` and `user` are as stored."""

    secret: str
    session: UserSession
    user: User

    def __repr__(self) -> str:  # the secret stays out of logs and tracebacks
        return f"SignedIn(session={self.session!r}, user={self.user.id})"


@dataclass(frozen=True, slots=True)
class SessionPrincipal:
    """Who a resumed session signs in: the user as stored now, which session, its CSRF
    secret (what the web layer's forms carry) and when it ends unless used again."""

    user: User
    session_id: UUID
    csrf_secret: str = field(repr=False)
    expires_at: datetime

    def context(
        self, client_ip: str | None = None, user_agent: str | None = None
    ) -> RequestContext:
        """The `RequestContext` of a request made in this session."""
        return RequestContext(actor=self.user, client_ip=client_ip, user_agent=user_agent)


def _attempted_email(raw: str) -> str:
    """The e-mail a failed sign-in tried, as the audit trail can store it."""
    text = raw.strip().lower()[:EMAIL_MAX] if isinstance(raw, str) else ""
    if text_problem(text) is None:
        return text
    return text.replace("\x00", "").encode("utf-8", "replace").decode()


class AccountService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        hasher: PasswordHashing,
        throttle: FailedAuthenticationThrottle,
        lifetime: SessionLifetime,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._hasher = hasher
        self._throttle = throttle
        self.lifetime = lifetime

    async def sign_in(self, email: str, password: str, ctx: RequestContext) -> SignedIn:
        """A new session for the active user with this e-mail and password (`ctx`: the
        client's address and user agent; its actor is ignored). The user's expired sessions
        are forgotten; last_login_at/ip are set; a hash made with older parameters is
        replaced.

        Raises `AuthenticationFailed` alike for an unknown e-mail, an inactive user, a user
        without a password and a wrong password (each costs one hash check), and
        `TooManyAttempts` while the client's address is throttled."""
        key = throttle_key(ctx.client_ip)
        refuse_if_throttled(self._throttle, key)
        user, stored = await self._check(email, password, ctx, key)
        rehashed = None
        if self._hasher.needs_rehash(stored.password_hash):
            rehashed = await self._hasher.hash(password)
        now = self._clock.now()
        session, secret = UserSession.start(
            user_id=user.id,
            now=now,
            lifetime=self.lifetime,
            client_ip=ctx.client_ip,
            user_agent=ctx.user_agent,
        )
        async with self._uow() as uow:
            current = await uow.users.get(user.id)
            still = await uow.passwords.get(user.id)
            changed = (
                current is None
                or not current.is_active
                or still is None
                or still.password_hash != stored.password_hash
            )
            if current is not None and not changed:
                await uow.sessions.delete_expired_for_user(user.id, now)
                await uow.sessions.add(session)
                if rehashed is not None:
                    await uow.passwords.put(StoredPassword(user.id, rehashed, stored.changed_at))
                await uow.users.record_login(user.id, now, session.client_ip)
                await uow.events.add(
                    replace(ctx, actor=current).event(
                        events.USER_SIGNED_IN,
                        "user",
                        user.id,
                        now,
                        {"session_id": str(session.id), "rehashed": rehashed is not None},
                    )
                )
                await uow.commit()
        if current is None or changed:
            # Deactivated, or its password changed, since the password was checked.
            await self._refuse(ctx, key, email, user, "changed_meanwhile")
        current.last_login_at, current.last_login_ip = now, session.client_ip
        return SignedIn(secret, session, current)

    async def _check(
        self, email: str, password: str, ctx: RequestContext, key: str | None
    ) -> tuple[User, StoredPassword]:
        """The active user with this e-mail and their stored password, if `password` is it;
        otherwise the failure is counted, recorded and raised."""
        try:
            address: str | None = normalize_email(email)
        except ValidationFailed:
            address = None
        found: tuple[User, StoredPassword | None] | None = None
        if address is not None and len(password) <= PASSWORD_MAX:
            async with self._uow(autocommit=True) as uow:
                found = await uow.passwords.find_by_email(address)
        if found is None:
            await self._hasher.verify_nobody(password)
            await self._refuse(ctx, key, email, None, "unknown_email")
        user, stored = found
        if stored is None or not user.is_active:
            await self._hasher.verify_nobody(password)
            reason = "inactive_user" if not user.is_active else "no_password"
            await self._refuse(ctx, key, email, user, reason)
        if not await self._hasher.verify(stored.password_hash, password):
            await self._refuse(ctx, key, email, user, "wrong_password")
        return user, stored

    async def resume(self, secret: str, client_ip: str | None = None) -> SessionPrincipal:
        """The principal of a session secret (a cookie's value), or `AuthenticationFailed`:
        malformed, unknown, ended, expired (idle or absolute; it is then forgotten), or its
        user is inactive. One indexed read; last_seen_at and the idle deadline move at most
        once a minute. Not throttled: guessing a 256-bit secret is hopeless, and a browser
        with an expired cookie must not lock its address out."""
        if not looks_like_session_secret(secret):
            raise AuthenticationFailed("malformed session")
        async with self._uow(autocommit=True) as uow:
            found = await uow.sessions.find_with_user(hash_session_secret(secret))
        now = self._clock.now()
        if found is None:
            raise AuthenticationFailed("unknown session")
        session, user = found
        if session.is_expired(now):
            async with self._uow() as uow:
                await uow.sessions.delete(session.id)
                await uow.commit()
            raise AuthenticationFailed("session expired")
        if not user.is_active:
            raise AuthenticationFailed("user is inactive")
        if session.needs_touch(now):
            deadline = session.idle_deadline(now, self.lifetime)
            async with self._uow() as uow:
                await uow.sessions.touch(session.id, now, deadline, now - TOUCH_RESOLUTION)
                await uow.commit()
            session.touch(now, self.lifetime)
        return SessionPrincipal(user, session.id, session.csrf_secret, session.ends_at)

    async def sign_out(self, ctx: RequestContext, session_id: UUID) -> bool:
        """End one session (the web layer's sign-out); whether it was there. Idempotent."""
        now = self._clock.now()
        async with self._uow() as uow:
            session = await uow.sessions.get(session_id)
            if session is None:
                return False
            await uow.sessions.delete(session_id)
            await uow.events.add(
                ctx.event(
                    events.USER_SIGNED_OUT,
                    "user",
                    session.user_id,
                    now,
                    {"session_id": str(session_id)},
                )
            )
            await uow.commit()
        return True

    async def sign_out_everywhere(self, ctx: RequestContext, user_id: UUID | None = None) -> int:
        """End every session of `user_id` (default: the caller); how many ended. A user ends
        their own, an admin (or the system) anyone's. API tokens are not touched.

        Raises `NotFound` for an unknown user or someone else's to a non-admin,
        `ValidationFailed` when the system names no user."""
        target = user_id or ctx.actor_id
        if target is None:
            raise ValidationFailed.on("user_id", "is required when the system signs out a user")
        if ctx.actor is not None and not can_manage_sessions_of(ctx.actor, target):
            raise NotFound("user", target)
        now = self._clock.now()
        async with self._uow() as uow:
            if await uow.users.get(target) is None:
                raise NotFound("user", target)
            ended = await uow.sessions.delete_for_user(target)
            await uow.events.add(
                ctx.event(events.USER_SESSIONS_ENDED, "user", target, now, {"sessions": ended})
            )
            await uow.commit()
        return ended

    async def list_sessions(
        self, ctx: RequestContext, user_id: UUID | None = None
    ) -> list[UserSession]:
        """The sessions of `user_id` (default: the caller) that have not expired, newest
        first: where they are signed in. Someone else's are `NotFound` to a non-admin."""
        target = user_id or ctx.actor_id
        if target is None:
            raise PermissionDenied("the system has no sessions")
        if ctx.actor is not None and not can_manage_sessions_of(ctx.actor, target):
            raise NotFound("user", target)
        now = self._clock.now()
        async with self._uow(autocommit=True) as uow:
            sessions = await uow.sessions.list_for_user(target)
        return [s for s in sessions if not s.is_expired(now)]

    async def _refuse(
        self,
        ctx: RequestContext,
        key: str | None,
        email: str,
        user: User | None,
        reason: str,
    ) -> NoReturn:
        """Count the failure against the address, record it, raise `AuthenticationFailed`."""
        if key is not None:
            self._throttle.record_failure(key)
        now = self._clock.now()
        async with self._uow() as uow:
            await uow.events.add(
                replace(ctx, actor=None).event(
                    events.USER_SIGN_IN_FAILED,
                    "user",
                    user.id if user is not None else "unknown",
                    now,
                    {"email": _attempted_email(email), "reason": reason},
                )
            )
            await uow.commit()
        raise AuthenticationFailed(SIGN_IN_REFUSED)
