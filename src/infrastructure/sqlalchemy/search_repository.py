"""Full-text search in PostgreSQL, and the search logs.

A search is three statements, whatever the query (`infrastructure.search_index` decides what
they ask): the counts the scores need over the documents the reader may search (N and each
term's document frequency, every count bounded); at most CANDIDATE_CAP candidates with where
the query's lexemes stand in each (`ts_filter(setweight(…))`: the vector cut down to them) —
for a question, found by its rarest terms first; for operators, the documents matching the
tsquery (a phrase first narrowed to PHRASE_POOL_CAP documents holding its words); then the
content of the returned page, for the snippets. Scores are computed in Python by the same
function the in-memory adapter uses."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Text,
    and_,
    bindparam,
    case,
    cast,
    column,
    delete,
    false,
    func,
    insert,
    literal,
    literal_column,
    not_,
    null,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSQUERY, aggregate_order_by
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.document_ports import DocumentFilter
from domain.errors import NotFound
from domain.pagination import SEARCH_HISTORY, Page, PageRequest
from domain.search import (
    Feedback,
    HistoryEntry,
    ParsedQuery,
    SearchAnalytics,
    SearchFacets,
    SearchHit,
    SearchPage,
    SearchQueryLog,
    SearchResponseLog,
)
from domain.users import User
from infrastructure.search_index import paging, scoring, snippets
from infrastructure.search_index.analysis import IndexedText
from infrastructure.search_index.plan import SearchPlan
from infrastructure.search_index.plan import plan as plan_query
from infrastructure.sqlalchemy import tables as t
from infrastructure.sqlalchemy.access import readable_by
from infrastructure.sqlalchemy.document_filters import filter_conditions
from infrastructure.sqlalchemy.paging import one_page
from infrastructure.tuning import Tuning

d = t.documents.c
q_ = t.search_queries.c
r_ = t.search_responses.c
f_ = t.user_feedback.c
_MARK: Final[ColumnElement[Any]] = literal_column("'A'")
_MARKED: Final[ColumnElement[Any]] = literal_column("'{a}'")


def _tsquery(name: str, text: str | None) -> ColumnElement[Any]:
    return cast(bindparam(name, text, type_=Text), TSQUERY)


def statistics_statement(
    plan: SearchPlan, population: Sequence[ColumnElement[bool]]
) -> Select[Any]:
    """(0, N) and (i, df of term i) for i = 1..terms, each count stopping at its cap."""
    queries = [term.tsquery for term in plan.terms]
    x = (
        func.unnest(cast(bindparam("term_queries", queries, type_=ARRAY(Text)), ARRAY(TSQUERY)))
        .table_valued("q", with_ordinality="i")
        .render_derived(name="x", with_types=False)
    )
    holding = (
        select(literal(1).label("one"))
        .where(d.search_vector.op("@@", is_comparison=True)(x.c.q), *population)
        .limit(bindparam("df_cap", scoring.DF_CAP, type_=Integer))
        .lateral("holding")
    )
    frequencies = (
        select(x.c.i.label("i"), func.count(holding.c.one).label("n"))
        .select_from(x.outerjoin(holding, true()))
        .group_by(x.c.i)
    )
    searched = (
        select(literal(1).label("one"))
        .where(*population)
        .limit(bindparam("n_cap", scoring.N_CAP, type_=Integer))
        .subquery("searched")
    )
    documents = select(literal(0, Integer).label("i"), func.count().label("n")).select_from(
        searched
    )
    return union_all(documents, frequencies)  # type: ignore[return-value]


def _candidate_columns(plan: SearchPlan) -> list[ColumnElement[Any]]:
    lexemes = bindparam("lexemes", plan.lexemes, type_=ARRAY(Text))
    restricted = func.ts_filter(func.setweight(d.search_vector, _MARK, lexemes), _MARKED)
    return [
        d.id,
        d.title,
        d.document_type,
        func.length(d.search_vector).label("length"),
        cast(restricted, Text).label("hits"),
        func.coalesce(
            d.search_vector.op("@@", is_comparison=True)(
                _tsquery("prefix_query", plan.prefix_query)
            ),
            false(),
        ).label("prefix_hit"),
    ]


def question_candidates(
    plan: SearchPlan,
    population: Sequence[ColumnElement[bool]],
    core: str,
    fill: str | None,
    fill_limit: int,
    cap: int,
) -> Select[Any]:
    """Documents holding the core (rarest) terms, at most CANDIDATE_CAP, then up to
    `fill_limit` holding only the common ones."""
    vector = d.search_vector
    core_q = _tsquery("core_query", core)
    first = (
        select(*_candidate_columns(plan))
        .where(vector.op("@@", is_comparison=True)(core_q), *population)
        .limit(bindparam("candidate_cap", cap, type_=Integer))
    )
    rest = (
        select(*_candidate_columns(plan))
        .where(
            vector.op("@@", is_comparison=True)(_tsquery("fill_query", fill)),
            not_(vector.op("@@", is_comparison=True)(core_q)),
            *population,
        )
        .limit(bindparam("fill_limit", fill_limit, type_=Integer))
    )
    return union_all(first, rest)  # type: ignore[return-value]


def operator_candidates(
    plan: SearchPlan, population: Sequence[ColumnElement[bool]], tuning: Tuning
) -> Select[Any]:
    """Documents matching the tsquery, at most CANDIDATE_CAP; a phrase is checked among at
    most PHRASE_POOL_CAP documents holding its words in any order (a phrase of common words
    otherwise rechecks positions in most of the corpus before the cap applies)."""
    assert plan.match is not None
    match = d.search_vector.op("@@", is_comparison=True)(_tsquery("match_query", plan.match.text()))
    cap = bindparam("candidate_cap", tuning.candidate_cap, type_=Integer)
    if plan.loose is None:
        return select(*_candidate_columns(plan)).where(match, *population).limit(cap)
    pool = (
        select(d.id.label("pool_id"))
        .where(
            d.search_vector.op("@@", is_comparison=True)(
                _tsquery("loose_query", plan.loose.text())
            ),
            *population,
        )
        .limit(bindparam("pool_cap", tuning.phrase_pool_cap, type_=Integer))
        .cte("pool")
    )
    return (
        select(*_candidate_columns(plan))
        .select_from(t.documents.join(pool, pool.c.pool_id == d.id))
        .where(match)
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
        population = (readable_by(reader, include_trash=False), *conditions)
        stats = resume.stats if resume else await self._statistics(plan, population)
        return await self._ranked(plan, stats, population, limit, key, resume, facets)

    async def similar(self, reader: User, document_id: UUID, limit: int) -> SearchPage:
        readable = readable_by(reader, include_trash=False)
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
        counted = await self._statistics(paging.lexeme_plan(lexemes), (readable,))
        plan = paging.similar_plan(lexemes, counted, indexed)
        if plan.is_empty:
            return SearchPage([], 0)
        by_lexeme = dict(zip(lexemes, counted.frequencies, strict=True))
        stats = scoring.Statistics(
            counted.documents, tuple(by_lexeme[t.lexemes[0]] for t in plan.terms)
        )
        population = (readable, d.id != document_id)
        return await self._ranked(plan, stats, population, limit, "", None, False)

    async def _statistics(
        self, plan: SearchPlan, population: Sequence[ColumnElement[bool]]
    ) -> scoring.Statistics:
        counted = dict((await self._conn.execute(statistics_statement(plan, population))).all())
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
            cap = self._tuning.candidate_cap
            core, fill = scoring.retrieval_split(plan, stats, cap)
            core_query = scoring.or_query(plan, core)
            if core_query is None:
                return SearchPage([], 0)
            room = scoring.fill_room(stats, core, cap, self._tuning.fill_cap)
            fill_query = scoring.fill_query(plan, core, fill) if room else None
            statement = question_candidates(plan, population, core_query, fill_query, room, cap)
        else:
            statement = operator_candidates(plan, population, self._tuning)
        rows = (await self._conn.execute(statement)).all()
        candidates = {
            r.id: scoring.Candidate(scoring.parse_hits(r.hits or ""), bool(r.prefix_hit), r.length)
            for r in rows
        }
        ranked = paging.rank_page(plan, stats, candidates, limit, key, resume)
        scores, top = ranked.scores, ranked.page
        found = await self._facets(list(scores)) if facets else None
        if not top:
            return SearchPage([], len(scores), None, found)
        described = {r.id: r for r in rows}
        texts = dict(
            (
                await self._conn.execute(
                    select(d.id, func.left(d.content, snippets.SNIPPET_CHARS)).where(d.id.in_(top))
                )
            ).all()
        )
        hits = [
            SearchHit(
                key_,
                described[key_].title,
                described[key_].document_type,
                scores[key_],
                snippets.snippet(plan, texts.get(key_) or ""),
            )
            for key_ in top
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

    async def log(self, query: SearchQueryLog, response: SearchResponseLog) -> None:
        await self._conn.execute(
            insert(t.search_queries),
            {
                "id": query.id,
                "user_id": query.user_id,
                "query": query.query,
                "session_id": query.session_id,
                "filters": query.filters,
                "timestamp": query.timestamp,
            },
        )
        await self._conn.execute(
            insert(t.search_responses),
            {
                "id": response.id,
                "query_id": response.query_id,
                "answer": response.answer,
                "sources": response.sources,
                "result_count": response.result_count,
                "response_time_ms": response.response_time_ms,
                "timestamp": response.timestamp,
            },
        )

    async def get_query(self, query_id: UUID) -> SearchQueryLog | None:
        row = (await self._conn.execute(select(t.search_queries).where(q_.id == query_id))).first()
        return _query(row) if row is not None else None

    async def history(
        self, user_id: UUID | None, page: PageRequest, reader: User
    ) -> Page[HistoryEntry]:
        shown = _readable_sources(reader)
        answer = case((shown.c.top_readable, r_.answer), else_=literal(""))
        responses = (
            c.label("r_" + c.name) for c in t.search_responses.c if c.name not in _FILTERED
        )
        stmt = select(
            t.search_queries,
            *responses,
            func.coalesce(shown.c.sources, literal_column("'[]'::jsonb")).label("r_sources"),
            case((r_.id.is_(None), null()), else_=answer).label("r_answer"),
            *(c.label("f_" + c.name) for c in t.user_feedback.c),
        ).select_from(
            t.search_queries.outerjoin(t.search_responses, r_.query_id == q_.id)
            .outerjoin(shown, true())
            .outerjoin(t.user_feedback, and_(f_.query_id == q_.id, f_.user_id == q_.user_id))
        )
        if user_id is not None:
            stmt = stmt.where(q_.user_id == user_id)
        stmt = one_page(stmt, SEARCH_HISTORY, (q_.timestamp, q_.id), page)
        rows = (await self._conn.execute(stmt)).all()
        return SEARCH_HISTORY.page(
            [_history(r) for r in rows], page.limit, lambda e: (e.query.timestamp, e.query.id)
        )

    async def put_feedback(self, feedback: Feedback) -> Feedback:
        values = {
            "id": feedback.id,
            "query_id": feedback.query_id,
            "user_id": feedback.user_id,
            "rating": feedback.rating,
            "comment": feedback.comment,
            "timestamp": feedback.timestamp,
        }
        upsert = pg_insert(t.user_feedback).values(values)
        stmt = upsert.on_conflict_do_update(
            constraint="uq_user_feedback_query_id",
            set_={
                "rating": upsert.excluded.rating,
                "comment": upsert.excluded.comment,
                "timestamp": upsert.excluded.timestamp,
            },
        ).returning(t.user_feedback)
        row = (await self._conn.execute(stmt)).one()
        return _feedback(row, "")

    async def analytics(self, since: datetime, days: int, top: int) -> SearchAnalytics:
        window = q_.timestamp >= since
        day = func.to_char(func.timezone("UTC", q_.timestamp), "YYYY-MM-DD")
        day_rows = await self._conn.execute(select(day, func.count()).where(window).group_by(day))
        per_day: dict[str, int] = {str(k): int(v) for k, v in day_rows.all()}
        normalized = func.lower(func.btrim(q_.query))
        top_rows = (
            await self._conn.execute(
                select(normalized, func.count().label("n"))
                .where(window)
                .group_by(normalized)
                .order_by(literal_column("n").desc(), normalized.collate("C"))
                .limit(top)
            )
        ).all()
        zero_rows = (
            await self._conn.execute(
                select(normalized, func.count().label("n"))
                .select_from(t.search_queries.join(t.search_responses, r_.query_id == q_.id))
                .where(window, r_.result_count == 0)
                .group_by(normalized)
                .order_by(literal_column("n").desc(), normalized.collate("C"))
                .limit(top)
            )
        ).all()
        ratings = (
            await self._conn.execute(
                select(f_.rating, func.count())
                .select_from(t.user_feedback.join(t.search_queries, q_.id == f_.query_id))
                .where(window)
                .group_by(f_.rating)
            )
        ).all()
        timing = (
            await self._conn.execute(
                select(
                    func.percentile_cont(0.5).within_group(r_.response_time_ms),
                    func.percentile_cont(0.95).within_group(r_.response_time_ms),
                    func.count(),
                )
                .select_from(t.search_queries.join(t.search_responses, r_.query_id == q_.id))
                .where(window)
            )
        ).one()
        histogram = {int(rating): int(n) for rating, n in ratings}
        rated = sum(histogram.values())
        average = sum(k * v for k, v in histogram.items()) / rated if rated else None
        start = since.astimezone(UTC).date()
        calendar = [(start + timedelta(days=i)).isoformat() for i in range(days + 1)]
        return SearchAnalytics(
            days=days,
            queries_per_day=[(day_, int(per_day.get(day_, 0))) for day_ in calendar],
            top_queries=[(str(text_), int(n)) for text_, n in top_rows],
            zero_result_queries=[(str(text_), int(n)) for text_, n in zero_rows],
            average_rating=average,
            rating_histogram={k: histogram.get(k, 0) for k in range(1, 6)},
            p50_response_ms=float(timing[0]) if timing[0] is not None else None,
            p95_response_ms=float(timing[1]) if timing[1] is not None else None,
            total_queries=sum(per_day.values()),
        )

    async def purge_before(self, cutoff: datetime) -> int:
        result = await self._conn.execute(delete(t.search_queries).where(q_.timestamp < cutoff))
        return int(result.rowcount or 0)

    async def count_before(self, cutoff: datetime) -> int:
        stmt = select(func.count()).select_from(t.search_queries).where(q_.timestamp < cutoff)
        return int((await self._conn.execute(stmt)).scalar_one())


_FILTERED = ("sources", "answer")  # what history shows as the reader may see it now
_CANONICAL_UUID = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def _readable_sources(reader: User) -> Any:
    """A lateral subquery over a logged response's sources: `sources`, those `reader` may
    read now (`readable_by`, the same predicate as every document read) in their stored
    order, or NULL if none; `top_readable`, whether the first stored source is one of them
    (the answer was taken from it). A `document_id` that is not a canonical UUID matches
    nothing (as in the in-memory adapter) rather than failing the cast."""
    source = (
        func.jsonb_array_elements(r_.sources)
        .table_valued(column("value", JSONB), with_ordinality="n")
        .render_derived(name="source", with_types=False)
    )
    raw_id = source.c.value.op("->>")(literal_column("'document_id'"))
    doc_id = case(
        (raw_id.op("~*")(literal_column(f"'{_CANONICAL_UUID}'")), cast(raw_id, PG_UUID)),
        else_=null(),
    )
    return (
        select(
            func.jsonb_agg(aggregate_order_by(source.c.value, source.c.n)).label("sources"),
            func.coalesce(func.bool_or(source.c.n == 1), false()).label("top_readable"),
        )
        .select_from(source.join(t.documents, d.id == doc_id))
        .where(readable_by(reader))
        .lateral("shown")
    )


def _query(row: Any) -> SearchQueryLog:
    m = row._mapping
    return SearchQueryLog(
        m["id"], m["user_id"], m["query"], m["session_id"], m["filters"], m["timestamp"]
    )


def _feedback(row: Any, prefix: str) -> Feedback:
    m = row._mapping
    return Feedback(
        m[prefix + "id"],
        m[prefix + "query_id"],
        m[prefix + "user_id"],
        m[prefix + "rating"],
        m[prefix + "comment"],
        m[prefix + "timestamp"],
    )


def _history(row: Any) -> HistoryEntry:
    m = row._mapping
    response = None
    if m["r_id"] is not None:
        response = SearchResponseLog(
            m["r_id"],
            m["r_query_id"],
            m["r_answer"],
            m["r_sources"],
            m["r_result_count"],
            m["r_response_time_ms"],
            m["r_timestamp"],
        )
    feedback = _feedback(row, "f_") if m["f_id"] is not None else None
    return HistoryEntry(_query(row), response, feedback)
