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
from interfaces.http.examples import SEARCH_REQUEST, SEARCH_RESPONSE, with_examples
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
        operation_class=with_examples(status=200, request=SEARCH_REQUEST, response=SEARCH_RESPONSE),
        summary="Ranked full-text search over the documents you can read",
        description="Full-text search (BM25 over titles and text) of the documents you can "
        "read, with optional filters (tags, category, type, department, metadata containment, "
        "taxonomy subtree, creation time), a page size and `cursor` for the next page, and "
        "facet counts on request. When no document holds every word the answer is `relaxed`: "
        "ranked on any of them. Every search is recorded in your history (its `query_id` takes "
        "feedback). Any user; 404 when a filter names an unknown taxonomy version or node; 422 "
        "for an invalid field or cursor.",
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
        description="Documents you can read that share the rarest terms of this one (more like "
        "this), best first. 404 for a document you cannot read; 422 for a limit out of range.",
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
        description="Your searches, newest first, with their filters, result counts, timings "
        "and ratings, paged by `cursor`. Admins may pass `user_id` for another user's (403 for "
        "anyone else).",
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
        description="Rates one of your searches from 1 to 5 with an optional comment; rating it "
        "again replaces the rating. 404 for a search that is not yours or does not exist; 422 "
        "for a rating out of range.",
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
        description="Over the last `days`: queries per day, the most frequent queries and those "
        "that found nothing, the average rating and its histogram, the 95th percentile of "
        "response times. Admins only (403 otherwise); 422 for a range out of bounds.",
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
