"""What happened, for administrators (issue #14): the audit log with its filters, the
background jobs with their failures and a retry, and the record of every upload attempt,
each in keyset pages. The same use cases as the API's events, jobs and uploads
controllers: `AuditLog`, `JobAdmin`, `UploadLog`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from domain import events
from domain.errors import Conflict, ValidationFailed
from domain.events import EventFilter
from domain.pagination import MAX_LIMIT, PageRequest
from domain.uploads import UploadFilter, UploadSource, UploadStatus
from domain.users import User, UserFilter
from interfaces.http.instants import instant_or_day
from interfaces.web.form_support import (
    Fields,
    admin_viewer,
    human_bytes,
    listed,
    query_fields,
    services,
    use_case_context,
    user_id,
    with_query,
)
from interfaces.web.rendering import page

AUDIT_PATH: Final = "/admin/audit"
JOBS_PATH: Final = "/admin/jobs"
UPLOADS_PATH: Final = "/admin/uploads"
PAGE_SIZE: Final = 50
FAILURES_SHOWN: Final = 50
AUDIT_FILTERS: Final = ("actor_id", "action", "subject_type", "subject_id", "since", "until")
UPLOAD_FILTERS: Final = ("status", "source", "user_id", "since", "until")
# The actions the trail records, offered as suggestions for the action filter.
AUDIT_ACTIONS: Final = sorted(
    value
    for name, value in vars(events).items()
    if name.isupper() and isinstance(value, str) and "." in value
)
# The kinds of subject the use cases record events about (suggestions; any text filters).
SUBJECT_TYPES: Final = (
    "category",
    "document",
    "file_type",
    "job",
    "search",
    "setting",
    "tag",
    "taxonomy",
    "token",
    "user",
)


async def people_by_id(request: Request[Any, Any, Any]) -> dict[UUID, User]:
    """One page of users (the first MAX_LIMIT), to name the actors and uploaders shown;
    anyone beyond it is shown by id."""
    users = (
        await services(request)
        .users()
        .list(use_case_context(request), UserFilter(), PageRequest(MAX_LIMIT))
    )
    return {u.id: u for u in users.items}


def event_filter(given: Mapping[str, str]) -> EventFilter:
    """The audit log's filters, as the API's GET /events reads them."""
    return EventFilter(
        actor_id=user_id(given.get("actor_id"), "actor_id"),
        action=given.get("action"),
        subject_type=given.get("subject_type"),
        subject_id=given.get("subject_id"),
        since=instant_or_day(given.get("since"), "since"),
        until=instant_or_day(given.get("until"), "until"),
    )


def upload_filter(given: Mapping[str, str]) -> UploadFilter:
    """The upload records' filters, as the API's GET /uploads reads them."""
    status, source = given.get("status"), given.get("source")
    if status is not None and status not in {s.value for s in UploadStatus}:
        raise ValidationFailed.on("status", "is not an upload status")
    if source is not None and source not in {s.value for s in UploadSource}:
        raise ValidationFailed.on("source", "is not an upload source")
    return UploadFilter(
        status=UploadStatus(status) if status is not None else None,
        source=UploadSource(source) if source is not None else None,
        user_id=user_id(given.get("user_id"), "user_id"),
        since=instant_or_day(given.get("since"), "since"),
        until=instant_or_day(given.get("until"), "until"),
    )


def compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


class AuditPages(Controller):
    path = AUDIT_PATH
    include_in_schema = False

    @get("/")
    async def audit(self, request: Request[Any, Any, Any]) -> Template:
        """The audit trail, newest first, filtered by actor, action, subject and time."""
        admin_viewer(request)
        given = query_fields(request, (*AUDIT_FILTERS, "cursor"))
        filters = {k: v for k, v in given.items() if k != "cursor"}
        trail = await listed(
            lambda: (
                services(request)
                .audit()
                .list(
                    use_case_context(request),
                    event_filter(given),
                    PageRequest(PAGE_SIZE, given.get("cursor")),
                )
            )
        )
        return page(
            request,
            "admin/audit.html",
            status=422 if trail.errors else 200,
            events=trail.items,
            people=await people_by_id(request),
            filters=Fields(filters),
            errors=Fields(trail.errors),
            actions=AUDIT_ACTIONS,
            subject_types=SUBJECT_TYPES,
            data_of=compact_json,
            next_page=with_query(AUDIT_PATH, **filters, cursor=trail.next_cursor)
            if trail.next_cursor
            else None,
            first_page=with_query(AUDIT_PATH, **filters) if "cursor" in given else None,
        )


class JobPages(Controller):
    path = JOBS_PATH
    include_in_schema = False

    async def _jobs_page(
        self, request: Request[Any, Any, Any], *, status: int = 200, refusal: str | None = None
    ) -> Template:
        summary, failures = (
            await services(request).job_admin().overview(use_case_context(request), FAILURES_SHOWN)
        )
        done = request.query_params.get("done")
        retried = done if done is not None and done.isascii() and done.isdigit() else None
        return page(
            request,
            "admin/jobs.html",
            status=status,
            waiting=list(summary.waiting),
            finished=list(summary.finished),
            failures=list(failures),
            data_of=compact_json,
            refusal=refusal,
            retried=retried,
        )

    @get("/")
    async def jobs(self, request: Request[Any, Any, Any]) -> Template:
        """What waits, runs and failed, by kind; what finished lately; the recent failures."""
        admin_viewer(request)
        return await self._jobs_page(request)

    @post("/{job_id:int}/retry", status_code=303)
    async def retry(
        self, request: Request[Any, Any, Any], job_id: FromPath[int]
    ) -> Template | Redirect:
        """A failed job queued again, now, with its attempts reset."""
        admin_viewer(request)
        try:
            await services(request).job_admin().retry(use_case_context(request), job_id)
        except Conflict as error:
            return await self._jobs_page(request, status=409, refusal=error.message)
        return Redirect(with_query(JOBS_PATH, done=job_id), status_code=303)


class UploadPages(Controller):
    path = UPLOADS_PATH
    include_in_schema = False

    @get("/")
    async def uploads(self, request: Request[Any, Any, Any]) -> Template:
        """Every upload attempt, newest first, whatever came of it."""
        admin_viewer(request)
        given = query_fields(request, (*UPLOAD_FILTERS, "cursor"))
        filters = {k: v for k, v in given.items() if k != "cursor"}
        found = await listed(
            lambda: (
                services(request)
                .upload_log()
                .list(
                    use_case_context(request),
                    upload_filter(given),
                    PageRequest(PAGE_SIZE, given.get("cursor")),
                )
            )
        )
        return page(
            request,
            "admin/uploads.html",
            status=422 if found.errors else 200,
            records=found.items,
            people=await people_by_id(request),
            filters=Fields(filters),
            errors=Fields(found.errors),
            statuses=[s.value for s in UploadStatus],
            sources=[s.value for s in UploadSource],
            size=human_bytes,
            next_page=with_query(UPLOADS_PATH, **filters, cursor=found.next_cursor)
            if found.next_cursor
            else None,
            first_page=with_query(UPLOADS_PATH, **filters) if "cursor" in given else None,
        )
