"""Archive statistics for admins."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import Parameter
from pydantic import BaseModel, ConfigDict

from application.context import RequestContext
from application.stats import StatsService
from interfaces.http.auth import admin_guard
from interfaces.http.problems import problems


class Figures(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class CategoryFigures(Figures):
    category_id: UUID
    category: str
    document_count: int
    total_size_bytes: int
    average_size_bytes: int
    last_upload_at: datetime | None


class DayFigure(Figures):
    day: date
    count: int


class TagFigure(Figures):
    tag_id: UUID
    name: str
    document_count: int


class DocumentFigure(Figures):
    document_id: UUID
    title: str
    count: int


class Stats(Figures):
    categories: list[CategoryFigures]
    uploads_per_day: list[DayFigure]
    popular_tags: list[TagFigure]
    most_viewed: list[DocumentFigure]
    most_downloaded: list[DocumentFigure]


class StatsController(Controller):
    path = "/stats"
    tags = ["stats"]
    guards = [admin_guard]

    @get(
        operation_id="getStats",
        summary="Per-category figures, uploads per day, popular tags, most viewed and "
        "downloaded documents (admin)",
        responses=problems(400, 401, 403, 422),
    )
    async def stats(
        self,
        ctx: NamedDependency[RequestContext],
        stats_service: NamedDependency[StatsService],
        days: int = Parameter(default=30, ge=1, le=366),
        limit: int = Parameter(default=10, ge=1, le=100),
    ) -> Stats:
        s = await stats_service.overview(ctx, days, limit)
        return Stats.model_validate(s, from_attributes=True)
