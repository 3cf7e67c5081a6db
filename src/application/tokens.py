"""API tokens: issue (the secret is returned once), list, revoke, authenticate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from application.context import Principal, RequestContext
from application.settings import effective_int
from domain import events
from domain.clock import Clock
from domain.errors import (
    AuthenticationFailed,
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from domain.pagination import Page, PageRequest
from domain.policy import can_manage_token_of
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.tokens import (
    LAST_USED_RESOLUTION,
    MAX_TTL_DAYS,
    ApiToken,
    hash_secret,
    looks_like_token,
)
from domain.users import User


@dataclass(frozen=True, slots=True)
class TokenIssue:
    name: str
    expires_in_days: int | None = None
    user_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown to the caller once; never stored, never logged


class TokenService:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    async def issue(self, ctx: RequestContext, command: TokenIssue) -> IssuedToken:
        """Issue a token for the caller, or (admins, the system) for `user_id`.

        Raises `PermissionDenied` for someone else's user, `NotFound` for an unknown one,
        `Conflict` for an inactive one, `ValidationFailed` for a lifetime out of range."""
        if command.expires_in_days is not None and not 1 <= command.expires_in_days <= MAX_TTL_DAYS:
            raise ValidationFailed.on("expires_in_days", f"must be between 1 and {MAX_TTL_DAYS}")
        owner_id = command.user_id or ctx.actor_id
        if owner_id is None:
            raise ValidationFailed.on("user_id", "is required when the system issues a token")
        if ctx.actor is not None and not can_manage_token_of(ctx.actor, owner_id):
            raise PermissionDenied("only an administrator may issue tokens for another user")
        async with self._uow() as uow:
            issued = await self.issue_in(uow, ctx, owner_id, command)
            await uow.commit()
        return issued

    async def issue_in(
        self, uow: UnitOfWork, ctx: RequestContext, owner_id: UUID, command: TokenIssue
    ) -> IssuedToken:
        """Issue within an open unit of work (for use cases that create a user and a token)."""
        owner = await uow.users.get(owner_id)
        if owner is None:
            raise NotFound("user", owner_id)
        if not owner.is_active:
            raise Conflict("cannot issue a token for an inactive user")
        days = command.expires_in_days or await effective_int(
            uow.settings, "default_token_ttl_days"
        )
        now = self._clock.now()
        token, secret = ApiToken.issue(
            user_id=owner.id, name=command.name, now=now, ttl=timedelta(days=days)
        )
        await uow.tokens.add(token)
        await uow.events.add(
            ctx.event(
                events.TOKEN_ISSUED,
                "token",
                token.id,
                now,
                {"user_id": str(owner.id), "name": token.name, "prefix": token.prefix},
            )
        )
        return IssuedToken(token, secret)

    async def list(
        self, ctx: RequestContext, page: PageRequest, user_id: UUID | None = None
    ) -> Page[ApiToken]:
        """The caller's tokens, or (admins) those of `user_id`."""
        owner_id = user_id or ctx.actor_id
        if ctx.actor is not None and not can_manage_token_of(ctx.actor, owner_id):
            raise PermissionDenied("only an administrator may list another user's tokens")
        async with self._uow(autocommit=True) as uow:
            return await uow.tokens.list(owner_id, page)

    async def revoke(self, ctx: RequestContext, token_id: UUID) -> ApiToken:
        """Revoke a token. Someone else's token is `NotFound` to a non-admin. Idempotent."""
        now = self._clock.now()
        async with self._uow() as uow:
            token = await uow.tokens.get(token_id)
            if token is None or (
                ctx.actor is not None and not can_manage_token_of(ctx.actor, token.user_id)
            ):
                raise NotFound("token", token_id)
            if token.revoke(now):
                await uow.tokens.update(token)
                await uow.events.add(
                    ctx.event(
                        events.TOKEN_REVOKED,
                        "token",
                        token.id,
                        now,
                        {"user_id": str(token.user_id), "prefix": token.prefix},
                    )
                )
                await uow.commit()
        return token

    async def authenticate(self, secret: str, client_ip: str | None = None) -> Principal:
        """Turn a bearer secret into a principal, or raise `AuthenticationFailed`.

        One indexed read per request. `last_used_at` (and the user's last login) is written
        at most once per `LAST_USED_RESOLUTION` per token, so most requests write nothing."""
        if not looks_like_token(secret):
            raise AuthenticationFailed("malformed token")
        async with self._uow(autocommit=True) as uow:
            found = await uow.tokens.find_with_user(hash_secret(secret))
        now = self._clock.now()
        if found is None:
            raise AuthenticationFailed("unknown token")
        token, user = found
        if token.is_revoked():
            raise AuthenticationFailed("token revoked")
        if token.is_expired(now):
            raise AuthenticationFailed("token expired")
        if not user.is_active:
            raise AuthenticationFailed("user is inactive")
        if token.needs_touch(now):
            await self._touch(token, user, now, client_ip)
        return Principal(user=user, token_id=token.id)

    async def _touch(
        self, token: ApiToken, user: User, now: datetime, client_ip: str | None
    ) -> None:
        async with self._uow() as uow:
            if await uow.tokens.touch(token.id, now, now - LAST_USED_RESOLUTION):
                await uow.users.record_login(user.id, now, client_ip)
            await uow.commit()
