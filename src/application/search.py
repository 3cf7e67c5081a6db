"""Search: ranked, access-filtered full-text search with an extractive answer; the query and
response logs, feedback, history and analytics; retention of the logs."""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

from application.context import RequestContext
from application.settings import effective_int
from application.taxonomy import TaxonomyResolver
from domain import events
from domain.clock import Clock
from domain.document_ports import DocumentFilter
from domain.documents import check_metadata, tag_name
from domain.errors import NotFound, PermissionDenied, ValidationFailed
from domain.pagination import Page, PageRequest
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.search import (
    RESULTS_MAX,
    Feedback,
    HistoryEntry,
    ParsedQuery,
    SearchAnalytics,
    SearchFacets,
    SearchHit,
    SearchPage,
    SearchQueryLog,
    SearchResponseLog,
    parse_query,
)
from domain.taxonomy import parse_path
from domain.users import User
from domain.values import bounded_text

COMMENT_MAX = 2000
CURSOR_MAX = 4096

_ON_BEHALF = "searches are made on behalf of a user"


@dataclass(frozen=True, slots=True)
class SearchFilters:
    tags: tuple[str, ...] = ()
    category: str | None = None
    document_type: Any = None  # domain.documents.DocumentType
    department: str | None = None
    metadata: dict[str, Any] | None = None
    taxonomy: str | None = None  # A/B: the subtree
    taxonomy_version: str | None = None
    created_after: Any = None
    created_before: Any = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in self.__slots__:
            value = getattr(self, key)
            if value in (None, ()):
                continue
            if hasattr(value, "value"):
                value = value.value
            elif hasattr(value, "isoformat"):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            out[key] = value
        return out


@dataclass(frozen=True, slots=True)
class SearchResult:
    query_id: UUID
    answer: str
    results: list[SearchHit] = field(default_factory=list)
    response_time_ms: int = 0
    relaxed: bool = False  # the operators matched nothing: hits for the query's words
    total: int = 0  # every ranked hit (at most CANDIDATE_CAP)
    next_cursor: str | None = None
    facets: SearchFacets | None = None


