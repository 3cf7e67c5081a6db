"""Grants: who, besides the policy's defaults, may read, write or delete a document."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID, uuid4

from application import document_access
from application.context import RequestContext
from domain import events, policy
from domain.clock import Clock
from domain.documents import Access, Document, Permission
from domain.errors import NotFound, PermissionDenied
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.users import User
from domain.values import normalize_email


class GrantService:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    async def _managed(self, uow: UnitOfWork, ctx: RequestContext, doc_id: UUID) -> Document:
        """The document if the caller manages its grants: `NotFound` when they cannot even
        read it, `PermissionDenied` when they can read but not manage."""
        actor = ctx.require_user("grants are managed on behalf of a user")
        found = await document_access.readable(uow, actor, doc_id)
        if not policy.can_manage_grants(actor, found.document):
            raise PermissionDenied("only the owner or an administrator manages grants")
        return found.document

    async def list(self, ctx: RequestContext, doc_id: UUID) -> Sequence[Permission]:
        async with self._uow(autocommit=True) as uow:
            await self._managed(uow, ctx, doc_id)
            return await uow.permissions.list_for(doc_id)

    async def grantees(
        self, ctx: RequestContext, doc_id: UUID
    ) -> Sequence[tuple[Permission, User | None]]:
        """`list`, each grant with the user it is for (None for one gone since), for a
        page that names people rather than ids: its manager sees whom they granted."""
        async with self._uow(autocommit=True) as uow:
            await self._managed(uow, ctx, doc_id)
            return [
                (p, await uow.users.get(p.user_id)) for p in await uow.permissions.list_for(doc_id)
            ]

    async def grant_by_email(
        self, ctx: RequestContext, doc_id: UUID, email: str, access: str
    ) -> Permission:
        """`grant` to the active user with this e-mail address (a web form names people by
        it). Whom the address belongs to is looked up only once the caller is known to
        manage the document's grants: `NotFound("user")` for no such active user."""
        wanted = normalize_email(email)
        Access.parse(access)  # refused before anyone is looked up
        async with self._uow(autocommit=True) as uow:
            await self._managed(uow, ctx, doc_id)
            user = await uow.users.get_by_email(wanted)
        if user is None or not user.is_active:
            raise NotFound("user", wanted)
        return await self.grant(ctx, doc_id, user.id, access)

    async def grant(
        self, ctx: RequestContext, doc_id: UUID, user_id: UUID, access: str
    ) -> Permission:
        """Create or change the grant of `user_id` on the document."""
        level = Access.parse(access)
        now = self._clock.now()
        async with self._uow() as uow:
            doc = await self._managed(uow, ctx, doc_id)
            if await uow.users.get(user_id) is None:
                raise NotFound("user", user_id)
            permission = Permission(uuid4(), user_id, doc.id, level, ctx.actor_id, now)
            await uow.permissions.put(permission)
            stored = await uow.permissions.get(user_id, doc.id)
            await uow.events.add(
                ctx.event(
                    events.PERMISSION_GRANTED,
                    "document",
                    doc.id,
                    now,
                    {"user_id": str(user_id), "access": level.label},
                )
            )
            await uow.commit()
        return stored or permission

    async def revoke(self, ctx: RequestContext, doc_id: UUID, user_id: UUID) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            doc = await self._managed(uow, ctx, doc_id)
            if not await uow.permissions.delete(user_id, doc.id):
                raise NotFound("grant", user_id)
            await uow.events.add(
                ctx.event(
                    events.PERMISSION_REVOKED, "document", doc.id, now, {"user_id": str(user_id)}
                )
            )
            await uow.commit()
