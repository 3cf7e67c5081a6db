"""In-memory search: the same matching rules as PostgreSQL's for plain text (domain.search),
the same access and filters as the document listing, the same logs and analytics."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID

from domain.document_ports import DocumentFilter
from domain.documents import Document
from domain.pagination import Page, PageRequest, SortKey
from domain.search import (
    CANDIDATE_CAP,
    PHRASE_POOL_CAP,
    WORD,
    Feedback,
    HistoryEntry,
    ParsedQuery,
    SearchAnalytics,
    SearchHit,
    SearchQueryLog,
    SearchResponseLog,
    matches,
    score,
)
from domain.users import User
from infrastructure.memory.document_repositories import InMemoryDocumentRepository
from infrastructure.memory.table import StagedTable
from infrastructure.search_text import START, STOP, to_html

SNIPPET_WORDS = 35


def _percentile(values: list[int], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont: linear interpolation between the nearest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _snippet(query: ParsedQuery, content: str) -> str:
    text = content[:50_000]
    spans = [(m.start(), m.end(), m.group().lower()) for m in WORD.finditer(text)]
    wanted = [t for g in query.groups for t in g if not t.negated]

    def hit(token: str) -> bool:
        return any(
            (token.startswith(t.words[-1]) if t.prefix else token in t.words) for t in wanted
        )

    if not spans:
        return ""
    first = next((i for i, s in enumerate(spans) if hit(s[2])), 0)
    start = max(0, first - SNIPPET_WORDS // 3)
    window = spans[start : start + SNIPPET_WORDS]
    out, cursor = [], window[0][0]
    for begin, end, token in window:
        out.append(text[cursor:begin])
        out.append(f"{START}{text[begin:end]}{STOP}" if hit(token) else text[begin:end])
        cursor = end
    return to_html("".join(out))


class InMemorySearchRepository:
    def __init__(
        self,
        documents: InMemoryDocumentRepository,
        doc_table: StagedTable[UUID, Document],
        queries: StagedTable[UUID, SearchQueryLog],
        responses: StagedTable[UUID, SearchResponseLog],
        feedback: StagedTable[tuple[UUID, UUID], Feedback],
    ) -> None:
        self._documents = documents
        self._docs = doc_table
        self._queries = queries
        self._responses = responses
        self._feedback = feedback

    async def search(
        self, reader: User, query: ParsedQuery, filters: DocumentFilter, limit: int
    ) -> Sequence[SearchHit]:
        if query.is_empty:
            return []
        # The same bounds as PostgreSQL's (which subset a capped search ranks is arbitrary on
        # both, so only searches under the caps are comparable between the two).
        filters = self._documents.resolve(filters)
        pool_cap = PHRASE_POOL_CAP if query.has_phrase else None
        found: list[Document] = []
        pooled = 0
        for doc in self._docs.values():
            if not self._documents.visible(reader, doc) or not self._documents.matches(
                doc, filters
            ):
                continue
            if pool_cap is not None:
                if pooled >= pool_cap:
                    break
                if not matches(query, doc.title, doc.content or "", in_order=False):
                    continue
                pooled += 1
            if matches(query, doc.title, doc.content or ""):
                found.append(doc)
                if len(found) >= CANDIDATE_CAP:
                    break
        ranked = sorted(
            ((score(query, d.title, d.content or ""), d) for d in found),
            key=lambda pair: (-pair[0], pair[1].id),
        )[:limit]
        return [
            SearchHit(d.id, d.title, d.document_type.value, s, _snippet(query, d.content or ""))
            for s, d in ranked
        ]

    async def log(self, query: SearchQueryLog, response: SearchResponseLog) -> None:
        self._queries.put(query.id, query)
        self._responses.put(response.query_id, response)

    async def get_query(self, query_id: UUID) -> SearchQueryLog | None:
        return self._queries.get(query_id)

    async def history(
        self, user_id: UUID | None, page: PageRequest, reader: User
    ) -> Page[HistoryEntry]:
        rows = [q for q in self._queries.values() if user_id is None or q.user_id == user_id]
        rows.sort(key=lambda q: (q.timestamp, q.id), reverse=True)
        if page.cursor is not None:
            key = SortKey.decode(page.cursor, "-timestamp")
            rows = [q for q in rows if (q.timestamp, q.id) < (key.value, key.id)]
        items = [
            HistoryEntry(
                q,
                self._readable_response(self._responses.get(q.id), reader),
                self._feedback.get((q.id, q.user_id)),
            )
            for q in rows[: page.limit]
        ]
        cursor = None
        if len(rows) > page.limit:
            last = items[-1].query
            cursor = SortKey("-timestamp", last.timestamp, last.id).encode()
        return Page(items, cursor)

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