class SearchService:
    def __init__(
        self, uow_factory: UnitOfWorkFactory, clock: Clock, resolver: TaxonomyResolver
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._resolver = resolver

    async def search(
        self,
        ctx: RequestContext,
        query: str,
        filters: SearchFilters | None = None,
        limit: int = 10,
        session_id: str | None = None,
        cursor: str | None = None,
        facets: bool = False,
    ) -> SearchResult:
        """Search what the caller may read. Logs the query, its response and a
        `search.performed` event in one unit of work. Operators or punctuation alone give an
        empty result, not an error. When quoted phrases or `OR`s match nothing, the query's
        words are searched instead and the result says `relaxed` (exclusions still hold)."""
        user = ctx.require_user(_ON_BEHALF)
        started = time.perf_counter()
        parsed = parse_query(query)
        if isinstance(limit, bool) or not 1 <= limit <= RESULTS_MAX:
            raise ValidationFailed.on("limit", f"must be between 1 and {RESULTS_MAX}")
        if session_id is not None:
            session_id = bounded_text(session_id, "session_id", 100)
        if cursor is not None:
            cursor = bounded_text(cursor, "cursor", CURSOR_MAX)
        filters = filters or SearchFilters()
        now = self._clock.now()
        async with self._uow() as uow:
            doc_filter = await self._document_filter(uow, filters)
            found, relaxed = await self._page(uow, user, parsed, doc_filter, limit, cursor, facets)
            hits = found.hits
            elapsed_ms = max(0, round((time.perf_counter() - started) * 1000))
            answer = _plain(hits[0].snippet) if hits and cursor is None else ""
            query_log = SearchQueryLog(
                uuid4(), user.id, query.strip(), session_id, filters.as_json(), now
            )
            response_log = SearchResponseLog(
                uuid4(),
                query_log.id,
                answer,
                [
                    {
                        "document_id": str(h.document_id),
                        "title": h.title,
                        "score": h.score,
                        "snippet": h.snippet,
                    }
                    for h in hits
                ],
                len(hits),
                elapsed_ms,
                now,
            )
            await uow.search_logs.log(query_log, response_log)
            await uow.events.add(
                ctx.event(
                    events.SEARCH_PERFORMED,
                    "search",
                    query_log.id,
                    now,
                    {"result_count": len(hits), "response_time_ms": elapsed_ms},
                )
            )
            await uow.commit()
        return SearchResult(
            query_log.id,
            answer,
            hits,
            elapsed_ms,
            relaxed,
            found.total,
            found.next_cursor,
            found.facets,
        )

    async def similar(self, ctx: RequestContext, document_id: UUID, limit: int = 10) -> SearchPage:
        """Documents the caller may read that share the rarest terms of one they may read
        ("more like this"), best first; `NotFound` for a document they may not read."""
        user = ctx.require_user(_ON_BEHALF)
        if isinstance(limit, bool) or not 1 <= limit <= RESULTS_MAX:
            raise ValidationFailed.on("limit", f"must be between 1 and {RESULTS_MAX}")
        async with self._uow(autocommit=True) as uow:
            return await uow.search.similar(user, document_id, limit)

    @staticmethod
    async def _page(
        uow: UnitOfWork,
        user: User,
        parsed: ParsedQuery,
        doc_filter: DocumentFilter,
        limit: int,
        cursor: str | None,
        facets: bool,
    ) -> tuple[SearchPage, bool]:
        """The page, and whether it is the relaxed query's: when operators match nothing, the
        query's words are searched instead (and a cursor of that search resumes it)."""
        relaxable = not parsed.is_natural
        try:
            found = await uow.search.search(
                user, parsed, doc_filter, limit, cursor=cursor, facets=facets
            )
        except ValidationFailed:
            if cursor is None or not relaxable:
                raise
            found = SearchPage([], 0)  # perhaps a cursor of the relaxed search
        if found.hits or found.total or not relaxable:
            return found, False
        relaxed = await uow.search.search(
            user, parsed.relaxed(), doc_filter, limit, cursor=cursor, facets=facets
        )
        return relaxed, bool(relaxed.hits or relaxed.total)

    async def _document_filter(self, uow: UnitOfWork, filters: SearchFilters) -> DocumentFilter:
        taxonomy_path = taxonomy_version = None
        if filters.taxonomy is not None:
            taxonomy_path = parse_path(filters.taxonomy, "taxonomy")
            version = await self._resolver.version_or_latest(uow, filters.taxonomy_version)
            taxonomy_version = version.version
        return DocumentFilter(
            tags=tuple(tag_name(t) for t in filters.tags),
            category=filters.category,
            document_type=filters.document_type,
            department=filters.department,
            metadata=check_metadata(filters.metadata),
            created_after=filters.created_after,
            created_before=filters.created_before,
            taxonomy_path=taxonomy_path,
            taxonomy_version=taxonomy_version,
        )

    async def history(
        self, ctx: RequestContext, page: PageRequest, user_id: UUID | None = None
    ) -> Page[HistoryEntry]:
        """Your searches, newest first, with responses and your rating; admins may name
        another user. Only the sources the caller may read now are shown, and the answer
        only while its top source is one of them (access may have changed since)."""
        user = ctx.require_user(_ON_BEHALF)
        owner = user_id or user.id
        if owner != user.id and not user.is_active_admin:
            raise PermissionDenied("only administrators read other users' search history")
        async with self._uow(autocommit=True) as uow:
            return await uow.search_logs.history(owner, page, user)

    async def rate(
        self, ctx: RequestContext, query_id: UUID, rating: int, comment: str | None = None
    ) -> Feedback:
        """Rate a search you made (1-5); rating again replaces the first. Another user's
        search is `NotFound`."""
        user = ctx.require_user(_ON_BEHALF)
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            raise ValidationFailed.on("rating", "must be an integer from 1 to 5")
        if comment is not None:
            comment = bounded_text(comment, "comment", COMMENT_MAX, allow_empty=True) or None
        now = self._clock.now()
        async with self._uow() as uow:
            logged = await uow.search_logs.get_query(query_id)
            if logged is None or logged.user_id != user.id:
                raise NotFound("search", query_id)
            stored = await uow.search_logs.put_feedback(
                Feedback(uuid4(), query_id, user.id, rating, comment, now)
            )
            await uow.events.add(
                ctx.event(events.SEARCH_RATED, "search", query_id, now, {"rating": rating})
            )
            await uow.commit()
        return stored

    async def analytics(
        self, ctx: RequestContext, days: int = 30, top: int = 10
    ) -> SearchAnalytics:
        ctx.require_admin()
        if isinstance(days, bool) or not 1 <= days <= 366:
            raise ValidationFailed.on("days", "must be between 1 and 366")
        if isinstance(top, bool) or not 1 <= top <= 100:
            raise ValidationFailed.on("top", "must be between 1 and 100")
        since = self._clock.now() - timedelta(days=days)
        async with self._uow(autocommit=True) as uow:
            return await uow.search_logs.analytics(since, days, top)

    async def purge_logs(self, dry_run: bool = False) -> int:
        """Delete search logs older than `search_retention_days`; how many queries went (or,
        with `dry_run`, would go)."""
        async with self._uow() as uow:
            days = await effective_int(uow.settings, "search_retention_days")
            cutoff = self._clock.now() - timedelta(days=days)
            if dry_run:
                return await uow.search_logs.count_before(cutoff)
            removed = await uow.search_logs.purge_before(cutoff)
            await uow.commit()
        return removed


def _plain(snippet_html: str) -> str:
    return html.unescape(snippet_html.replace("<mark>", "").replace("</mark>", ""))
