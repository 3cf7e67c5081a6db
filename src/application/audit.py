"""The audit trail, as administrators read it."""

from __future__ import annotations

from application.context import RequestContext
from domain.events import Event, EventFilter
from domain.pagination import Page, PageRequest
from domain.ports import UnitOfWorkFactory


class AuditLog:
    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow = uow_factory

    async def list(
        self, ctx: RequestContext, filters: EventFilter, page: PageRequest
    ) -> Page[Event]:
        """Matching events, newest first. Raises `PermissionDenied` for non-admins."""
        ctx.require_admin()
        async with self._uow(autocommit=True) as uow:
            return await uow.events.list(filters, page)
