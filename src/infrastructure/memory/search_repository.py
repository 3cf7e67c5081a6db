"""In-memory search: the same index model as PostgreSQL's (`infrastructure.search_index`: the
same lexemes, counts, candidates and scores), the same access and filters as the document
listing. The logs kept of each search are `search_logs`."""

from __future__ import annotations

from functools import lru_cache
from uuid import UUID

from domain.document_ports import DocumentFilter
from domain.documents import Document
from domain.errors import NotFound
from domain.search import ParsedQuery, SearchHit, SearchPage
from domain.users import User
from infrastructure.memory.documents import InMemoryDocumentRepository
from infrastructure.memory.table import StagedTable
from infrastructure.search_index import paging, scoring, snippets
from infrastructure.search_index.analysis import IndexedText, analyze
from infrastructure.search_index.plan import SearchPlan, term_matches
from infrastructure.search_index.plan import plan as plan_query
from infrastructure.tuning import Tuning


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
        tuning: Tuning,
    ) -> None:
        self._tuning = tuning
        self._documents = documents
        self._docs = doc_table

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
            asked = scoring.question_queries(plan, stats, cap, self._tuning.fill_cap)
            if asked is None:
                return SearchPage([], 0)
            core, fill = scoring.retrieval_split(plan, stats, cap)
            every = range(len(plan.terms)) if asked.every is not None else ()

            def holds(ix: IndexedText, terms: list[int]) -> bool:
                return any(term_matches(plan.terms[i], ix) for i in terms)

            def holds_every(ix: IndexedText) -> bool:
                return bool(every) and all(term_matches(plan.terms[i], ix) for i in every)

            found = [p for p in population if holds_every(p[1])][:cap]
            core_limit, fill_limit = scoring.partial_limits(
                len(found), cap, asked.fill_limit, self._tuning.partial_cap
            )
            found += [p for p in population if holds(p[1], core) and not holds_every(p[1])][
                :core_limit
            ]
            if asked.fill is not None:
                found += [p for p in population if holds(p[1], fill) and not holds(p[1], core)][
                    :fill_limit
                ]
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
                snippets.snippet(plan, docs[k].content or "", candidates[k].hits),
            )
            for k in top
        ]
        return SearchPage(hits, len(scores), ranked.next_cursor, counted)
