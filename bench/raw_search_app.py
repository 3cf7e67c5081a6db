"""The baseline for `bench_search.py`: `POST /api/v1/search` on a bare Litestar app and a raw
asyncpg pool.

No Archivist request path (no container, unit of work, SQLAlchemy or pydantic): the handler
does by hand what Archivist does for that route:

1. the bearer token: SHA-256 of the header, the token+user join, one `fetchrow` in
   autocommit, the same 401 rules (`harness.bearer_user`, as `raw_me_app.py`);
2. in one transaction (BEGIN … COMMIT, as `SearchService.search`'s unit of work), the search
   as `SqlAlchemySearchRepository.search` runs it (`search_hits`): the query parsed by
   `domain.search.parse_query` and planned by `infrastructure.search_index.plan.plan`; for a
   question of several words, the documents holding every word with the statistics (N and
   each term's document frequency) in one statement, then, while those are few, the
   documents holding some of its words (its rarest first, `retrieval_split`); otherwise the
   statistics statement, then the candidates (a question's rarest terms first; or the
   operators' tsquery, a phrase through its pool); the scores, page and cursor
   (`paging.rank_rows_page`) and the page's contents for the snippets (`snippet`), all with the
   index's own Python functions; when operators find nothing, the same again for the
   relaxed query (`ParsedQuery.relaxed`); then the INSERTs of the query log, the response
   log and the `search.performed` event (no RETURNING);
3. the same JSON as Archivist (`query_id`, `answer`, `results`, `response_time_ms`, `total`,
   `next_cursor` — `infrastructure.search_index.paging`'s cursor —, `facets`: null,
   `relaxed`).

The SQL is not written here: it is what the app itself sent to asyncpg, captured by
`bench_search.py` from the code under test for every statement shape (statistics; a
question's every-word candidates with the statistics and its partial candidates; candidates of
one term / of operators / of a phrase, a page's contents, each for a reader
with and without a department) and the INSERTs, and handed over in the JSON file named by
BENCH_SEARCH_SQL: for each shape the SQL text and, per parameter, either a constant (a cap, a
literal) or a role the handler fills in (the reader, the plan's tsqueries and lexemes, the
page's ids). `bench_search.py` checks before measuring that `search_hits` sends the app's SQL
and parameters byte for byte and finds the same hits.

Run: `BENCH_RAW_DSN=postgresql://... BENCH_SEARCH_SQL=spec.json uvicorn --factory
raw_search_app:create_app` from `bench/`.
"""

from __future__ import annotations

import html
import json
import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import asyncpg
from litestar import Litestar, Request, Response, post

from domain.document_ports import DocumentFilter
from domain.search import CANDIDATE_CAP, ParsedQuery, parse_query
from harness import UNAUTHORIZED, bearer_user, raw_app
from infrastructure.search_index import paging, scoring, snippets
from infrastructure.search_index.plan import SearchPlan
from infrastructure.search_index.plan import plan as plan_query
from infrastructure.sqlalchemy.search_statistics import scan_tsquery

SQL_ENV = "BENCH_SEARCH_SQL"
RESULTS_MAX = 50

# Parameters the handler fills in, by the app's bind parameter names; any other parameter of
# a captured statement is a constant (bench_search.py checks it is the same for every probe).
ROLES = frozenset(
    {
        "reader_id",
        "reader_level",
        "reader_department",
        "term_queries",
        "sure_queries",
        "scan_queries",
        "term_query",
        "lexemes",
        "prefix_query",
        "core_query",
        "fill_query",
        "core_limit",
        "fill_limit",
        "every_query",
        "match_query",
        "loose_query",
    }
)
# Constants a caller may replace (bench_search.py's `quality` lifts the bounds this way).
# (`fill_cap` and `partial_cap` are no bind names: `_question` passes them to `scoring`.)
CAPS = ("candidate_cap", "pool_cap", "df_cap", "n_cap", "fill_cap", "partial_cap")
# Constants that change what a search costs, never what it finds (`--caps scan_rows=0`: no
# function word counted in the table's first rows); not lifted with the bounds.
KNOBS = ("scan_rows", "scan_vector_bytes")

