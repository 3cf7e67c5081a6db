"""The search logs in PostgreSQL: each search's query and response, the searcher's feedback,
the history (showing only the sources the reader may read now), analytics and retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import (
    and_,
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
)
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.pagination import SEARCH_HISTORY, Page, PageRequest
from domain.search import Feedback, HistoryEntry, SearchAnalytics, SearchQueryLog, SearchResponseLog
from domain.users import User
from infrastructure.sqlalchemy import tables as t
from infrastructure.sqlalchemy.access import readable_by
from infrastructure.sqlalchemy.paging import one_page

d = t.documents.c
q_ = t.search_queries.c
r_ = t.search_responses.c
f_ = t.user_feedback.c


class SqlAlchemySearchLogRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

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
