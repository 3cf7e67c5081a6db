"""Archive statistics for admins."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import Parameter

from application.context import RequestContext
from application.stats import StatsService
from interfaces.http.auth import admin_guard
from interfaces.http.problems import problems
from interfaces.http.schemas.stats import Stats


class StatsController(Controller):
    path = "/stats"
    tags = ["stats"]
    guards = [admin_guard]

    @get(
        operation_id="getStats",
        summary="Per-category figures, uploads per day, popular tags, most viewed and "
        "downloaded documents (admin)",
        description="Archive figures: per category the documents, their bytes and views and "
        "downloads; uploads per day over `days`; the most used tags; the most viewed and "
        "downloaded documents. Admins only (403 otherwise); 422 for a range out of bounds.",
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
