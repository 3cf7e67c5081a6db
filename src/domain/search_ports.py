"""Ports of the search area: the search itself (`SearchRepository`) and what is kept of each
search (`SearchLogRepository`: the query and response logs, feedback, history, analytics and
their retention)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.document_ports import DocumentFilter
from domain.pagination import Page, PageRequest
from domain.search import (
    Feedback,
    HistoryEntry,
    ParsedQuery,
    SearchAnalytics,
    SearchPage,
    SearchQueryLog,
    SearchResponseLog,
)
from domain.users import User


class SearchRepository(Protocol):
    async def search(
        self,
        reader: User,
        query: ParsedQuery,
        filters: DocumentFilter,
        limit: int,
        *,
        cursor: str | None = None,
        facets: bool = False,
    ) -> SearchPage:
        """The best-ranked live documents `reader` may read that match `query` and `filters`,
        with a highlighted snippet each; an empty query matches nothing. `cursor` (a page's
        `next_cursor`) resumes after that page (`ValidationFailed` on `cursor` when it is not
        one of this query's); `facets` counts the whole result set. Nothing `reader` may not
        read shapes a hit, a score, a count or a facet."""
        ...

    async def similar(self, reader: User, document_id: UUID, limit: int) -> SearchPage:
        """Readable live documents sharing the rarest terms of `document_id` (which is not
        among them), best first; `NotFound` when `reader` may not read it."""
        ...


class SearchLogRepository(Protocol):
    async def log(self, query: SearchQueryLog, response: SearchResponseLog) -> None: ...

    async def get_query(self, query_id: UUID) -> SearchQueryLog | None: ...

    async def history(
        self, user_id: UUID | None, page: PageRequest, reader: User
    ) -> Page[HistoryEntry]:
        """Searches of `user_id` (everyone's if None), newest first, with response and the
        searcher's feedback. A response's sources are only those `reader` may read now
        (`policy.can_read`, in the query), in their stored order; its answer (taken from the
        top source) is "" unless that top source is among them."""
        ...

    async def put_feedback(self, feedback: Feedback) -> Feedback:
        """Create or replace the (query, user) rating; returns the stored one."""
        ...

    async def analytics(self, since: datetime, days: int, top: int) -> SearchAnalytics: ...

    async def purge_before(self, cutoff: datetime) -> int:
        """Delete queries (with their responses and feedback) older than `cutoff`."""
        ...

    async def count_before(self, cutoff: datetime) -> int: ...