# shape -> (SQL, [("const", [name, value]) | ("role", name) | ("top", "page_ids")]);
# INSERT -> (SQL, parameter names)
_STATEMENTS: dict[str, tuple[str, list[tuple[str, Any]]]] = {}
_INSERTS: dict[str, tuple[str, list[str]]] = {}


def load_rendered(path: str) -> None:
    with open(path, encoding="utf-8") as f:
        spec = json.load(f)
    _STATEMENTS.clear()
    _INSERTS.clear()
    for shape, (sql, plan) in spec["search"].items():
        _STATEMENTS[shape] = (sql, [(kind, v) for kind, v in plan])
    for name, (sql, names) in spec["inserts"].items():
        _INSERTS[name] = (sql, list(names))


def shape_key(kind: str, department: str | None) -> str:
    """`statistics`, `one_term`, `every`, `partial`, `operator`, `phrase` or `page`, for a reader
    with or without a department."""
    return f"{kind}|{'department' if department is not None else 'none'}"


def bind(
    kind: str,
    department: str | None,
    values: Mapping[str, Any],
    top: list[Any] | None = None,
    caps: Mapping[str, int] | None = None,
) -> tuple[str, list[Any]]:
    key = shape_key(kind, department)
    found = _STATEMENTS.get(key)
    if found is None:
        raise LookupError(f"no captured statement for {key!r} (BENCH_SEARCH_SQL)")
    sql, plan = found
    args: list[Any] = []
    for role, v in plan:
        if role == "role":
            args.append(values[v])
        elif role == "top":  # the page's ids
            assert top is not None
            args.append(list(top))
        else:  # ("const", [name, value])
            name, value = v
            args.append(caps[name] if caps is not None and name in caps else value)
    return sql, args


class Runner(Protocol):
    async def fetch(self, sql: str, *args: Any) -> list[Any]: ...


async def _fetch(conn: Runner, statement: tuple[str, list[Any]]) -> list[Any]:
    sql, args = statement
    return await conn.fetch(sql, *args)


@dataclass
class Found:
    """A page of hits (`SearchPage`): the hits as the route returns them, how many were
    ranked, the next page's cursor."""

    hits: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    next_cursor: str | None = None


async def _search(
    conn: Runner,
    parsed: ParsedQuery,
    reader: Mapping[str, Any],
    limit: int,
    caps: Mapping[str, int] | None,
) -> Found:
    """`SqlAlchemySearchRepository.search` by hand (no filters, no cursor, no facets)."""
    plan = plan_query(parsed)
    if plan.is_empty:
        return Found()
    dep = reader["reader_department"]
    values: dict[str, Any] = dict(reader)
    values["lexemes"] = plan.lexemes
    values["prefix_query"] = plan.prefix_query
    cap = caps.get("candidate_cap", CANDIDATE_CAP) if caps else CANDIDATE_CAP
    if plan.natural and len(plan.terms) == 1 and cap >= scoring.DF_CAP:
        # One term: its candidates are the documents its df counts, and carry N.
        values["term_query"] = plan.terms[0].tsquery
        rows = await _fetch(conn, bind("one_term", dep, values, caps=caps))
        if not rows:
            return Found()
        stats = scoring.Statistics(rows[0]["documents"], (min(len(rows), scoring.DF_CAP),))
        return await _page(conn, plan, stats, rows, dep, values, limit)
    values["term_queries"] = [term.tsquery for term in plan.terms]
    values["sure_queries"] = [term.sure_tsquery for term in plan.terms]
    values["scan_queries"] = [scan_tsquery(term) for term in plan.terms]
    every: list[Any] = []
    if plan.natural and len(plan.terms) > 1:
        # The documents holding every term, with the statistics.
        values["match_query"] = scoring.every_query(plan)
        rows = await _fetch(conn, bind("every", dep, values, caps=caps))
        every = [r for r in rows if r["i"] is None]
        stats = _statistics(plan, {r["i"]: r["n"] for r in rows if r["i"] is not None})
    else:
        counted = await _fetch(conn, bind("statistics", dep, values, caps=caps))
        stats = _statistics(plan, {r[0]: r[1] for r in counted})
    if plan.natural:
        return await _question(conn, plan, stats, every, dep, values, limit, caps)
    assert plan.match is not None
    values["match_query"] = plan.match.text()
    kind = "operator"
    if plan.loose is not None:
        values["loose_query"] = plan.loose.text()
        kind = "phrase"
    rows = await _fetch(conn, bind(kind, dep, values, caps=caps))
    return await _page(conn, plan, stats, rows, dep, values, limit)


