"""Full-text search in PostgreSQL (the logs kept of each search are `search_logs`).

A search is three statements at most (`infrastructure.search_index` decides what they ask):
the counts the scores need over the documents the reader may search (N and each term's
document frequency, every count bounded; an English function word's first counted in the
table's first rows, `search_statistics`); at most CANDIDATE_CAP candidates with where the
query's lexemes stand in each (`ts_filter(setweight(…))`: the vector cut down to them); then
the returned page's titles, types and texts, for the snippets. How the first two are cut:
- a question of one term: its candidates are the documents its df counts, and carry N
  (`one_term_candidates`): no statistics statement;
- a question of several terms: the documents holding every term come with the statistics
  (`counted_every_candidates`), and settle every df when DF_CAP of them are found; those
  holding only some terms (the rarest first) follow in a statement of their own only while
  the former are fewer than PARTIAL_CAP (`partial_candidates`);
- operators: the statistics, then the documents matching the tsquery (a phrase first
  narrowed to PHRASE_POOL_CAP documents holding its words in any order).
Scores are computed in Python by the same function the in-memory adapter uses. Each statement
is compiled once per reader shape and run on the driver with the search's values
(`search_candidates.prepared`); a filtered search adds the filters' conditions and runs
through SQLAlchemy (`_Statements`). docs/decisions.md, "Search", has the reasons and the
measurements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.document_ports import DocumentFilter
from domain.errors import NotFound
from domain.search import ParsedQuery, SearchFacets, SearchHit, SearchPage
from domain.users import User
from infrastructure.search_index import paging, scoring, snippets
from infrastructure.search_index.analysis import IndexedText
from infrastructure.search_index.plan import SearchPlan
from infrastructure.search_index.plan import plan as plan_query
from infrastructure.search_index.scoring import DF_CAP
from infrastructure.sqlalchemy import tables as t
from infrastructure.sqlalchemy.access import (
    ReaderShape,
    parameters_of,
    reader_shape,
    reader_values,
    searchable_by,
)
from infrastructure.sqlalchemy.document_filters import filter_conditions
from infrastructure.sqlalchemy.search_candidates import (
    FACETS,
    PAGE,
    Build,
    counted_every_candidates,
    matching_candidates,
    one_term_candidates,
    partial_candidates,
    partial_values,
    phrase_candidates,
    prepared,
    search_values,
    vector_statement,
)
from infrastructure.sqlalchemy.search_statistics import statistics_statement
from infrastructure.tuning import Tuning


@dataclass(frozen=True, slots=True)
class _Statements:
    """How one search runs its statements: compiled once for the reader's shape and run on
    the driver (`search_candidates.prepared`); with filters, through SQLAlchemy with the
    filters' conditions added. Either way with the search's values."""

    conn: AsyncConnection
    shape: ReaderShape
    conditions: tuple[ColumnElement[bool], ...]
    values: dict[str, Any]

    async def rows(self, build: Build, **more: Any) -> Sequence[Any]:
        values = {**self.values, **more} if more else self.values
        if not self.conditions:
            return await prepared(build, self.shape).fetch(self.conn, values)
        # With filters, N is counted over the filtered documents (no clearance parts).
        population = (searchable_by(parameters_of(self.shape)), *self.conditions)
        return (await self.conn.execute(build(population, ()), values)).all()


class SqlAlchemySearchRepository:
    def __init__(self, conn: AsyncConnection, tuning: Tuning) -> None:
        self._conn = conn
        self._tuning = tuning

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
        conditions = await filter_conditions(self._conn, filters, self._tuning)
        if conditions is None:
            return SearchPage([], 0)
        run = self._statements(reader, plan, tuple(conditions))
        if resume is None and self._counted_by_candidates(plan):
            return await self._one_term(run, plan, limit, key, facets)
        if resume is None and plan.natural and len(plan.terms) > 1:
            return await self._counted_question(run, plan, limit, key, facets)
        stats = resume.stats if resume else await self._statistics(run, plan)
        return await self._ranked(run, plan, stats, limit, key, resume, facets)

    async def similar(self, reader: User, document_id: UUID, limit: int) -> SearchPage:
        if not reader.is_active:
            raise NotFound("document", document_id)
        found = await self._statements(reader, None, ()).rows(
            vector_statement, document_id=document_id
        )
        if not found:
            raise NotFound("document", document_id)
        # The stored vector is what `analyze` made of the document (its text form parsed back).
        indexed = IndexedText(scoring.parse_hits(found[0][0] or ""))
        lexemes = paging.similar_candidates(indexed)
        counting = paging.lexeme_plan(lexemes)
        counted = await self._statistics(self._statements(reader, counting, ()), counting)
        plan = paging.similar_plan(lexemes, counted, indexed)
        if plan.is_empty:
            return SearchPage([], 0)
        by_lexeme = dict(zip(lexemes, counted.frequencies, strict=True))
        stats = scoring.Statistics(
            counted.documents, tuple(by_lexeme[t.lexemes[0]] for t in plan.terms)
        )
        run = self._statements(reader, plan, (t.documents.c.id != document_id,))
        return await self._ranked(run, plan, stats, limit, "", None, False)

    def _statements(
        self, reader: User, plan: SearchPlan | None, conditions: tuple[ColumnElement[bool], ...]
    ) -> _Statements:
        values = reader_values(reader)
        if plan is not None:
            values.update(search_values(plan, self._tuning))
        return _Statements(self._conn, reader_shape(reader), conditions, values)

    def _counted_by_candidates(self, plan: SearchPlan) -> bool:
        """Whether a first page's statistics come with its candidates (`one_term_candidates`):
        a question of one term, when the candidates reach every document its df counts."""
        return plan.natural and len(plan.terms) == 1 and self._tuning.candidate_cap >= DF_CAP

    async def _one_term(
        self, run: _Statements, plan: SearchPlan, limit: int, key: str, facets: bool
    ) -> SearchPage:
        rows = await run.rows(one_term_candidates)
        if not rows:
            return SearchPage([], 0)  # as when the statistics find the term nowhere
        stats = scoring.Statistics(rows[0][4], (min(len(rows), DF_CAP),))
        return await self._page(plan, stats, rows, limit, key, None, facets)

    async def _counted_question(
        self, run: _Statements, plan: SearchPlan, limit: int, key: str, facets: bool
    ) -> SearchPage:
        """A first page of a question of several terms: its statistics come with the
        documents holding every term (`counted_every_candidates`)."""
        rows = await run.rows(counted_every_candidates)
        stats = self._counted(plan, {r[0]: r[1] for r in rows if r[0] is not None})
        every = [tuple(r)[2:] for r in rows if r[0] is None]
        return await self._question(run, plan, stats, every, limit, key, None, facets)

    async def _statistics(self, run: _Statements, plan: SearchPlan) -> scoring.Statistics:
        return self._counted(plan, {r[0]: r[1] for r in await run.rows(statistics_statement)})

    @staticmethod
    def _counted(plan: SearchPlan, counted: dict[int, int]) -> scoring.Statistics:
        """The statistics from the rows (0, N) and (i, df of term i) of `statistics_statement`."""
        return scoring.Statistics(
            int(counted.get(0, 0)),
            tuple(int(counted.get(i + 1, 0)) for i in range(len(plan.terms))),
        )

    async def _ranked(
        self,
        run: _Statements,
        plan: SearchPlan,
        stats: scoring.Statistics,
        limit: int,
        key: str,
        resume: paging.Resume | None,
        facets: bool,
    ) -> SearchPage:
        if plan.natural:
            every: Sequence[Any] = []
            # As `question_queries` asks: with a term in no document (by these statistics, a
            # cursor's perhaps), none hold every term, even if one has come since.
            if len(plan.terms) > 1 and all(stats.frequencies):
                every = await run.rows(matching_candidates)  # `match_query`: every term
            return await self._question(run, plan, stats, every, limit, key, resume, facets)
        build = matching_candidates if plan.loose is None else phrase_candidates
        rows = await run.rows(build)
        return await self._page(plan, stats, rows, limit, key, resume, facets)

    async def _question(
        self,
        run: _Statements,
        plan: SearchPlan,
        stats: scoring.Statistics,
        every: Sequence[Any],
        limit: int,
        key: str,
        resume: paging.Resume | None,
        facets: bool,
    ) -> SearchPage:
        """A question's page: `every` (the candidates holding every term)
        and, while they are fewer than `scoring.partial_limits` wants, those holding only some
        of its terms (`partial_candidates`)."""
        tuning = self._tuning
        asked = scoring.question_queries(plan, stats, tuning.candidate_cap, tuning.fill_cap)
        if asked is None:
            return SearchPage([], 0)
        limits = scoring.partial_limits(
            len(every), tuning.candidate_cap, asked.fill_limit, tuning.partial_cap
        )
        rows = every
        if any(limits):
            partial = await run.rows(partial_candidates, **partial_values(asked, limits))
            rows = [*every, *partial]
        return await self._page(plan, stats, rows, limit, key, resume, facets)

    async def _page(
        self,
        plan: SearchPlan,
        stats: scoring.Statistics,
        rows: Sequence[Any],
        limit: int,
        key: str,
        resume: paging.Resume | None,
        facets: bool,
    ) -> SearchPage:
        """The page of `rows` (candidates: `_candidate_columns`) ranked with `stats`, its
        snippets and, if asked, the facets of every candidate."""
        # Up to CANDIDATE_CAP rows, read by index (the cheapest way through a row) and
        # scored from the text of their hits (`scoring.Scorer.text`).
        candidates = {r[0]: (r[2], r[3], r[1]) for r in rows}
        ranked = paging.rank_rows_page(plan, stats, candidates, limit, key, resume)
        scores, top = ranked.scores, ranked.page
        found = await self._facets(list(scores)) if facets else None
        if not top:
            return SearchPage([], len(scores), None, found)
        described = {r[0]: r for r in await PAGE.fetch(self._conn, {"page_ids": top})}
        # A hit deleted since its candidates were read (another transaction) is left out.
        hits = [
            SearchHit(
                key_,
                row[1],
                row[2],
                scores[key_],
                snippets.snippet(plan, row[3] or "", scoring.parse_hits(candidates[key_][0] or "")),
            )
            for key_ in top
            if (row := described.get(key_)) is not None
        ]
        return SearchPage(hits, len(scores), ranked.next_cursor, found)

    async def _facets(self, ids: list[UUID]) -> SearchFacets:
        """(type, category, department, tags) of every hit, in one statement."""
        if not ids:
            return paging.facets([])
        rows = await FACETS.fetch(self._conn, {"facet_ids": ids})
        return paging.facets((r[0], r[1], r[2], r[3] or []) for r in rows)
