"""Every upload attempt and what came of it, for administrators (issue #12 item 5)."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, Parameter

from application.context import RequestContext
from application.upload_log import UploadLog
from domain.pagination import MAX_LIMIT, PageRequest
from domain.uploads import UploadFilter, UploadSource, UploadStatus
from interfaces.http.auth import admin_guard
from interfaces.http.instants import DATE_OR_DAY, DATE_TIME_OR_DATE, instant_or_day
from interfaces.http.problems import problems
from interfaces.http.schemas.common import ListOf
from interfaces.http.schemas.uploads import UploadRecord


class UploadController(Controller):
    path = "/uploads"
    tags = ["audit"]
    guards = [admin_guard]

    @get(
        operation_id="listUploads",
        summary="Upload attempts, newest first, whatever came of them (admin)",
        description="HTTP, text, import and consume-folder uploads: `stored`, `duplicate`, "
        "`rejected` (with the refusal's `error_code`; no bytes were kept) or `failed`.",
        responses=problems(400, 401, 403, 422),
    )
    async def list_uploads(
        self,
        ctx: NamedDependency[RequestContext],
        upload_log: NamedDependency[UploadLog],
        status: FromQuery[UploadStatus | None] = None,
        source: FromQuery[UploadSource | None] = None,
        user_id: FromQuery[UUID | None] = None,
        since: str | None = Parameter(
            default=None,
            description="Started at or after (inclusive): " + DATE_OR_DAY,
            schema_extra=DATE_TIME_OR_DATE,
        ),
        until: str | None = Parameter(
            default=None,
            description="Started before (exclusive): " + DATE_OR_DAY,
            schema_extra=DATE_TIME_OR_DATE,
        ),
        limit: int = Parameter(default=50, ge=1, le=MAX_LIMIT),
        cursor: str | None = Parameter(default=None, max_length=512),
    ) -> ListOf[UploadRecord]:
        filters = UploadFilter(
            status=status,
            source=source,
            user_id=user_id,
            since=instant_or_day(since, "since"),
            until=instant_or_day(until, "until"),
        )
        page = await upload_log.list(ctx, filters, PageRequest(limit, cursor))
        return ListOf[UploadRecord](
            items=[UploadRecord.of(r) for r in page.items], next_cursor=page.next_cursor
        )
