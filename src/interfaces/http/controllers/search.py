"""Search, its history and feedback; search analytics for admins."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter

from application.context import RequestContext
from application.search import SearchFilters, SearchService
from domain.documents import DocumentType
from domain.pagination import MAX_LIMIT, PageRequest
from interfaces.http.auth import admin_guard
from interfaces.http.problems import problems
from interfaces.http.schemas.common import ListOf
from interfaces.http.schemas.search import (
    Feedback,
    FeedbackIn,
    SearchAnalytics,
    SearchFacetsOut,
    SearchHistoryItem,
    SearchRequest,
    SearchResponse,
    SearchResultItem,
    SimilarResponse,
)


class SearchController(Controller):
    path = "/"
    tags = ["search"]

    @post(
        "/search",
        operation_id="search",
        summary="Ranked full-text search over the documents you can read",
        status_code=200,
        responses=problems(400, 401, 404, 422),
    )
    async def search(
        self,
        data: JSONBody[SearchRequest],
        ctx: NamedDependency[RequestContext],
        search_service: NamedDependency[SearchService],
    ) -> SearchResponse:
        f = data.filters
        filters = None
        if f is not None:
            filters = SearchFilters(
                tags=tuple(f.tags),
                category=f.category,
                document_type=DocumentType(f.document_type) if f.document_type else None,
                department=f.department,
                metadata=f.metadata,
                taxonomy=f.taxonomy,
                taxonomy_version=f.taxonomy_version,
                created_after=f.created_after,
                created_before=f.created_before,
            )
        result = await search_service.search(
            ctx, data.query, filters, data.limit, data.session_id, data.cursor, data.facets
        )
        return SearchResponse(
            query_id=result.query_id,
            answer=result.answer,
            results=[SearchResultItem.of(h) for h in result.results],
            response_time_ms=result.response_time_ms,
            relaxed=result.relaxed,
            total=result.total,
            next_cursor=result.next_cursor,
            facets=SearchFacetsOut.of(result.facets),
        )

    @get(
        "/documents/{doc_id:uuid}/similar",
        operation_id="similarDocuments",
        summary="Documents you can read that share this one's rarest terms",
        responses=problems(400, 401, 404, 422),
    )
    async def similar(
        self,
        doc_id: FromPath[UUID],
        ctx: NamedDependency[RequestContext],
        search_service: NamedDependency[SearchService],
        limit: int = Parameter(default=10, ge=1, le=50),
    ) -> SimilarResponse:
        found = await search_service.similar(ctx, doc_id, limit)
        return SimilarResponse(
            results=[SearchResultItem.of(h) for h in found.hits], total=found.total
        )

    @get(
        "/search/history",
        operation_id="searchHistory",
        summary="Your searches, newest first (admins: ?user_id= for another user's)",
        responses=problems(400, 401, 403, 422),
    )
    async def history(
        self,
        ctx: NamedDependency[RequestContext],
        search_service: NamedDependency[SearchService],
        user_id: FromQuery[UUID | None] = None,
        limit: int = Parameter(default=50, ge=1, le=MAX_LIMIT),
        cursor: str | None = Parameter(default=None, max_length=512),
    ) -> ListOf[SearchHistoryItem]:
        page = await search_service.history(ctx, PageRequest(limit, cursor), user_id)
        return ListOf[SearchHistoryItem](
            items=[SearchHistoryItem.of(e) for e in page.items], next_cursor=page.next_cursor
        )

    @post(
        "/search/{query_id:uuid}/feedback",
        operation_id="rateSearch",
        summary="Rate one of your searches (1-5); rating again replaces it",
        status_code=200,
        responses=problems(400, 401, 404, 422),
    )
    async def feedback(
        self,
        query_id: FromPath[UUID],
        data: JSONBody[FeedbackIn],
        ctx: NamedDependency[RequestContext],
        search_service: NamedDependency[SearchService],
    ) -> Feedback:
        stored = await search_service.rate(ctx, query_id, data.rating, data.comment)
        return Feedback.of(stored)

    @get(
        "/analytics/search",
        operation_id="searchAnalytics",
        summary="Queries per day, top and zero-result queries, ratings, latency (admin)",
        guards=[admin_guard],
        responses=problems(400, 401, 403, 422),
    )
    async def analytics(
        self,
        ctx: NamedDependency[RequestContext],
        search_service: NamedDependency[SearchService],
        days: int = Parameter(default=30, ge=1, le=366),
        top: int = Parameter(default=10, ge=1, le=100),
    ) -> SearchAnalytics:
        return SearchAnalytics.of(await search_service.analytics(ctx, days, top))
