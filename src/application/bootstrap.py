"""Admin accounts made outside the HTTP API: first start and `archivist admin create`."""

from __future__ import annotations

from dataclasses import dataclass

from application.context import RequestContext
from application.tokens import IssuedToken, TokenIssue, TokenService
from application.users import CreateUser, UserService
from domain.clock import Clock
from domain.errors import Conflict
from domain.ports import UnitOfWorkFactory
from domain.users import User


@dataclass(frozen=True, slots=True)
class AdminCreated:
    user: User
    issued: IssuedToken


class AdminBootstrap:
    """Creates an administrator and its first token in one unit of work."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        users: UserService,
        tokens: TokenService,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._users = users
        self._tokens = tokens

    async def create_admin(
        self, email: str, name: str, department: str | None = None
    ) -> AdminCreated:
        """A new L3 admin with a token. Raises `Conflict` if the email is taken."""
        return await self._create(email, name, department, only_if_empty=False)

    async def ensure_initial_admin(self, email: str, name: str) -> AdminCreated | None:
        """On an empty database, create the first admin; otherwise do nothing (None)."""
        try:
            return await self._create(email, name, None, only_if_empty=True)
        except _NotEmpty:
            return None

    async def _create(
        self, email: str, name: str, department: str | None, *, only_if_empty: bool
    ) -> AdminCreated:
        ctx = RequestContext.system()
        command = CreateUser(
            email=email, name=name, department=department, access_level=3, role="admin"
        )
        async with self._uow() as uow:
            if only_if_empty and await uow.users.any_exist():
                raise _NotEmpty
            user = await self._users.add_in(uow, ctx, command)
            issued = await self._tokens.issue_in(
                uow, ctx, user.id, TokenIssue(name="bootstrap" if only_if_empty else "cli")
            )
            await uow.commit()
        return AdminCreated(user, issued)


class _NotEmpty(Conflict):
    def __init__(self) -> None:
        super().__init__("users already exist")
