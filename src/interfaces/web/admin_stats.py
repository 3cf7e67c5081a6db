"""The statistics page for administrators (issue #14): uploads per day, popular tags,
category sizes and search analytics, each drawn as a chart with its numbers in a table.
The figures come from the use cases the API's stats and search analytics routes call
(`StatsService.overview`, `SearchService.analytics`), which admit administrators only.

The charts are SVG made on the server: a bar's size is an SVG attribute (`width`, `height`,
`x`, `y`: geometry, not style, so the page's CSP, which refuses every inline style, lets
them through), its colour a class of admin.css. No script draws anything."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from litestar import Controller, Request, get
from litestar.response import Template

from application.stats import Statistics
from domain.errors import ValidationFailed
from domain.search import SearchAnalytics
from interfaces.web.form_support import (
    Fields,
    admin_viewer,
    field_errors,
    human_bytes,
    services,
    use_case_context,
    whole_number,
)
from interfaces.web.rendering import page

STATS_PATH: Final = "/admin/stats"
DEFAULT_DAYS: Final = 30
PERIODS: Final = (7, 30, 90, 365)
TOP: Final = 10  # tags, queries and documents listed
RATINGS: Final = (1, 2, 3, 4, 5)


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of a chart: its `label`, its `value`, the value as shown, and its length as
    a share (0-100) of the longest bar's. A value above zero is never drawn as nothing."""

    label: str
    value: float
    shown: str
    share: float


def bars(
    items: Iterable[tuple[str, float]], shown: Callable[[float], str] = lambda v: f"{v:g}"
) -> list[Bar]:
    """Bars of `items` (label, value), each as long as its share of the largest value."""
    pairs = list(items)
    top = max((value for _, value in pairs), default=0)
    return [
        Bar(
            label,
            value,
            shown(value),
            0.0 if top <= 0 or value <= 0 else max(1.0, round(100 * value / top, 2)),
        )
        for label, value in pairs
    ]


@dataclass(frozen=True, slots=True)
class Busiest:
    """A series' total and its largest day, for the chart's text alternative."""

    total: float
    label: str | None
    value: float


def busiest(series: Sequence[Bar]) -> Busiest:
    top = max(series, key=lambda b: b.value, default=None)
    if top is None or top.value <= 0:
        return Busiest(sum(b.value for b in series), None, 0)
    return Busiest(sum(b.value for b in series), top.label, top.value)


def upload_outcomes(stats: Statistics) -> dict[str, int]:
    """The window's upload attempts by outcome."""
    days = stats.upload_outcomes_per_day
    return {
        "stored": sum(d.stored for d in days),
        "duplicate": sum(d.duplicate for d in days),
        "rejected": sum(d.rejected for d in days),
        "failed": sum(d.failed for d in days),
    }


def search_charts(analytics: SearchAnalytics) -> dict[str, Any]:
    per_day = bars((day, count) for day, count in analytics.queries_per_day)
    return {
        "queries_per_day": per_day,
        "queries_busiest": busiest(per_day),
        "top_queries": bars(analytics.top_queries),
        "zero_result_queries": list(analytics.zero_result_queries),
        "ratings": bars((str(r), analytics.rating_histogram.get(r, 0)) for r in RATINGS),
    }


class StatsPages(Controller):
    path = STATS_PATH
    include_in_schema = False

    @get("/")
    async def stats(self, request: Request[Any, Any, Any]) -> Template:
        """The archive's figures over the last `?days=` (30 by default)."""
        admin_viewer(request)
        ctx = use_case_context(request)
        try:
            days = whole_number(dict(request.query_params.items()), "days") or DEFAULT_DAYS
            stats = await services(request).stats().overview(ctx, days, TOP)
            analytics = await services(request).search().analytics(ctx, days, TOP)
        except ValidationFailed as error:
            return page(
                request,
                "admin/stats.html",
                status=422,
                errors=Fields(field_errors(error)),
                days=request.query_params.get("days", ""),
                periods=PERIODS,
                figures=None,
            )
        uploads = bars((d.day.isoformat(), d.count) for d in stats.uploads_per_day)
        return page(
            request,
            "admin/stats.html",
            errors=Fields(),
            days=days,
            periods=PERIODS,
            figures={
                "uploads_per_day": uploads,
                "uploads_busiest": busiest(uploads),
                "outcomes": upload_outcomes(stats),
                "tags": bars((t.name, t.document_count) for t in stats.popular_tags),
                "categories": list(stats.categories),
                "category_sizes": bars(
                    ((c.category, c.total_size_bytes) for c in stats.categories),
                    shown=human_bytes,
                ),
                "most_viewed": list(stats.most_viewed),
                "most_downloaded": list(stats.most_downloaded),
                "search": analytics,
                **search_charts(analytics),
            },
            size=human_bytes,
        )
