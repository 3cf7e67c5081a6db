"""In-memory search logs: the same queries and responses, feedback, history (only the
sources the reader may read now), analytics and retention as PostgreSQL's."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from datetime import UTC, datetime, timedelta
from uuid import UUID

from domain.pagination import SEARCH_HISTORY, Page, PageRequest
from domain.search import Feedback, HistoryEntry, SearchAnalytics, SearchQueryLog, SearchResponseLog
from domain.users import User
from infrastructure.memory.documents import InMemoryDocumentRepository
from infrastructure.memory.table import StagedTable


def _percentile(values: list[int], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont: linear interpolation between the nearest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class InMemorySearchLogRepository:
    def __init__(
        self,
        documents: InMemoryDocumentRepository,
        queries: StagedTable[UUID, SearchQueryLog],
        responses: StagedTable[UUID, SearchResponseLog],
        feedback: StagedTable[tuple[UUID, UUID], Feedback],
    ) -> None:
        self._documents = documents
        self._queries = queries
        self._responses = responses
        self._feedback = feedback

    async def log(self, query: SearchQueryLog, response: SearchResponseLog) -> None:
        self._queries.put(query.id, query)
        self._responses.put(response.query_id, response)

    async def get_query(self, query_id: UUID) -> SearchQueryLog | None:
        return self._queries.get(query_id)

    async def history(
        self, user_id: UUID | None, page: PageRequest, reader: User
    ) -> Page[HistoryEntry]:
        rows = [q for q in self._queries.values() if user_id is None or q.user_id == user_id]
        rows.sort(key=_history_position, reverse=SEARCH_HISTORY.descending)
        after = SEARCH_HISTORY.after(page)
        if after is not None:
            rows = [q for q in rows if SEARCH_HISTORY.beyond(_history_position(q), after)]
        items = [
            HistoryEntry(
                q,
                self._readable_response(self._responses.get(q.id), reader),
                self._feedback.get((q.id, q.user_id)),
            )
            for q in rows[: page.limit + 1]
        ]
        return SEARCH_HISTORY.page(items, page.limit, lambda e: _history_position(e.query))

    def _readable_response(
        self, response: SearchResponseLog | None, reader: User
    ) -> SearchResponseLog | None:
        """`response` with only the sources `reader` may read now; the answer only while its
        top source is one of them."""
        if response is None:
            return None
        shown = [s for s in response.sources if self._documents.readable(reader, s)]
        top_shown = bool(response.sources) and bool(shown) and shown[0] is response.sources[0]
        return dataclasses.replace(
            response, sources=shown, answer=response.answer if top_shown else ""
        )

    async def put_feedback(self, feedback: Feedback) -> Feedback:
        key = (feedback.query_id, feedback.user_id)
        existing = self._feedback.get(key)
        if existing is not None:  # ON CONFLICT DO UPDATE keeps the row's id
            feedback = dataclasses.replace(feedback, id=existing.id)
        self._feedback.put(key, feedback)
        return feedback

    async def analytics(self, since: datetime, days: int, top: int) -> SearchAnalytics:
        window = [q for q in self._queries.values() if q.timestamp >= since]
        per_day = Counter(q.timestamp.astimezone(UTC).date().isoformat() for q in window)

        def ranked(texts: list[str]) -> list[tuple[str, int]]:
            counts = Counter(texts)
            return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].encode()))[:top]

        responses = {q.id: self._responses.get(q.id) for q in window}
        normalized = {q.id: q.query.strip(" ").lower() for q in window}
        zero = [
            normalized[qid] for qid, r in responses.items() if r is not None and r.result_count == 0
        ]
        ratings = Counter(f.rating for f in self._feedback.values() if f.query_id in normalized)
        rated = sum(ratings.values())
        times = [r.response_time_ms for r in responses.values() if r is not None]
        start = since.astimezone(UTC).date()
        calendar = [(start + timedelta(days=i)).isoformat() for i in range(days + 1)]
        return SearchAnalytics(
            days=days,
            queries_per_day=[(day, per_day.get(day, 0)) for day in calendar],
            top_queries=ranked(list(normalized.values())),
            zero_result_queries=ranked(zero),
            average_rating=sum(k * v for k, v in ratings.items()) / rated if rated else None,
            rating_histogram={k: ratings.get(k, 0) for k in range(1, 6)},
            p50_response_ms=_percentile(times, 0.5),
            p95_response_ms=_percentile(times, 0.95),
            total_queries=len(window),
        )

    async def purge_before(self, cutoff: datetime) -> int:
        old = [q.id for q in self._queries.values() if q.timestamp < cutoff]
        for query_id in old:
            self._queries.remove(query_id)
            self._responses.remove(query_id)
            for key in [k for k in self._feedback.all_keys() if k[0] == query_id]:
                self._feedback.remove(key)
        return len(old)

    async def count_before(self, cutoff: datetime) -> int:
        return sum(1 for q in self._queries.values() if q.timestamp < cutoff)


def _history_position(q: SearchQueryLog) -> tuple[datetime, UUID]:
    """A logged query's place in the history, newest first (`SEARCH_HISTORY`)."""
    return (q.timestamp, q.id)
