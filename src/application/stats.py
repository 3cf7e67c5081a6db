"""Statistics for administrators (SPEC.md §2.12). The HTTP route `GET /api/v1/stats` calls
`StatsService.overview`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from application.context import RequestContext
from domain import events
from domain.clock import Clock
from domain.errors import ValidationFailed
from domain.stats import (
    ArchiveSize,
    CategoryStatistics,
    DailyCount,
    DailyUploadOutcomes,
    DocumentActivity,
    StatsRepository,
    TagUsage,
)

MAX_DAYS = 366
MAX_LIMIT = 100


@dataclass(frozen=True, slots=True)
class Statistics:
    categories: Sequence[CategoryStatistics]
    uploads_per_day: Sequence[DailyCount]  # every day of the window, oldest first, zeros too
    # Upload attempts by outcome, every day of the window, oldest first, zeros too.
    upload_outcomes_per_day: Sequence[DailyUploadOutcomes]
    popular_tags: Sequence[TagUsage]
    most_viewed: Sequence[DocumentActivity]
    most_downloaded: Sequence[DocumentActivity]


class StatsService:
    def __init__(self, stats: StatsRepository, clock: Clock) -> None:
        self._stats = stats
        self._clock = clock

    async def archive_size(self) -> ArchiveSize:
        """How much the archive holds, for the service's own metrics (no caller: `/metrics`
        is the operator's, and the figures name nothing)."""
        return await self._stats.archive_size()

    async def overview(self, ctx: RequestContext, days: int = 30, limit: int = 10) -> Statistics:
        """The archive's figures: per category, uploads on each of the last `days` UTC days
        (today included), and the `limit` most used tags and most viewed and downloaded
        live documents.

        Raises `PermissionDenied` for anyone but an admin (or the system), and
        `ValidationFailed` for `days` outside 1..366 or `limit` outside 1..100."""
        ctx.require_admin()
        if not 1 <= days <= MAX_DAYS:
            raise ValidationFailed.on("days", f"must be between 1 and {MAX_DAYS}")
        if not 1 <= limit <= MAX_LIMIT:
            raise ValidationFailed.on("limit", f"must be between 1 and {MAX_LIMIT}")
        today = self._clock.now().astimezone(UTC).date()
        first = today - timedelta(days=days - 1)
        counted = {
            d.day: d.count
            for d in await self._stats.uploads_per_day(datetime.combine(first, time(), UTC))
        }
        since = datetime.combine(first, time(), UTC)
        outcomes = {d.day: d for d in await self._stats.upload_outcomes_per_day(since)}
        window = [first + timedelta(days=i) for i in range(days)]
        return Statistics(
            upload_outcomes_per_day=[outcomes.get(day, DailyUploadOutcomes(day)) for day in window],
            categories=await self._stats.category_statistics(),
            uploads_per_day=[
                DailyCount(day, counted.get(day, 0))
                for day in (first + timedelta(days=i) for i in range(days))
            ],
            popular_tags=await self._stats.popular_tags(limit),
            most_viewed=await self._stats.most_active_documents(events.DOCUMENT_VIEWED, limit),
            most_downloaded=await self._stats.most_active_documents(
                events.DOCUMENT_DOWNLOADED, limit
            ),
        )
