"""The whole audit trail, for administrators."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, Parameter

from application.audit import AuditLog
from application.context import RequestContext
from domain.events import Event as DomainEvent
from domain.events import EventFilter
from domain.pagination import MAX_LIMIT, PageRequest
from interfaces.http.auth import admin_guard
from interfaces.http.instants import DATE_OR_DAY, DATE_TIME_OR_DATE, instant_or_day
from interfaces.http.problems import problems
from interfaces.http.schemas.common import ListOf
from interfaces.http.schemas.events import Event


class EventController(Controller):
    path = "/events"
    tags = ["audit"]
    guards = [admin_guard]

    @get(
        operation_id="listEvents",
        summary="The audit trail, newest first (admin)",
        description="The whole audit trail (who did what to which resource, when, from which "
        "address), newest first, filtered by action, actor, resource or time, paged by "
        "`cursor`. Admins only (403 otherwise); 400 or 422 for a malformed filter or cursor.",
        responses=problems(400, 401, 403, 422),
    )
    async def list_events(
        self,
        ctx: NamedDependency[RequestContext],
        audit_log: NamedDependency[AuditLog],
        actor_id: FromQuery[UUID | None] = None,
        action: str | None = Parameter(default=None, max_length=100),
        subject_type: str | None = Parameter(default=None, max_length=50),
        subject_id: str | None = Parameter(default=None, max_length=100),
        since: str | None = Parameter(
            default=None,
            description="At or after (inclusive): " + DATE_OR_DAY,
            schema_extra=DATE_TIME_OR_DATE,
        ),
        until: str | None = Parameter(
            default=None,
            description="Before (exclusive): " + DATE_OR_DAY,
            schema_extra=DATE_TIME_OR_DATE,
        ),
        limit: int = Parameter(default=50, ge=1, le=MAX_LIMIT),
        cursor: str | None = Parameter(default=None, max_length=512),
    ) -> ListOf[Event]:
        filters = EventFilter(
            actor_id=actor_id,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            since=instant_or_day(since, "since"),
            until=instant_or_day(until, "until"),
        )
        page = await audit_log.list(ctx, filters, PageRequest(limit, cursor))
        items: list[DomainEvent] = list(page.items)
        return ListOf[Event](items=[Event.of(e) for e in items], next_cursor=page.next_cursor)
