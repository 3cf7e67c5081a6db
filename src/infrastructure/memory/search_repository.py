"""In-memory search: the same index model as PostgreSQL's (`infrastructure.search_index`: the
same lexemes, counts, candidates and scores), the same access and filters as the document
listing, the same logs and analytics."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from uuid import UUID

from domain.document_ports import DocumentFilter
from domain.documents import Document
from domain.errors import NotFound
from domain.pagination import SEARCH_HISTORY, Page, PageRequest
from domain.search import (
    Feedback,
    HistoryEntry,
    ParsedQuery,
    SearchAnalytics,
    SearchHit,
    SearchPage,
    SearchQueryLog,
    SearchResponseLog,
)
from domain.users import User
from infrastructure.memory.documents import InMemoryDocumentRepository
from infrastructure.memory.table import StagedTable
from infrastructure.search_index import paging, scoring, snippets
from infrastructure.search_index.analysis import IndexedText, analyze
from infrastructure.search_index.plan import SearchPlan, term_matches
from infrastructure.search_index.plan import plan as plan_query
from infrastructure.tuning import Tuning


def _percentile(values: list[int], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont: linear interpolation between the nearest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _statistics(
    plan: SearchPlan, population: list[tuple[Document, IndexedText]]
) -> scoring.Statistics:
    """N and each term's df over `population`, each bounded as in SQL."""
    return scoring.Statistics(
        min(len(population), scoring.N_CAP),
        tuple(
            min(sum(1 for _, ix in population if term_matches(term, ix)), scoring.DF_CAP)
            for term in plan.terms
        ),
    )


@lru_cache(maxsize=4096)
def _indexed(title: str, content: str) -> IndexedText:
    """What PostgreSQL's `search_vector` holds for the document (analysed once per text)."""
    return analyze(title, content)


class InMemorySearchRepository:
    def __init__(
        self,
        documents: InMemoryDocumentRepository,
        doc_table: StagedTable[UUID, Document],
        queries: StagedTable[UUID, SearchQueryLog],
        responses: StagedTable[UUID, SearchResponseLog],
        feedback: StagedTable[tuple[UUID, UUID], Feedback],
        tuning: Tuning,
    ) -> None:
        self._tuning = tuning
        self._documents = documents
        self._docs = doc_table
        self._queries = queries
        self._responses = responses
        self._feedback = feedback

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
        plan = plan_query(query)
        if plan.is_empty or not reader.is_active:
            return SearchPage([], 0)
        key = paging.search_key(plan, filters)
        resume = None if cursor is None else paging.decode_cursor(cursor, key, len(plan.terms))
        # The same counts, candidates and bounds as PostgreSQL's (which documents fill a
        # bound is arbitrary on both, so only searches under the bounds are comparable).
        filters = self._documents.resolve(filters)
        population = [
            (doc, _indexed(doc.title, doc.content or ""))
            for doc in self._docs.values()
            if self._documents.visible(reader, doc) and self._documents.matches(doc, filters)
        ]
        stats = resume.stats if resume else _statistics(plan, population)
        return self._ranked(plan, stats, population, limit, key, resume, facets)

    async def similar(self, reader: User, document_id: UUID, limit: int) -> SearchPage:
        source = self._docs.get(document_id)
        if source is None or not self._documents.visible(reader, source):
            raise NotFound("document", document_id)
        indexed = _indexed(source.title, source.content or "")
        readable = [
            (doc, _indexed(doc.title, doc.content or ""))
            for doc in self._docs.values()
            if self._documents.visible(reader, doc)
        ]
        lexemes = paging.similar_candidates(indexed)
        counted = _statistics(paging.lexeme_plan(lexemes), readable)
        plan = paging.similar_plan(lexemes, counted, indexed)
        if plan.is_empty:
            return SearchPage([], 0)
        by_lexeme = dict(zip(lexemes, counted.frequencies, strict=True))
        stats = scoring.Statistics(
            counted.documents, tuple(by_lexeme[t.lexemes[0]] for t in plan.terms)
        )
        population = [(doc, ix) for doc, ix in readable if doc.id != document_id]
        return self._ranked(plan, stats, population, limit, "", None, False)

    def _ranked(
        self,
        plan: SearchPlan,
        stats: scoring.Statistics,
        population: list[tuple[Document, IndexedText]],
        limit: int,
        key: str,
        resume: paging.Resume | None,
        facets: bool,
    ) -> SearchPage:
        if plan.natural:
            cap = self._tuning.candidate_cap
            core, fill = scoring.retrieval_split(plan, stats, cap)
            if not core:
                return SearchPage([], 0)
            room = scoring.fill_room(stats, core, cap, self._tuning.fill_cap)

            def holds(ix: IndexedText, terms: list[int]) -> bool:
                return any(term_matches(plan.terms[i], ix) for i in terms)

            found = [p for p in population if holds(p[1], core)][:cap]
            found += [p for p in population if holds(p[1], fill) and not holds(p[1], core)][:room]
        else:
            assert plan.match is not None
            pool = population
            if plan.loose is not None:
                pool = [p for p in population if plan.loose.matches(p[1])]
                pool = pool[: self._tuning.phrase_pool_cap]
            found = [p for p in pool if plan.match.matches(p[1])][: self._tuning.candidate_cap]
        docs = {doc.id: doc for doc, _ in found}
        candidates = {doc.id: scoring.restrict(ix, plan) for doc, ix in found}
        ranked = paging.rank_page(plan, stats, candidates, limit, key, resume)
        scores, top = ranked.scores, ranked.page
        counted = (
            paging.facets(self._documents.facet_row(docs[k]) for k in scores) if facets else None
        )
        hits = [
            SearchHit(
                k,
                docs[k].title,
                docs[k].document_type.value,
                scores[k],
                snippets.snippet(plan, docs[k].content or ""),
            )
            for k in top
        ]
        return SearchPage(hits, len(scores), ranked.next_cursor, counted)

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
