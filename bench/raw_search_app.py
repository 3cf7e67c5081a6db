"""The baseline for `bench_search.py`: `POST /api/v1/search` on a bare Litestar app and a raw
asyncpg pool.

No Archivist code path. The handler does by hand what Archivist does for that route:

1. the bearer token: SHA-256 of the header, the token+user join (`raw_me_app.py`'s statement),
   one `fetchrow` in autocommit, the same 401 rules;
2. the query split as `domain.search.parse_query` splits it: the last bare word becomes a
   prefix term (`to_tsquery('simple', 'word:*')`), the rest goes to `websearch_to_tsquery`;
3. in one transaction (BEGIN … COMMIT, as `SearchService.search`'s unit of work): the search
   statement (the tsquery CTE, the candidate cap with the reader's access predicate,
   `ts_rank_cd`, `ts_headline` on the page), then the INSERTs of the query log, the response
   log and the `search.performed` event (no RETURNING). The SQL is what SQLAlchemy compiles
   for the app's own statements (postgresql+asyncpg dialect): `bench_search.py` renders it
   from the code under test, one statement per query shape, into the file named by
   BENCH_SEARCH_SQL, and checks before measuring that `statement()` gives the app's SQL and
   parameters byte for byte. Without that file, the hand-written statements below (the
   app's as of 2026-11-21) are used;
4. the same JSON as Archivist (`query_id`, `answer`, `results`, `response_time_ms`), snippets
   HTML-escaped with the matches in `<mark>`.

Run: `BENCH_RAW_DSN=postgresql://... uvicorn --factory raw_search_app:create_app` from `bench/`.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import time
import uuid
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
from litestar import Litestar, Request, Response, post

from raw_me_app import FIND_TOKEN_WITH_USER

DSN_ENV = "BENCH_RAW_DSN"
POOL_SIZE = 10  # Archivist's default ARCHIVIST_DB_POOL_SIZE
RESULTS_MAX = 50
CANDIDATE_CAP = 5000  # search_repository.CANDIDATE_CAP
HEADLINE_CHARS = 50_000  # search_repository.HEADLINE_CHARS
START, STOP = "\ue000", "\ue001"  # infrastructure.search_text
HEADLINE_OPTIONS = (
    f"StartSel={START}, StopSel={STOP}, MaxWords=35, MinWords=12, "
    'MaxFragments=2, FragmentDelimiter=" … "'
)

_WORD = re.compile(r"[^\W_]+")
_TOKEN = re.compile(r'"[^"]*"?|\S+')

# The search statement as SQLAlchemy renders it; {q} is the tsquery, {n0}.. the parameters
# after it (the headline's two parameters come first: $1 and $2).
_SEARCH = (
    "WITH q AS \n(SELECT {q} AS q), \ncandidates AS \n(SELECT documents.id AS id \n"
    "FROM documents JOIN q ON true \nWHERE (documents.search_vector @@ q.q) AND "
    "documents.deleted_at IS NULL AND (documents.owner_id = ${o}::UUID OR (EXISTS (SELECT * \n"
    "FROM permissions \nWHERE permissions.document_id = documents.id AND "
    "permissions.user_id = ${u}::UUID)) OR documents.access_level <= ${lvl}::INTEGER AND "
    "{department}) \n LIMIT ${cap}::INTEGER), \ntop AS \n(SELECT documents.id AS id, "
    "documents.title AS title, documents.document_type AS document_type, "
    "documents.content AS content, ts_rank_cd(documents.search_vector, q.q) AS score \n"
    "FROM documents JOIN candidates ON candidates.id = documents.id JOIN q ON true "
    "ORDER BY score DESC, documents.id \n LIMIT ${lim}::INTEGER)\n SELECT top.id, top.title, "
    "top.document_type, top.score, ts_headline('simple'::regconfig, "
    "left(top.content, $1::INTEGER), q.q, $2::VARCHAR) AS snippet \n"
    "FROM top JOIN q ON true ORDER BY top.score DESC, top.id"
)
_WEB = "websearch_to_tsquery('simple'::regconfig, ${}::VARCHAR)"
_PREFIX = "to_tsquery('simple'::regconfig, ${}::VARCHAR)"

INSERT_QUERY = (
    "INSERT INTO search_queries (id, user_id, query, session_id, filters, timestamp) "
    "VALUES ($1::UUID, $2::UUID, $3::VARCHAR, $4::VARCHAR, $5::JSONB, "
    "$6::TIMESTAMP WITH TIME ZONE)"
)
INSERT_RESPONSE = (
    "INSERT INTO search_responses (id, query_id, answer, sources, result_count, "
    "response_time_ms, timestamp) VALUES ($1::UUID, $2::UUID, $3::VARCHAR, $4::JSONB, "
    "$5::INTEGER, $6::INTEGER, $7::TIMESTAMP WITH TIME ZONE)"
)
INSERT_EVENT = (
    "INSERT INTO events (occurred_at, actor_id, action, subject_type, subject_id, client_ip, "
    "user_agent, data) VALUES ($1::TIMESTAMP WITH TIME ZONE, $2::UUID, $3::VARCHAR, "
    "$4::VARCHAR, $5::VARCHAR, $6, $7::VARCHAR, $8::JSONB)"
)


def _build(kinds: tuple[str, ...], department: bool) -> str:
    n = 3
    parts = []
    for kind in kinds:
        parts.append((_WEB if kind == "web" else _PREFIX).format(n))
        n += 1
    dep = (
        f"(documents.department IS NULL OR documents.department = ${n + 3}::VARCHAR)"
        if department
        else "documents.department IS NULL"
    )
    cap = n + 4 if department else n + 3
    return _SEARCH.format(
        q=" && ".join(parts), o=n, u=n + 1, lvl=n + 2, department=dep, cap=cap, lim=cap + 1
    )


# Every statement shape, built once: (tsquery parts, reader has a department) -> SQL.
_STATEMENTS = {
    (kinds, dep): _build(kinds, dep)
    for kinds in (("web",), ("prefix",), ("web", "prefix"))
    for dep in (True, False)
}


def split_query(text: str) -> tuple[str, str | None]:
    """(rest, prefix_word) as `domain.search.parse_query` gives them for a query that has a
    word (the benchmark sends no OR and no negation)."""
    tokens = _TOKEN.findall(text.strip())
    if tokens:
        last = tokens[-1]
        before = tokens[-2] if len(tokens) > 1 else ""
        if _WORD.fullmatch(last) is not None and last != "OR" and before != "OR":
            return " ".join(tokens[:-1]), last.lower()
    return " ".join(tokens), None


def has_phrase(text: str) -> bool:
    """A term of several words (a quoted phrase) and no negated term, as
    `domain.search.parse_query` sees them."""
    phrase = False
    for token in _TOKEN.findall(text.strip()):
        if token == "OR":
            continue
        if token.startswith("-") and len(token) > 1:
            if _WORD.search(token[1:]):
                return False
            continue
        phrase = phrase or len(_WORD.findall(token)) > 1
    return phrase


def statement(
    text: str, user_id: uuid.UUID, access_level: int, department: str | None, limit: int
) -> tuple[str, list[Any]] | None:
    """The search statement and its parameters, or None when the query has no word."""
    rest, prefix = split_query(text)
    kinds: tuple[str, ...] = ()
    if _WORD.search(rest):
        kinds += ("web",)
    if prefix is not None:
        kinds += ("prefix",)
    if not kinds:
        return None
    shape = "+".join(kinds) + ("|department" if department is not None else "|none")
    shape += "|phrase" if has_phrase(text) else "|plain"
    if shape in _RENDERED:
        sql, plan = _RENDERED[shape]
        values = {
            "web": rest,
            "loose": rest.replace('"', " "),
            "prefix": f"'{prefix}':*",
            "reader": user_id,
            "level": access_level,
            "department": department,
            "limit": limit,
        }
        return sql, [values[v] if role == "role" else v for role, v in plan]
    params: list[Any] = [HEADLINE_CHARS, HEADLINE_OPTIONS]
    if "web" in kinds:
        params.append(rest)
    if prefix is not None:
        params.append(f"'{prefix}':*")
    params += [user_id, user_id, access_level]
    if department is not None:
        params.append(department)
    params += [CANDIDATE_CAP, limit]
    return _STATEMENTS[(kinds, department is not None)], params


# Statements rendered by SQLAlchemy from the app's own code (`bench_search.py` writes them to
# the file named by BENCH_SEARCH_SQL): shape -> (SQL, [("const", value) | ("role", name)]),
# and for each INSERT its SQL and parameter names. Without the file, the hand-written ones.
SQL_ENV = "BENCH_SEARCH_SQL"
_RENDERED: dict[str, tuple[str, list[tuple[str, Any]]]] = {}
_INSERT_NAMES: dict[str, list[str]] = {
    "query": ["id", "user_id", "query", "session_id", "filters", "timestamp"],
    "response": [
        "id",
        "query_id",
        "answer",
        "sources",
        "result_count",
        "response_time_ms",
        "timestamp",
    ],
    "event": [
        "occurred_at",
        "actor_id",
        "action",
        "subject_type",
        "subject_id",
        "client_ip",
        "user_agent",
        "data",
    ],
}
_INSERTS = {"query": INSERT_QUERY, "response": INSERT_RESPONSE, "event": INSERT_EVENT}


def load_rendered(path: str) -> None:
    spec = json.loads(open(path, encoding="utf-8").read())  # noqa: SIM115
    _RENDERED.clear()
    for shape, (sql, plan) in spec["search"].items():
        _RENDERED[shape] = (sql, [(role, v) for role, v in plan])
    for name, (sql, names) in spec["inserts"].items():
        _INSERTS[name] = sql
        _INSERT_NAMES[name] = list(names)


def insert_args(name: str, values: dict[str, Any]) -> list[Any]:
    return [values[n] for n in _INSERT_NAMES[name]]


def to_html(marked: str) -> str:
    clean = marked.replace("<mark>", "").replace("</mark>", "")
    return html.escape(clean, quote=False).replace(START, "<mark>").replace(STOP, "</mark>")


def plain(snippet_html: str) -> str:
    return html.unescape(snippet_html.replace("<mark>", "").replace("</mark>", ""))


_UNAUTHORIZED: Response[Any] = Response(
    {"status": 401, "title": "Unauthorized"},
    status_code=401,
    media_type="application/problem+json",
    headers={"www-authenticate": "Bearer"},
)


def _invalid(detail: str) -> Response[Any]:
    return Response(
        {"status": 400, "title": "Bad Request", "detail": detail},
        status_code=400,
        media_type="application/problem+json",
    )


def plain_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@post("/api/v1/search", status_code=200)
async def search(request: Request[Any, Any, Any]) -> Response[Any] | dict[str, Any]:
    header = request.headers.get("authorization")
    if not header:
        return _UNAUTHORIZED
    scheme, _, secret = header.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        return _UNAUTHORIZED
    token_hash = hashlib.sha256(secret.encode()).hexdigest()
    pool: asyncpg.Pool = request.app.state.pool
    user = await pool.fetchrow(FIND_TOKEN_WITH_USER, token_hash)
    if (
        user is None
        or user["revoked_at"] is not None
        or datetime.now(UTC) >= user["expires_at"]
        or not user["u_is_active"]
    ):
        return _UNAUTHORIZED
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
    started = time.perf_counter()
    now = datetime.now(UTC)
    built = statement(text, uid, user["u_access_level"], user["u_department"], limit)
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(built[0], *built[1]) if built is not None else []
        hits = [
            {
                "document_id": r["id"],
                "title": r["title"],
                "document_type": r["document_type"],
                "score": float(r["score"]),
                "snippet": to_html(r["snippet"] or ""),
            }
            for r in rows
        ]
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
        await conn.execute(_INSERTS["query"], *insert_args("query", logged))
        sources = [{**h, "document_id": str(h["document_id"])} for h in hits]
        response = {
            "id": uuid.uuid4(),
            "query_id": query_id,
            "answer": answer,
            "sources": json.dumps(sources),
            "result_count": len(hits),
            "response_time_ms": elapsed_ms,
            "timestamp": now,
        }
        await conn.execute(_INSERTS["response"], *insert_args("response", response))
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
        await conn.execute(_INSERTS["event"], *insert_args("event", event))
    return {
        "query_id": query_id,
        "answer": answer,
        "results": hits,
        "response_time_ms": elapsed_ms,
    }


def create_app() -> Litestar:
    """The app, for `uvicorn --factory`; the DSN comes from `BENCH_RAW_DSN`."""
    dsn = plain_dsn(os.environ[DSN_ENV])
    if os.environ.get(SQL_ENV):
        load_rendered(os.environ[SQL_ENV])

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        pool = await asyncpg.create_pool(dsn, min_size=POOL_SIZE, max_size=POOL_SIZE)
        app.state.pool = pool
        try:
            yield
        finally:
            await pool.close()

    return Litestar(route_handlers=[search], lifespan=[lifespan], openapi_config=None)
