"""Full-text search in PostgreSQL (the logs kept of each search are `search_logs`).

A search is three statements (`infrastructure.search_index` decides what they ask): the
counts the scores need over the documents the reader may search (N and each term's document
frequency, every count bounded; an English function word's first counted in the table's first
rows, `search_statistics`); at most CANDIDATE_CAP candidates with where the query's
lexemes stand in each (`ts_filter(setweight(…))`: the vector cut down to them) — for a
question, found by its rarest terms first; for operators, the documents matching the tsquery
(a phrase first narrowed to PHRASE_POOL_CAP documents holding its words in any order); then
the returned page's titles, types and texts, for the snippets. A question of one term needs
no statistics statement: its candidates are the documents its df counts, and carry N
(`one_term_candidates`). Scores are computed in Python by the same function the in-memory
adapter uses. docs/decisions.md, "Search", has the reasons and the measurements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Text,
    bindparam,
    case,
    cast,
    false,
    func,
    literal_column,
    not_,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
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
from infrastructure.sqlalchemy.access import clearance_parts, readable_by, terms_of
from infrastructure.sqlalchemy.document_filters import filter_conditions
from infrastructure.sqlalchemy.search_statistics import (
    matches,
    searched_count,
    statistics_statement,
    tsquery_param,
)
from infrastructure.tuning import Tuning

d = t.documents.c
_MARK: Final[ColumnElement[Any]] = literal_column("'A'")
_MARKED: Final[ColumnElement[Any]] = literal_column("'{a}'")


def _candidate_columns(plan: SearchPlan, source: Any = t.documents) -> list[ColumnElement[Any]]:
    """Per candidate: id, length, where the query's lexemes stand (the vector cut down to
    them) and whether it holds the prefix; of `documents` or of a subquery of its columns.
    (A hit's title and type are read with its text, for the page only.)"""
    vector = source.c.search_vector
    lexemes = bindparam("lexemes", plan.lexemes, type_=ARRAY(Text))
    restricted = func.ts_filter(func.setweight(vector, _MARK, lexemes), _MARKED)
    return [
        source.c.id,
        func.length(vector).label("length"),
        cast(restricted, Text).label("hits"),
        func.coalesce(
            vector.op("@@", is_comparison=True)(tsquery_param("prefix_query", plan.prefix_query)),
            false(),
        ).label("prefix_hit"),
    ]


def one_term_candidates(
    plan: SearchPlan,
    population: Sequence[ColumnElement[bool]],
    parts: Sequence[ColumnElement[bool]],
    tuning: Tuning,
) -> Select[Any]:
    """A question of one term (a single word, its last letters a prefix being typed): the
    documents holding it, at most CANDIDATE_CAP, each row also carrying N. These are the
    documents the term's df counts, so the df is their number (CANDIDATE_CAP >= DF_CAP) and
    the search needs no statistics statement: one scan of the term's documents, not two."""
    (term,) = plan.terms
    cap = bindparam("candidate_cap", tuning.candidate_cap, type_=Integer)
    return (
        select(*_candidate_columns(plan), searched_count(population, parts).label("documents"))
        .where(matches(tsquery_param("term_query", term.tsquery)), *population)
        .limit(cap)
    )


def question_candidates(
    plan: SearchPlan,
    population: Sequence[ColumnElement[bool]],
    asked: scoring.QuestionQueries,
    tuning: Tuning,
) -> Select[Any]:
    """The documents holding every term, at most CANDIDATE_CAP; then those holding the core
    (rarest) terms but not every one, and those holding only the common ones, as many as
    `scoring.partial_limits` says for the first part's count (without any document holding
    every term: CANDIDATE_CAP and the fill's room)."""
    cap = bindparam("candidate_cap", tuning.candidate_cap, type_=Integer)
    partial = bindparam("partial_cap", tuning.partial_cap, type_=Integer)
    fill_room = bindparam("fill_limit", asked.fill_limit, type_=Integer)
    every_q = tsquery_param("every_query", asked.every)
    core_q = tsquery_param("core_query", asked.core)
    every = (select(*_candidate_columns(plan)).where(matches(every_q), *population).limit(cap)).cte(
        "every"
    )
    holding_every = select(func.count()).select_from(every).scalar_subquery()
    core_limit = case(
        (holding_every == 0, cap),
        else_=func.greatest(0, func.least(cap, partial) - holding_every),
    )
    fill_limit = case((holding_every == 0, fill_room), else_=func.least(fill_room, core_limit))
    core = (
        select(*_candidate_columns(plan))
        .where(matches(core_q), not_(func.coalesce(matches(every_q), false())), *population)
        .limit(core_limit)
    )
    rest = (
        select(*_candidate_columns(plan))
        .where(matches(tsquery_param("fill_query", asked.fill)), not_(matches(core_q)), *population)
        .limit(fill_limit)
    )
    return union_all(select(*every.c), core, rest)  # type: ignore[return-value]


def operator_candidates(
    plan: SearchPlan, population: Sequence[ColumnElement[bool]], tuning: Tuning
) -> Select[Any]:
    """Documents matching the tsquery, at most CANDIDATE_CAP; a phrase is checked among at
    most PHRASE_POOL_CAP documents holding its words in any order (a phrase of common words
    otherwise rechecks positions in most of the corpus before the cap applies), in the same
    scan (the pool's rows carry their vectors: no second visit of each by its id)."""
    assert plan.match is not None
    match = tsquery_param("match_query", plan.match.text())
    cap = bindparam("candidate_cap", tuning.candidate_cap, type_=Integer)
    if plan.loose is None:
        return select(*_candidate_columns(plan)).where(matches(match), *population).limit(cap)
    pool = (
        select(d.id, d.search_vector)
        .where(matches(tsquery_param("loose_query", plan.loose.text())), *population)
        .limit(bindparam("pool_cap", tuning.phrase_pool_cap, type_=Integer))
        .subquery("pool")
    )
    return (
        select(*_candidate_columns(plan, pool))
        .where(matches(match, pool.c.search_vector))
        .limit(cap)
    )


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
        terms = terms_of(reader)
        population = (readable_by(terms, include_trash=False), *conditions)
        # N without filters: the reader's clearance alone usually holds N_CAP documents.
        parts = () if conditions else clearance_parts(terms)
        if resume is None and self._counted_by_candidates(plan):
            return await self._one_term(plan, population, parts, limit, key, facets)
        stats = resume.stats if resume else await self._statistics(plan, population, parts)
        return await self._ranked(plan, stats, population, limit, key, resume, facets)

    async def similar(self, reader: User, document_id: UUID, limit: int) -> SearchPage:
        terms = terms_of(reader)
        readable = readable_by(terms, include_trash=False)
        row = (
            await self._conn.execute(
                select(cast(d.search_vector, Text).label("vector")).where(
                    d.id == document_id, readable
                )
            )
        ).first()
        if row is None:
            raise NotFound("document", document_id)
        # The stored vector is what `analyze` made of the document (its text form parsed back).
        indexed = IndexedText(scoring.parse_hits(row.vector or ""))
        lexemes = paging.similar_candidates(indexed)
        counted = await self._statistics(
            paging.lexeme_plan(lexemes), (readable,), clearance_parts(terms)
        )
        plan = paging.similar_plan(lexemes, counted, indexed)
        if plan.is_empty:
            return SearchPage([], 0)
        by_lexeme = dict(zip(lexemes, counted.frequencies, strict=True))
        stats = scoring.Statistics(
            counted.documents, tuple(by_lexeme[t.lexemes[0]] for t in plan.terms)
        )
        population = (readable, d.id != document_id)
        return await self._ranked(plan, stats, population, limit, "", None, False)

    def _counted_by_candidates(self, plan: SearchPlan) -> bool:
        """Whether a first page's statistics come with its candidates (`one_term_candidates`):
        a question of one term, when the candidates reach every document its df counts."""
        return plan.natural and len(plan.terms) == 1 and self._tuning.candidate_cap >= DF_CAP

    async def _one_term(
        self,
        plan: SearchPlan,
        population: Sequence[ColumnElement[bool]],
        parts: Sequence[ColumnElement[bool]],
        limit: int,
        key: str,
        facets: bool,
    ) -> SearchPage:
        statement = one_term_candidates(plan, population, parts, self._tuning)
        rows = (await self._conn.execute(statement)).all()
        if not rows:
            return SearchPage([], 0)  # as when the statistics find the term nowhere
        stats = scoring.Statistics(rows[0].documents, (min(len(rows), DF_CAP),))
        return await self._page(plan, stats, rows, limit, key, None, facets)

    async def _statistics(
        self,
        plan: SearchPlan,
        population: Sequence[ColumnElement[bool]],
        parts: Sequence[ColumnElement[bool]],
    ) -> scoring.Statistics:
        statement = statistics_statement(plan, population, parts, self._tuning)
        counted = dict((await self._conn.execute(statement)).all())
        return scoring.Statistics(
            int(counted.get(0, 0)),
            tuple(int(counted.get(i + 1, 0)) for i in range(len(plan.terms))),
        )

    async def _ranked(
        self,
        plan: SearchPlan,
        stats: scoring.Statistics,
        population: Sequence[ColumnElement[bool]],
        limit: int,
        key: str,
        resume: paging.Resume | None,
        facets: bool,
    ) -> SearchPage:
        if plan.natural:
            asked = scoring.question_queries(
                plan, stats, self._tuning.candidate_cap, self._tuning.fill_cap
            )
            if asked is None:
                return SearchPage([], 0)
            statement = question_candidates(plan, population, asked, self._tuning)
        else:
            statement = operator_candidates(plan, population, self._tuning)
        rows = (await self._conn.execute(statement)).all()
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
        # Up to CANDIDATE_CAP rows: read by index, the cheapest way through a Row.
        candidate, parse = scoring.Candidate, scoring.parse_hits
        candidates = {r[0]: candidate(parse(r[2] or ""), bool(r[3]), r[1]) for r in rows}
        ranked = paging.rank_page(plan, stats, candidates, limit, key, resume)
        scores, top = ranked.scores, ranked.page
        found = await self._facets(list(scores)) if facets else None
        if not top:
            return SearchPage([], len(scores), None, found)
        page = select(
            d.id, d.title, d.document_type, func.left(d.content, snippets.SNIPPET_CHARS)
        ).where(d.id.in_(top))
        described = {r[0]: r for r in (await self._conn.execute(page)).all()}
        # A hit deleted since its candidates were read (another transaction) is left out.
        hits = [
            SearchHit(
                key_,
                row[1],
                row[2],
                scores[key_],
                snippets.snippet(plan, row[3] or ""),
            )
            for key_ in top
            if (row := described.get(key_)) is not None
        ]
        return SearchPage(hits, len(scores), ranked.next_cursor, found)

    async def _facets(self, ids: list[UUID]) -> SearchFacets:
        """(type, category, department, tags) of every hit, in one statement."""
        if not ids:
            return paging.facets([])
        tag_names = (
            select(func.array_agg(t.tags.c.name))
            .select_from(t.document_tags.join(t.tags, t.tags.c.id == t.document_tags.c.tag_id))
            .where(t.document_tags.c.document_id == d.id)
            .scalar_subquery()
        )
        statement = (
            select(d.document_type, t.categories.c.name, d.department, tag_names)
            .select_from(t.documents.outerjoin(t.categories, t.categories.c.id == d.category_id))
            .where(d.id == func.any(bindparam("facet_ids", ids, type_=ARRAY(PG_UUID))))
        )
        rows = (await self._conn.execute(statement)).all()
        return paging.facets((r[0], r[1], r[2], r[3] or []) for r in rows)