def _statistics(plan: SearchPlan, counted: Mapping[int, int]) -> scoring.Statistics:
    return scoring.Statistics(
        int(counted.get(0, 0)),
        tuple(int(counted.get(i + 1, 0)) for i in range(len(plan.terms))),
    )


async def _question(
    conn: Runner,
    plan: SearchPlan,
    stats: scoring.Statistics,
    every: list[Any],
    dep: str | None,
    values: dict[str, Any],
    limit: int,
    caps: Mapping[str, int] | None,
) -> Found:
    """`SqlAlchemySearchRepository._question`: `every`, then those holding some terms."""
    cap = caps.get("candidate_cap", CANDIDATE_CAP) if caps else CANDIDATE_CAP
    fill_cap = caps.get("fill_cap", scoring.FILL_CAP) if caps else scoring.FILL_CAP
    partial_cap = caps.get("partial_cap", scoring.PARTIAL_CAP) if caps else scoring.PARTIAL_CAP
    asked = scoring.question_queries(plan, stats, cap, fill_cap)
    if asked is None:
        return Found()
    limits = scoring.partial_limits(len(every), cap, asked.fill_limit, partial_cap)
    if any(limits):
        values["every_query"] = asked.every
        values["core_query"] = asked.core
        values["fill_query"] = asked.fill
        values["core_limit"], values["fill_limit"] = limits
        every = every + await _fetch(conn, bind("partial", dep, values, caps=caps))
    return await _page(conn, plan, stats, every, dep, values, limit)


async def _page(
    conn: Runner,
    plan: SearchPlan,
    stats: scoring.Statistics,
    rows: list[Any],
    dep: str | None,
    values: dict[str, Any],
    limit: int,
) -> Found:
    candidates = {r["id"]: (r["hits"], r["prefix_hit"], r["length"]) for r in rows}
    key = paging.search_key(plan, DocumentFilter())
    ranked = paging.rank_rows_page(plan, stats, candidates, limit, key, None)
    scores, top = ranked.scores, ranked.page
    if not top:
        return Found([], len(scores))
    described = {r[0]: r for r in await _fetch(conn, bind("page", dep, values, top))}
    hits = [
        {
            "document_id": key,
            "title": row[1],
            "document_type": row[2],
            "score": scores[key],
            "snippet": snippets.snippet(
                plan, row[3] or "", scoring.parse_hits(candidates[key][0] or "")
            ),
        }
        for key in top
        if (row := described.get(key)) is not None
    ]
    return Found(hits, len(scores), ranked.next_cursor)


