"""User administration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from application.context import RequestContext
from domain import events
from domain.clock import Clock
from domain.errors import Conflict, NotFound
from domain.pagination import Page, PageRequest
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.users import User, UserChanges, UserFilter


@dataclass(frozen=True, slots=True)
class CreateUser:
    email: str
    name: str
    department: str | None = None
    access_level: int = 1
    role: str = "member"


def _jsonable(changes: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.value if hasattr(v, "value") else v) for k, v in changes.items()}


class UserService:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    async def create(self, ctx: RequestContext, command: CreateUser) -> User:
        """Register a user (admins and the system only). Raises `Conflict` on a taken email."""
        ctx.require_admin()
        async with self._uow() as uow:
            user = await self.add_in(uow, ctx, command)
            await uow.commit()
        return user

    async def get(self, ctx: RequestContext, user_id: UUID) -> User:
        """A user by id: admins see anyone, others only themselves (else `NotFound`)."""
        if not ctx.is_system_or_admin and ctx.actor_id != user_id:
            raise NotFound("user", user_id)
        async with self._uow(autocommit=True) as uow:
            user = await uow.users.get(user_id)
        if user is None:
            raise NotFound("user", user_id)
        return user

    async def list(self, ctx: RequestContext, filters: UserFilter, page: PageRequest) -> Page[User]:
        ctx.require_admin()
        async with self._uow(autocommit=True) as uow:
            return await uow.users.list(filters, page)

    async def update(self, ctx: RequestContext, user_id: UUID, changes: UserChanges) -> User:
        """Change a user. Deactivating one stops their tokens, ends their sessions and voids
        their set-password link at once. The last active admin can be neither deactivated nor
        demoted (`Conflict`), so the service stays manageable."""
        ctx.require_admin()
        now = self._clock.now()
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
            if user is None:
                raise NotFound("user", user_id)
            was_active_admin = user.is_active_admin
            changed = user.apply(changes, now)
            if not changed:
                return user
            if (
                was_active_admin
                and not user.is_active_admin
                and await uow.users.count_active_admins() <= 1
            ):
                raise Conflict("the last active administrator cannot be deactivated or demoted")
            if "email" in changed:
                other = await uow.users.get_by_email(user.email)
                if other is not None and other.id != user.id:
                    raise Conflict(f"a user with email {user.email} already exists")
            await uow.users.update(user)
            if changed.get("is_active") is False:
                # Signed out at once, in the same transaction; a link would sign them back in.
                await uow.sessions.delete_for_user(user.id)
                await uow.password_links.delete_for_user(user.id)
            await uow.events.add(
                ctx.event(
                    events.USER_UPDATED, "user", user.id, now, {"changes": _jsonable(changed)}
                )
            )
            await uow.commit()
        return user

    async def add_in(self, uow: UnitOfWork, ctx: RequestContext, command: CreateUser) -> User:
        """Register within an open unit of work, with its `user.created` event."""
        user = User.register(
            email=command.email,
            name=command.name,
            department=command.department,
            access_level=command.access_level,
            role=command.role,
            now=self._clock.now(),
        )
        if await uow.users.get_by_email(user.email) is not None:
            raise Conflict(f"a user with email {user.email} already exists")
        await uow.users.add(user)
        await uow.events.add(
            ctx.event(
                events.USER_CREATED,
                "user",
                user.id,
                user.created_at,
                {"email": user.email, "role": user.role.value, "access_level": user.access_level},
            )
        )
        return user
