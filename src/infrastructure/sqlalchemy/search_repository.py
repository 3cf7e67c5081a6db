"""Full-text search in PostgreSQL, and the search logs.

One statement per search: the caller's text as a tsquery (websearch syntax, the last bare
word as a prefix), at most CANDIDATE_CAP matching documents the reader may read (so a word
in half the corpus stays cheap), ranked with ts_rank_cd as they are found, and ts_headline for
the returned page only (PERFORMANCE.md: ranking costs ~11 µs per match, a headline 0.3-0.5 ms)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Final
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
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
    null,
    select,
    true,
    tuple_,
)
from sqlalchemy.dialects.postgresql import JSONB, TSQUERY, aggregate_order_by
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.document_ports import DocumentFilter
from domain.pagination import Page, PageRequest, SortKey
from domain.search import (
    CANDIDATE_CAP,
    PHRASE_POOL_CAP,
    Feedback,
    HistoryEntry,
    ParsedQuery,
    SearchAnalytics,
    SearchHit,
    SearchQueryLog,
    SearchResponseLog,
    Term,
    words,
)
from domain.users import User
from infrastructure.search_text import START, STOP, to_html
from infrastructure.sqlalchemy import tables as t
from infrastructure.sqlalchemy.access import (
    ReaderShape,
    compile_for_asyncpg,
    example_reader,
    readable_by,
    reader_shape,
    reader_values,
)
from infrastructure.sqlalchemy.document_repositories import filter_conditions
from infrastructure.sqlalchemy.repositories import driver_fetch

HEADLINE_CHARS: Final = 50_000
HEADLINE_OPTIONS: Final = (
    f"StartSel={START}, StopSel={STOP}, MaxWords=35, MinWords=12, "
    'MaxFragments=2, FragmentDelimiter=" … "'
)
SIMPLE: ColumnElement[Any] = literal_column("'simple'::regconfig")
d = t.documents.c
q_ = t.search_queries.c
r_ = t.search_responses.c
f_ = t.user_feedback.c


def tsquery(query: ParsedQuery) -> ColumnElement[Any]:
    """The caller's text as a tsquery; the texts are the named parameters `web_text` and
    `prefix_text`, so a statement built for one query serves every query of its shape."""
    parts: list[ColumnElement[Any]] = []
    if words(query.rest):
        parts.append(
            func.websearch_to_tsquery(SIMPLE, bindparam("web_text", query.rest, type_=String))
        )
    if query.prefix_word is not None:
        # The word is letters and digits only (domain.search._WORD), so quoting it is safe.
        prefix = bindparam("prefix_text", _prefix_text(query.prefix_word), type_=String)
        parts.append(func.to_tsquery(SIMPLE, prefix))
    combined = parts[0]
    for part in parts[1:]:
        combined = combined.op("&&")(part)
    return combined


def _prefix_text(word: str) -> str:
    return f"'{word}':*"


def loosened(query: ColumnElement[Any]) -> ColumnElement[Any]:
    """The tsquery with every phrase operator (`<->`, `<N>`) turned into `&`: the same words
    in any order. `<->` binds tighter than `&` and `|`, so the tree keeps its shape and the
    loose query matches a superset of the strict one (without negation, which would flip it)."""
    text = func.regexp_replace(cast(query, Text), r"<\d*->|<\d+>", "&", "g")
    return cast(text, TSQUERY)


def search_statement(
    reader: User,
    query: ParsedQuery,
    conditions: Sequence[ColumnElement[bool]],
    limit: int,
    caps: tuple[int, int] | None = None,
) -> Select[Any]:
    """One statement: at most CANDIDATE_CAP readable matches ranked as they are found (no
    join back), the page's ordering, then titles and headlines for that page only. A query
    holding a phrase first takes at most PHRASE_POOL_CAP readable documents holding all of
    its words and checks the word order among those: a phrase of common words otherwise
    rechecks positions in every document holding the words (94,000 of 100,000 in the
    benchmark) before the cap applies."""
    candidate_cap, pool_cap = caps if caps is not None else (CANDIDATE_CAP, PHRASE_POOL_CAP)
    q = select(tsquery(query).label("q")).cte("q")
    score = func.ts_rank_cd(d.search_vector, q.c.q).label("score")
    readable = (readable_by(reader, include_trash=False), *conditions)
    if query.has_phrase:
        # The pool carries its vectors: the word order is checked on the rows it holds
        # (behind its LIMIT the planner cannot turn the check into a scan of its own).
        pool = (
            select(d.id, d.search_vector)
            .select_from(t.documents.join(q, true()))
            .where(d.search_vector.op("@@")(loosened(q.c.q)), *readable)
            .limit(pool_cap)
            .cte("pool")
        )
        candidates = (
            select(pool.c.id, func.ts_rank_cd(pool.c.search_vector, q.c.q).label("score"))
            .select_from(pool.join(q, true()))
            .where(pool.c.search_vector.op("@@")(q.c.q))
            .limit(candidate_cap)
            .cte("candidates")
        )
    else:
        candidates = (
            select(d.id, score)
            .select_from(t.documents.join(q, true()))
            .where(d.search_vector.op("@@")(q.c.q), *readable)
            .limit(candidate_cap)
            .cte("candidates")
        )
    top = (
        select(candidates.c.id, candidates.c.score)
        .order_by(candidates.c.score.desc(), candidates.c.id)
        .limit(bindparam("page_limit", limit, type_=Integer))
        .cte("top")
    )
    snippet = func.ts_headline(
        SIMPLE, func.left(d.content, HEADLINE_CHARS), q.c.q, HEADLINE_OPTIONS
    )
    return (
        select(d.id, d.title, d.document_type, top.c.score, snippet.label("snippet"))
        .select_from(top.join(t.documents, d.id == top.c.id).join(q, true()))
        .order_by(top.c.score.desc(), top.c.id)
    )


@cache
def prepared_search(
    shape: ReaderShape, web: bool, prefix: bool, phrase: bool, caps: tuple[int, int]
) -> tuple[str, list[str], dict[str, Any]]:
    """The unfiltered search statement for one shape of reader and query, compiled once
    (building and compiling it costs more than PostgreSQL takes for a rare word). `caps`
    is (CANDIDATE_CAP, PHRASE_POOL_CAP) as they were when it was built."""
    example = ParsedQuery(
        groups=((Term(("a", "b") if phrase else ("a",)),),),
        prefix_word="p" if prefix else None,
        rest='"a b"' if phrase else ("a" if web else ""),
    )
    return compile_for_asyncpg(search_statement(example_reader(shape), example, (), 1, caps))


@dataclass(frozen=True, slots=True)
class _Hit:
    id: UUID
    title: str
    document_type: str
    score: float
    snippet: str | None


def prepared_search_args(
    reader: User, query: ParsedQuery, limit: int, caps: tuple[int, int] | None = None
) -> tuple[str, list[Any]]:
    """The unfiltered search for `reader` and `query` as asyncpg runs it: SQL and arguments."""
    sql, names, defaults = prepared_search(
        reader_shape(reader),
        bool(words(query.rest)),
        query.prefix_word is not None,
        query.has_phrase,
        caps if caps is not None else (CANDIDATE_CAP, PHRASE_POOL_CAP),
    )
    values = {
        **defaults,
        **reader_values(reader),
        "web_text": query.rest,
        "prefix_text": _prefix_text(query.prefix_word) if query.prefix_word else None,
        "page_limit": limit,
    }
    return sql, [values[n] for n in names]


class SqlAlchemySearchRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def search(
        self, reader: User, query: ParsedQuery, filters: DocumentFilter, limit: int
    ) -> Sequence[SearchHit]:
        if query.is_empty or not reader.is_active:
            return []
        conditions = await filter_conditions(self._conn, filters)
        if conditions is None:
            return []
        if conditions:
            rows: Sequence[Any] = (
                await self._conn.execute(search_statement(reader, query, conditions, limit))
            ).all()
        else:
            rows = await self._search_prepared(reader, query, limit)
        return [
            SearchHit(r.id, r.title, r.document_type, float(r.score), to_html(r.snippet or ""))
            for r in rows
        ]

    async def _search_prepared(self, reader: User, query: ParsedQuery, limit: int) -> Sequence[Any]:
        sql, args = prepared_search_args(reader, query, limit)
        records = await driver_fetch(self._conn, sql, *args)
        return [_Hit(**dict(r.items())) for r in records]

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
        if page.cursor is not None:
            key = SortKey.decode(page.cursor, "-timestamp")
            stmt = stmt.where(tuple_(q_.timestamp, q_.id) < tuple_(key.value, key.id))
        stmt = stmt.order_by(q_.timestamp.desc(), q_.id.desc()).limit(page.limit + 1)
        rows = (await self._conn.execute(stmt)).all()
        items = [_history(r) for r in rows[: page.limit]]
        cursor = None
        if len(rows) > page.limit:
            last = items[-1].query
            cursor = SortKey("-timestamp", last.timestamp, last.id).encode()
        return Page(items, cursor)

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