async def search_hits(
    conn: Runner,
    text: str,
    reader: Mapping[str, Any],
    limit: int,
    caps: Mapping[str, int] | None = None,
) -> tuple[Found, bool]:
    """The page and whether it is the relaxed query's (`SearchService._page`): when
    operators match nothing, the query's words instead. `reader`: `reader_id`,
    `reader_level`, `reader_department`. `caps` replaces some of the bounds (CAPS), for the
    benchmark's diagnostics."""
    parsed = parse_query(text)
    found = await _search(conn, parsed, reader, limit, caps)
    if found.hits or found.total or parsed.is_natural:
        return found, False
    relaxed = await _search(conn, parsed.relaxed(), reader, limit, caps)
    return relaxed, bool(relaxed.hits or relaxed.total)


def insert_args(name: str, values: dict[str, Any]) -> list[Any]:
    return [values[n] for n in _INSERTS[name][1]]


def plain(snippet_html: str) -> str:
    return html.unescape(snippet_html.replace("<mark>", "").replace("</mark>", ""))


def _invalid(detail: str) -> Response[Any]:
    return Response(
        {"status": 400, "title": "Bad Request", "detail": detail},
        status_code=400,
        media_type="application/problem+json",
    )


@post("/api/v1/search", status_code=200)
async def search(request: Request[Any, Any, Any]) -> Response[Any] | dict[str, Any]:
    pool: asyncpg.Pool = request.app.state.pool
    user = await bearer_user(request, pool)
    if user is None:
        return UNAUTHORIZED
    if user["u_role"] == "admin":  # not what the benchmark measures
        raise NotImplementedError("the raw app serves members only")
    body = await request.json()
    text = body.get("query") if isinstance(body, dict) else None
    limit = body.get("limit", 10) if isinstance(body, dict) else 10
    if not isinstance(text, str) or not text.strip() or len(text) > 1000:
        return _invalid("query")
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= RESULTS_MAX:
        return _invalid("limit")
    uid = user["u_id"]
    reader = {
        "reader_id": uid,
        "reader_level": user["u_access_level"],
        "reader_department": user["u_department"],
    }
    started = time.perf_counter()
    now = datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        found, relaxed = await search_hits(conn, text, reader, limit)
        hits = found.hits
        elapsed_ms = max(0, round((time.perf_counter() - started) * 1000))
        answer = plain(hits[0]["snippet"]) if hits else ""
        query_id = uuid.uuid4()
        logged = {
            "id": query_id,
            "user_id": uid,
            "query": text.strip(),
            "session_id": None,
            "filters": "{}",
            "timestamp": now,
        }
        await conn.execute(_INSERTS["query"][0], *insert_args("query", logged))
        sources = [
            {
                "document_id": str(h["document_id"]),
                "title": h["title"],
                "score": h["score"],
                "snippet": h["snippet"],
            }
            for h in hits
        ]
        response = {
            "id": uuid.uuid4(),
            "query_id": query_id,
            "answer": answer,
            "sources": json.dumps(sources),
            "result_count": len(hits),
            "response_time_ms": elapsed_ms,
            "timestamp": now,
        }
        await conn.execute(_INSERTS["response"][0], *insert_args("response", response))
        agent = request.headers.get("user-agent")
        event = {
            "occurred_at": now,
            "actor_id": uid,
            "action": "search.performed",
            "subject_type": "search",
            "subject_id": str(query_id),
            "client_ip": request.client.host if request.client else None,
            "user_agent": agent[:500] if agent else None,
            "data": json.dumps({"result_count": len(hits), "response_time_ms": elapsed_ms}),
        }
        await conn.execute(_INSERTS["event"][0], *insert_args("event", event))
    return {
        "query_id": query_id,
        "answer": answer,
        "results": hits,
        "response_time_ms": elapsed_ms,
        "total": found.total,
        "next_cursor": found.next_cursor,
        "facets": None,
        "relaxed": relaxed,
    }


def create_app() -> Litestar:
    """The app, for `uvicorn --factory`; the DSN comes from `BENCH_RAW_DSN`, the statements
    from the file named by `BENCH_SEARCH_SQL`."""
    load_rendered(os.environ[SQL_ENV])
    return raw_app(search)
