"""Full-text search (issues #5 and #10), as a level-1 Engineering member.

Run by hand from the project root:

    .venv/bin/python bench/bench_search.py --keep [--parts a,b,c,sql,quality]

A throwaway embedded PostgreSQL (unless BENCH_DATABASE_URL is set; with `--keep`, a persistent
one in `bench/results/pgdata-search`, or in `--data-dir DIR`: generated once, reused, so later
runs start in seconds), migrated and filled by `gen_documents.py` (100,000 documents of ~200
words unless `--documents`; their `search_vector` written by the application's analyzer). The
reader is the generator's `reader@gen.bench.example` (L1, Engineering, a few hundred grants);
its token is issued through the application. Apps run under uvicorn (uvloop, httptools, one
worker, no access log) pinned to CPU 0; wrk, PostgreSQL and this runner on CPU 1 (as
`bench_me.py`).

Queries are derived from the corpus itself: `ts_stat` over every document gives each lexeme's
document frequency; sampled document texts give adjacent pairs and questions. Classes (a few
thousand distinct queries each, unless the vocabulary has fewer):
  rare      one word in 50-300 documents
  mid       one word in 1,000-10,000 documents
  two       two words of one sampled document, each in 1,000-40,000 documents: `a b`
  phrase    two adjacent words of a sampled document: `"a b"` (mostly common words)
  prefix    the first 3-5 letters of a word (the app searches the last bare word as a prefix)
  question  a natural-language question of 5-15 words about a sampled document
            (`make_question`: 3-6 of its content words in a form such as "how does X affect
            Y", further words joined by `in`, `for`, `with`, …; `?` at the end half the time)
  half      one word whose prefix search matches 40-60 % of the documents (English function
            words: alone, a question keeps them)
Single words are never a prefix of another word of the corpus (so `rare` and `mid` match what
their frequency says, although the app searches them as prefixes too). A query without
operators is a question ("any word", ranked by BM25), so every class but `phrase` is one.

a. Latency through HTTP (`POST /api/v1/search`, limit 10) per class and for the mix of the
   first five (the keyword classes), each run rotating through its list
   (`search_rotate.lua`): p50/p95/p99 with `--latency-connections` (default 1: service time)
   and the mix with 8 as well. Target p95 <= 50 ms; `question` <= 100 ms.
b. The `half` class on its own, with 1 and 8 connections: p95 <= 300 ms and no error.
c. Throughput (32 connections, the mix) of Archivist against `raw_search_app.py` (bare
   Litestar + raw asyncpg doing the same work: the app's three search statements, the same
   Python scoring and snippets, then the three log INSERTs, in one transaction): rounds
   alternated, medians, ratio (target >= 0.6), app CPU per request.

Before measuring it captures what the app actually sends: the search use case
(`SearchService.search`, as the route calls it) runs on its own engine for probe queries that
reach every statement shape (statistics; a question's every-word candidates with its
statistics, and its partial candidates; candidates of operators, of a phrase; a page's
contents; a reader with and without a department) and the log INSERTs,
and SQLAlchemy's `before_cursor_execute` records each statement's SQL and its parameters by
bind name. The SQL goes to the raw app (BENCH_SEARCH_SQL) with each parameter a constant or a
role it fills in. Then it checks, for 40 queries of every class (all of `half`), that the raw
app's search sends the app's statements byte for byte with the same parameters and finds the
same hits, scores, snippets, totals and cursors, and through HTTP that both apps return the
same JSON for 42 queries.
`--raw-latency` runs part a against the raw app too (what the stack adds at low load).
`--parts cpu` runs the app's own search repository (`SqlAlchemySearchRepository.search`, one
connection, no HTTP, no logs) over `--sql-samples` queries a class and reports the CPU time per
search of the PostgreSQL backend (from /proc/<pid>/stat) and of the Python process, and how
many candidates were ranked: figures that other work on the machine disturbs far less than
wall time (useful while anything else runs).
`--parts sql` times the search alone per class (asyncpg, one connection, no HTTP, no logs):
each statement and the Python work apart, and EXPLAIN (ANALYZE, BUFFERS) of the slowest
statement of the slowest query of each class. `--parts quality` compares each class's top 10
under the bounds (CANDIDATE_CAP, PHRASE_POOL_CAP, DF_CAP, N_CAP: constants of the captured
statements, replaced by bind name) with the exact top 10 (every bound lifted). `--caps
candidate_cap=500,df_cap=200,…` runs both with other bounds (what a change of the constants
would cost and save), without touching the app; `--caps scan_rows=0` runs `--parts sql` with
function words counted by their index only (what `first_rows_count` saves).

To measure a modified copy of the code, put its `src` first: `PYTHONPATH=/tmp/copy/src`.
Raw figures go to bench/results/ (not versioned); the last line printed is the JSON summary.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import gc
import itertools
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import create_async_engine

import infrastructure
from application.context import RequestContext
from domain.document_ports import DocumentFilter
from domain.search import parse_query
from domain.users import AccessLevel, Role, User
from infrastructure.config import AppSettings
from infrastructure.container import build_container, shutdown_container
from infrastructure.search_index.analysis import STOPWORDS
from infrastructure.sqlalchemy.migrations import upgrade
from infrastructure.sqlalchemy.prepared import parameter_names
from infrastructure.sqlalchemy.search_repository import SqlAlchemySearchRepository
from infrastructure.tuning import Tuning

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen_documents
import raw_search_app
from harness import (
    RESULTS_DIR,
    Server,
    Wrk,
    alternating,
    can_pin,
    child_env,
    cpu_seconds_per,
    cpu_ticks,
    http_request,
    issue_token,
    make_workdir,
    parse_wrk,
    pct,
    plain_dsn,
    require_wrk,
    run_wrk,
    serve,
    start_database,
    write_results,
)

BENCH_DIR = Path(__file__).resolve().parent
KEEP_DIR = RESULTS_DIR / "pgdata-search"
LUA = BENCH_DIR / "search_rotate.lua"
PATH = "/api/v1/search"
APPS: dict[str, str] = {
    "archivist": "archivist_me_app:create_app",  # built exactly as `archivist serve` builds it
    "raw": "raw_search_app:create_app",
}
CLASSES = ("rare", "mid", "two", "phrase", "prefix")
LIMIT = 10
RENDERED_SQL = Path(tempfile.gettempdir()) / f"archivist-bench-search-sql-{os.getpid()}.json"


# --- wrk ----------------------------------------------------------------------------------------


def wrk_bodies(
    port: int, bodies: Path, secret: str, duration_s: int, connections: int, pin: bool
) -> Wrk:
    """wrk through `search_rotate.lua` (its `done` is harness.DONE_LUA's), POSTing `bodies`."""
    output = run_wrk(
        port, PATH, duration_s, connections, pin, script=LUA, script_args=(str(bodies), secret)
    )
    return parse_wrk(output)


def write_bodies(workdir: Path, name: str, queries: Sequence[str]) -> Path:
    path = workdir / f"search-{name}.jsonl"
    lines = (json.dumps({"query": q, "limit": LIMIT}, ensure_ascii=False) for q in queries)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- HTTP ---------------------------------------------------------------------------------------


def post_search(port: int, query: str, secret: str | None) -> tuple[int, Any]:
    status, _, body = http_request(
        port, "POST", PATH, secret, {"query": query, "limit": LIMIT}, timeout=60
    )
    return status, body


def raw_env(app: str, url: str) -> dict[str, str]:
    env = child_env(app, url)
    if app != "archivist":
        env[raw_search_app.SQL_ENV] = str(RENDERED_SQL)
    return env


def start(app: str, url: str, workdir: Path, secret: str, pin: bool) -> Server:
    """`app` under uvicorn, answering 200 to a search with the reader's token."""
    body = {"query": "report", "limit": LIMIT}
    return serve(APPS[app], raw_env(app, url), workdir, pin, secret, PATH, "POST", body)


# --- the database and the queries ---------------------------------------------------------------


@dataclass
class Fixture:
    url: str
    secret: str
    reader: User
    documents: int
    queries: dict[str, list[str]]
    stats: dict[str, Any]


async def _reader_and_token(url: str) -> tuple[User, str]:
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        r = await conn.fetchrow(
            "SELECT id, email, name, department, access_level, role, is_active, created_at, "
            "updated_at FROM users WHERE email = $1",
            gen_documents.READER_EMAIL,
        )
    finally:
        await conn.close()
    if r is None:
        raise SystemExit(f"no {gen_documents.READER_EMAIL}: the database was not generated")
    reader = User(
        r["id"],
        r["email"],
        r["name"],
        r["department"],
        AccessLevel(r["access_level"]),
        Role(r["role"]),
        r["is_active"],
        r["created_at"],
        r["updated_at"],
    )
    secret = await issue_token(url, reader.id, f"bench-search-{uuid.uuid4().hex[:8]}")
    return reader, secret


# Question forms: {0} and {1} are content words of one document; the rest of its sampled
# words follow with a connector (see `make_question`).
QUESTION_FORMS = (
    "how does {0} affect {1}",
    "what is the {0} of {1}",
    "why do {0} and {1} matter",
    "where can i find the {0} for {1}",
    "which {0} is used with {1}",
    "when should we use {0} or {1}",
    "who is responsible for {0} in {1}",
    "is there a {0} about {1}",
)
CONNECTORS = ("in", "for", "with", "and", "of", "about", "on", "by", "at", "from", "to")


def make_question(rng: random.Random, text: str) -> str | None:
    """A natural-language question of 5-15 words about a document: 3-6 of its distinct
    content words (not English function words) in a random form of QUESTION_FORMS, each word
    after the second joined by a connector (`in`, `for`, `with`, …, sometimes `the`); ends in
    `?` half the time (otherwise its last word is also searched as a prefix, as while
    typing). The forms' own words (`affect`, `matter`, `find`, …) are not in the corpus: they
    are looked up and found nowhere, as a real question's often are."""
    content = sorted(
        {w for w in re.findall(r"[^\W_]+", text.lower()) if w not in STOPWORDS and not w.isdigit()}
    )
    if len(content) < 3:
        return None
    picked = rng.sample(content, rng.randint(3, min(6, len(content))))
    words = rng.choice(QUESTION_FORMS).format(picked[0], picked[1]).split()
    for word in picked[2:]:
        extra = [rng.choice(CONNECTORS), *(["the"] if rng.random() < 0.3 else []), word]
        if len(words) + len(extra) > 15:
            break
        words += extra
    return " ".join(words) + ("?" if rng.random() < 0.5 else "")


def _is_extended(sorted_words: list[str]) -> set[str]:
    """Words that are a prefix of another word (their prefix search matches more)."""
    out = set()
    for a, b in itertools.pairwise(sorted_words):
        if b.startswith(a):
            out.add(a)
    return out


async def build_queries(url: str, per_class: int, seed: int) -> tuple[dict[str, list[str]], Any]:
    rng = random.Random(seed)
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        total = int(await conn.fetchval("SELECT count(*) FROM documents"))
        started = time.perf_counter()
        stat = await conn.fetch(
            "SELECT word, ndoc FROM ts_stat('SELECT search_vector FROM documents')"
        )
        ts_stat_s = time.perf_counter() - started
        texts = [
            r[0]
            for r in await conn.fetch(
                "SELECT content FROM documents TABLESAMPLE BERNOULLI (5) REPEATABLE ($1)", seed
            )
        ]
        df = {r["word"]: int(r["ndoc"]) for r in stat}
        extended = _is_extended(sorted(df))
        plain_words = [w for w in sorted(df) if w not in extended and w.isalnum()]

        def pick(lo: int, hi: int) -> list[str]:
            found = [w for w in plain_words if lo <= df[w] <= hi]
            rng.shuffle(found)
            return found[:per_class]

        queries: dict[str, list[str]] = {"rare": pick(50, 300), "mid": pick(1_000, 10_000)}
        two: set[str] = set()
        phrase: set[str] = set()
        question: set[str] = set()
        for _ in range(50 * per_class):  # bounded
            if len(two) >= per_class and len(phrase) >= per_class and len(question) >= per_class:
                break
            text = rng.choice(texts)
            if len(question) < per_class and (made := make_question(rng, text)) is not None:
                question.add(made)
            sentence = rng.choice([s for s in text.split(".") if len(s.split()) >= 2])
            tokens = [w.lower() for w in re.findall(r"[^\W_]+", sentence)]
            if len(tokens) < 2:
                continue
            i = rng.randrange(len(tokens) - 1)
            if len(phrase) < per_class:
                phrase.add(f'"{tokens[i]} {tokens[i + 1]}"')
            middling = [w for w in set(tokens) if 1_000 <= df.get(w, 0) <= 40_000]
            if len(two) < per_class and len(middling) >= 2:
                a, b = rng.sample(sorted(middling), 2)
                two.add(f"{a} {b}")
        queries["two"] = sorted(two)
        queries["phrase"] = sorted(phrase)
        queries["question"] = sorted(question)
        prefixes: set[str] = set()
        long_words = [w for w in df if len(w) >= 5 and w.isalnum()]
        for _ in range(50 * per_class):
            if len(prefixes) >= per_class:
                break
            w = rng.choice(long_words)
            prefixes.add(w[: rng.randint(3, min(5, len(w) - 1))])
        queries["prefix"] = sorted(prefixes)
        # Expanded document frequency of a prefix (an upper bound: sum over its words).
        prefix_df = sorted(
            min(total, sum(n for w, n in df.items() if w.startswith(p)))
            for p in rng.sample(queries["prefix"], min(300, len(queries["prefix"])))
        )
        half: list[tuple[str, int]] = []
        for w in sorted((w for w in df if 0.3 * total <= df[w] <= 0.7 * total), key=df.get):
            n = await conn.fetchval(
                "SELECT count(*) FROM documents WHERE search_vector @@ to_tsquery('simple', $1)",
                f"'{w}':*",
            )
            if 0.4 * total <= n <= 0.6 * total:
                half.append((w, int(n)))
        queries["half"] = [w for w, _ in half]
        for name in ("two", "phrase", "prefix", "question"):
            rng.shuffle(queries[name])
    finally:
        await conn.close()
    stats = {
        "documents": total,
        "distinct_words": len(df),
        "ts_stat_seconds": round(ts_stat_s, 2),
        "distinct_queries": {k: len(v) for k, v in queries.items()},
        "median_df": {
            k: statistics.median(df[w] for w in queries[k]) for k in ("rare", "mid") if queries[k]
        },
        "prefix_expanded_df_p50_p90": [
            prefix_df[len(prefix_df) // 2],
            prefix_df[int(len(prefix_df) * 0.9)],
        ]
        if prefix_df
        else None,
        "half_words_matches": dict(half),
        "question_words_p50_min_max": [
            statistics.median(len(q.split()) for q in queries["question"]),
            min(len(q.split()) for q in queries["question"]),
            max(len(q.split()) for q in queries["question"]),
        ]
        if queries["question"]
        else None,
    }
    return queries, stats


def mix(queries: dict[str, list[str]], seed: int) -> list[str]:
    """The five classes interleaved in equal shares (as many of each as the smallest has)."""
    n = min(len(queries[c]) for c in CLASSES)
    out = [q for c in CLASSES for q in queries[c][:n]]
    random.Random(seed).shuffle(out)
    return out


# --- the same SQL -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sent:
    """A statement as the app's engine sent it to asyncpg: the SQL, and each positional
    parameter's bind name and value (as the app gave it, before SQLAlchemy's bind processors)."""

    sql: str
    names: tuple[str, ...]
    values: tuple[Any, ...]


class Recorder:
    """Every statement an engine sends to the driver (SQLAlchemy's `before_cursor_execute`)."""

    def __init__(self, engine: Any) -> None:
        self.sent: list[Sent] = []
        event.listen(engine.sync_engine, "before_cursor_execute", self._record)

    def _record(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        compiled = getattr(context, "compiled", None)
        if compiled is None or many:  # a prepared statement's parameters, by its SQL
            names = parameter_names(statement) or ()
            self.sent.append(Sent(statement, names, tuple(parameters or ())))
            return
        params = context.compiled_parameters[0]  # IN lists already expanded: id_1_1, …
        expanded = getattr(context, "_expanded_parameters", None) or {}
        names = tuple(n for name in compiled.positiontup or () for n in expanded.get(name, [name]))
        if len(names) != len(parameters):
            raise RuntimeError(f"cannot name the parameters of:\n{statement}")
        self.sent.append(Sent(statement, names, tuple(params[n] for n in names)))


INSERT_MARKERS = {
    "query": "INSERT INTO search_queries ",
    "response": "INSERT INTO search_responses ",
    "event": "INSERT INTO events ",
}


class AppProbe:
    """The app's search use case (`SearchService.search`, as the route calls it) on a
    container of its own, recording every statement it sends."""

    def __init__(self, url: str) -> None:
        settings = AppSettings(  # type: ignore[call-arg]
            _env_file=None, storage="postgres", slow_query_ms=0
        )
        self.container = build_container(settings, url)
        self.recorder = Recorder(self.container.database().engine)

    async def run(self, reader: User, query: str, limit: int) -> tuple[list[Sent], Any]:
        """(the search statements, the three INSERTs) and the use case's result."""
        self.recorder.sent.clear()
        ctx = RequestContext(actor=reader, client_ip="127.0.0.1", user_agent=None)
        result = await self.container.search().search(ctx, query, limit=limit)
        return list(self.recorder.sent), result

    async def close(self) -> None:
        await shutdown_container(self.container)


def _kind(sent: Sent, hit_ids: list[Any]) -> str:
    """Which of the raw app's statement shapes `sent` is (by the app's bind names)."""
    names = set(sent.names)
    if "term_queries" in names:
        return "every" if "match_query" in names else "statistics"
    if "term_query" in names:
        return "one_term"
    if "core_query" in names:
        return "partial"
    if "loose_query" in names:
        return "phrase"
    if "match_query" in names:
        return "operator"
    if "page_ids" in names and list(sent.values[sent.names.index("page_ids")]) == hit_ids:
        return "page"
    raise RuntimeError(f"the app ran a statement the raw app does not know:\n{sent.sql}")


def _split(sent: list[Sent]) -> tuple[list[Sent], dict[str, Sent]]:
    """The search statements, and the INSERTs by name; exactly one of each INSERT, last."""
    inserts: dict[str, Sent] = {}
    for name, marker in INSERT_MARKERS.items():
        found = [s for s in sent if s.sql.startswith(marker)]
        if len(found) != 1:
            raise RuntimeError(f"expected one statement starting {marker!r}, got {len(found)}")
        inserts[name] = found[0]
    search = sent[: -len(inserts)]
    if sorted(map(id, sent[len(search) :])) != sorted(map(id, inserts.values())):
        raise RuntimeError("the log INSERTs are not the last three statements")
    return search, inserts


def _plan_of(kind: str, sent: Sent, hit_ids: list[Any]) -> list[tuple[str, Any]]:
    plan: list[tuple[str, Any]] = []
    for name, value in zip(sent.names, sent.values, strict=True):
        if name in raw_search_app.ROLES:
            plan.append(("role", name))
        elif name == "page_ids":
            plan.append(("top", name))
        else:
            plan.append(("const", [name, value]))
    return plan


def _reader_values(reader: User) -> dict[str, Any]:
    return {
        "reader_id": reader.id,
        "reader_level": int(reader.access_level),
        "reader_department": reader.department,
    }


async def _no_department_reader(url: str) -> User | None:
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        r = await conn.fetchrow(
            "SELECT * FROM users WHERE department IS NULL AND role = 'member' AND is_active "
            "AND email LIKE $1 ORDER BY email LIMIT 1",
            f"%@{gen_documents.GEN_DOMAIN}",
        )
    finally:
        await conn.close()
    if r is None:
        return None
    return User(
        r["id"],
        r["email"],
        r["name"],
        None,
        AccessLevel(r["access_level"]),
        Role(r["role"]),
        True,
        r["created_at"],
        r["updated_at"],
    )


def probe_queries(queries: dict[str, list[str]]) -> list[tuple[str, int]]:
    """Queries that make the app run every statement shape the raw app may meet: questions,
    a phrase, operators without a phrase, a phrase found nowhere (relaxed), and a page of
    each size 1..LIMIT (one statement, which every size must give)."""
    rare, mid = queries["rare"], queries["mid"]
    out = [(q, LIMIT) for c in (*CLASSES, "question") for q in queries[c][:3]]
    out += [(f"{rare[0]} -{rare[1]}", LIMIT), (f'"{rare[2]} {rare[3]}"', LIMIT)]
    out += [(mid[k % len(mid)], k) for k in range(1, LIMIT + 1)]
    return out


PAGES = ("page",)


async def capture_statements(fx: Fixture, path: Path) -> int:
    """What the app sends for every statement shape (per reader: with and without a
    department), as SQL and a role or a constant per parameter; written to `path` for
    `raw_search_app.load_rendered`. A shape seen twice must be the same SQL and constants."""
    search: dict[str, Any] = {}
    inserts: dict[str, Any] = {}
    readers = [fx.reader]
    other = await _no_department_reader(fx.url)
    if other is not None:
        readers.append(other)
    probe = AppProbe(fx.url)
    runs = 0
    try:
        for reader in readers:
            for query, limit in probe_queries(fx.queries):
                sent, result = await probe.run(reader, query, limit)
                runs += 1
                statements, logged = _split(sent)
                hit_ids = [h.document_id for h in result.results]
                for s in statements:
                    kind = _kind(s, hit_ids)
                    key = raw_search_app.shape_key(kind, reader.department)
                    entry = [s.sql, _plan_of(kind, s, hit_ids)]
                    json.dumps(entry)  # constants must survive the trip to the raw app
                    if search.setdefault(key, entry) != entry:
                        raise RuntimeError(f"{key}: the app's statement varies:\n{entry}")
                for name, s in logged.items():
                    inserts[name] = [s.sql, list(s.names)]
    finally:
        await probe.close()
    missing = [
        raw_search_app.shape_key(k, fx.reader.department)
        for k in ("statistics", "every", "partial", "phrase", "operator", *PAGES)
        if raw_search_app.shape_key(k, fx.reader.department) not in search
    ]
    if missing:
        raise RuntimeError(f"no probe made the app run {missing}")
    spec = json.dumps({"search": search, "inserts": inserts}, ensure_ascii=False)
    await asyncio.to_thread(path.write_text, spec)
    return len(search)


class _Logged:
    """An asyncpg connection that records (and optionally times) what it runs."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.sent: list[tuple[str, list[Any], float]] = []

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        t0 = time.perf_counter()
        rows = await self.conn.fetch(sql, *args)
        self.sent.append((sql, list(args), (time.perf_counter() - t0) * 1e3))
        return list(rows)


async def check_same_sql(fx: Fixture, per_class: int = 40) -> int:
    """For `per_class` queries of each class, the raw app's `search_hits` sends the app's
    search statements byte for byte with the same parameters, finds the same hits (ids,
    scores, snippets, relaxed or not), and its INSERTs are the app's."""
    probe = AppProbe(fx.url)
    conn = await asyncpg.connect(plain_dsn(fx.url))
    checked = 0
    try:
        for name in (*CLASSES, "question", "half"):
            for query in fx.queries[name][:per_class]:
                sent, result = await probe.run(fx.reader, query, LIMIT)
                statements, logged = _split(sent)
                raw = _Logged(conn)
                found, relaxed = await raw_search_app.search_hits(
                    raw, query, _reader_values(fx.reader), LIMIT
                )
                app_sent = [(s.sql, list(s.values)) for s in statements]
                if app_sent != [(sql, args) for sql, args, _ in raw.sent]:
                    raise RuntimeError(
                        f"{name} {query!r}: the raw search differs:\n{raw.sent}\n{app_sent}"
                    )
                app_hits = [
                    (h.document_id, h.title, h.document_type, h.score, h.snippet)
                    for h in result.results
                ]
                raw_hits = [
                    (h["document_id"], h["title"], h["document_type"], h["score"], h["snippet"])
                    for h in found.hits
                ]
                if (app_hits, result.relaxed, result.total, result.next_cursor) != (
                    raw_hits,
                    relaxed,
                    found.total,
                    found.next_cursor,
                ):
                    raise RuntimeError(f"{name} {query!r}: the hits differ")
                for insert, s in logged.items():
                    if raw_search_app._INSERTS[insert] != (s.sql, list(s.names)):
                        raise RuntimeError(f"the {insert} INSERT differs:\n{s.sql}")
                checked += 1
    finally:
        await conn.close()
        await probe.close()
    return checked


def _normal(body: dict[str, Any]) -> dict[str, Any]:
    out = dict(body)
    out.pop("query_id")
    out.pop("response_time_ms")
    for hit in out["results"]:
        hit["score"] = round(hit["score"], 6)
    return out


def check_same_json(fx: Fixture, workdir: Path, pin: bool) -> int:
    sample = [q for c in (*CLASSES, "question", "half") for q in fx.queries[c][:6]]
    got: dict[str, list[Any]] = {}
    for app in APPS:
        with start(app, fx.url, workdir, fx.secret, pin) as server:
            got[app] = []
            for q in sample:
                status, body = post_search(server.port, q, fx.secret)
                if status != 200:
                    raise RuntimeError(f"{app}: {q!r} answered {status}: {body}")
                got[app].append(_normal(body))
            status, _ = post_search(server.port, "report", None)
            if status != 401:
                raise RuntimeError(f"{app}: no token answered {status}, not 401")
    for q, a, r in zip(sample, got["archivist"], got["raw"], strict=True):
        if a != r:
            raise RuntimeError(f"the apps disagree on {q!r}:\n{a}\n{r}")
    return len(sample)


# --- diagnostics: the statements alone ----------------------------------------------------------


STEPS = ("statistics", "every", "candidates", "page", "python")


def _step(shape: str) -> str:
    kind = shape.split("|")[0]
    if kind in ("statistics", "every"):  # `every`: a question's statistics with its candidates
        return kind
    return "page" if kind.startswith("page") else "candidates"


def parse_caps(text: str | None) -> dict[str, int] | None:
    """`candidate_cap=500,df_cap=300`: bounds to try in place of the app's (`--caps`)."""
    if not text:
        return None
    caps = {k.strip(): int(v) for k, v in (part.split("=") for part in text.split(","))}
    known = (*raw_search_app.CAPS, *raw_search_app.KNOBS)
    unknown = set(caps) - set(known)
    if unknown:
        raise SystemExit(f"--caps: unknown {sorted(unknown)}; known: {known}")
    return caps


@contextlib.contextmanager
def df_cap_in_python(caps: dict[str, int] | None) -> Iterator[None]:
    """`retrieval_split` compares counts with DF_CAP too: while trying another df_cap, this
    process's copy of the constant follows (never while capturing or checking the app)."""
    saved = raw_search_app.scoring.DF_CAP
    if caps and "df_cap" in caps:
        raw_search_app.scoring.DF_CAP = caps["df_cap"]  # type: ignore[misc]
    try:
        yield
    finally:
        raw_search_app.scoring.DF_CAP = saved  # type: ignore[misc]


async def sql_alone(fx: Fixture, n: int, caps: dict[str, int] | None = None) -> dict[str, Any]:
    """The search alone on one asyncpg connection (no HTTP, no logs): the raw app's
    `search_hits` (the app's statements, the index's scoring) per class, timing each
    statement; `python` is the rest (planning, parsing the hits, scores, snippets). p50/p95
    per step and in all, and EXPLAIN (ANALYZE, BUFFERS) of the slowest statement of the
    slowest query of each class. `caps`: other bounds than the app's (`--caps`)."""
    conn = await asyncpg.connect(plain_dsn(fx.url))
    reader = _reader_values(fx.reader)
    step_of = {sql: _step(key) for key, (sql, _) in raw_search_app._STATEMENTS.items()}
    # As the server does once started: without it, full collections of this process's heap
    # (the query lists, the captured statements) put 50-100 ms pauses into a few searches
    # of every class, its p99 (docs/benchmarks.md, sixth pass).
    gc.collect()
    gc.freeze()
    out: dict[str, Any] = {}
    try:
        for name in (*CLASSES, "question", "half"):
            runs: list[tuple[float, str, dict[str, float], list[tuple[str, list[Any], float]]]] = []
            for q in fx.queries[name][:n]:
                logged = _Logged(conn)
                t0 = time.perf_counter()
                await raw_search_app.search_hits(logged, q, reader, LIMIT, caps)
                total = (time.perf_counter() - t0) * 1e3
                steps = dict.fromkeys(STEPS, 0.0)
                for sql, _, ms in logged.sent:
                    steps[step_of[sql]] += ms
                steps["python"] = total - sum(ms for _, _, ms in logged.sent)
                runs.append((total, q, steps, logged.sent))
            slowest = max(runs, key=lambda r: r[0])
            sql, args, _ = max(slowest[3], key=lambda s: s[2])
            plan = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *args)
            totals = [r[0] for r in runs]
            out[name] = {
                "queries": len(runs),
                "p50_ms": round(pct(totals, 50), 2),
                "p95_ms": round(pct(totals, 95), 2),
                "p99_ms": round(pct(totals, 99), 2),
                "max_ms": round(max(totals), 2),
                "steps_p50_p95_ms": {
                    step: [
                        round(pct([r[2][step] for r in runs], 50), 2),
                        round(pct([r[2][step] for r in runs], 95), 2),
                    ]
                    for step in STEPS
                },
                "statements_per_query": round(sum(len(r[3]) for r in runs) / len(runs), 2),
                "slowest": slowest[1],
                "slowest_plan": "\n".join(r[0] for r in plan),
            }
            steps_text = "  ".join(
                f"{step} {v[0]:.1f}/{v[1]:.1f}" for step, v in out[name]["steps_p50_p95_ms"].items()
            )
            print(
                f"  {name:<8} {len(runs):>5} queries  p50 {out[name]['p50_ms']:7.2f}  "
                f"p95 {out[name]['p95_ms']:7.2f}  p99 {out[name]['p99_ms']:7.2f}  "
                f"max {out[name]['max_ms']:7.2f} ms  (p50/p95 ms: {steps_text}; "
                f"slowest {slowest[1]!r})",
                flush=True,
            )
    finally:
        await conn.close()
    return out


def _cpu_ms(pid: int) -> float:
    """CPU time (user + system) of process `pid` so far, in ms."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


async def cpu_per_search(fx: Fixture, n: int) -> dict[str, Any]:
    """CPU time per search, PostgreSQL's backend and this process apart, through the app's
    search repository (its statements, its scoring, its snippets), per class."""
    engine = create_async_engine(fx.url.replace("postgresql://", "postgresql+asyncpg://", 1))
    out: dict[str, Any] = {}
    try:
        async with engine.connect() as conn:
            pid = int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())
            repository = SqlAlchemySearchRepository(conn, Tuning())
            for query in fx.queries["rare"][:20]:  # warm the caches and the statement cache
                await repository.search(fx.reader, parse_query(query), DocumentFilter(), LIMIT)
            gc.collect()
            gc.freeze()  # as the server does once started: the runner's heap is not scanned
            for name in (*CLASSES, "question", "half"):
                queries = fx.queries[name][:n]
                pg0, py0, wall0 = _cpu_ms(pid), time.process_time(), time.perf_counter()
                ranked = 0
                for query in queries:
                    page = await repository.search(
                        fx.reader, parse_query(query), DocumentFilter(), LIMIT
                    )
                    ranked += page.total
                k = len(queries)
                out[name] = {
                    "queries": k,
                    "postgres_cpu_ms": round((_cpu_ms(pid) - pg0) / k, 2),
                    "python_cpu_ms": round((time.process_time() - py0) * 1e3 / k, 2),
                    "wall_ms": round((time.perf_counter() - wall0) * 1e3 / k, 2),
                    "ranked_mean": round(ranked / k, 1),
                }
                r = out[name]
                print(
                    f"  {name:<8} {k:>5} queries  PostgreSQL {r['postgres_cpu_ms']:6.2f} ms  "
                    f"Python {r['python_cpu_ms']:6.2f} ms  wall {r['wall_ms']:6.2f} ms  "
                    f"ranked {r['ranked_mean']:7.1f}",
                    flush=True,
                )
    finally:
        await engine.dispose()
    return out


UNBOUNDED = dict.fromkeys(raw_search_app.CAPS, 10**9)


async def quality(fx: Fixture, n: int, bounds: dict[str, int] | None = None) -> dict[str, Any]:
    """What the bounds cost in results: per class, the top 10 under the bounds (CANDIDATE_CAP,
    PHRASE_POOL_CAP, DF_CAP, N_CAP: the constants of the app's statements) against the exact
    top 10 (the same statements and scoring with every bound lifted: exact statistics, every
    readable match ranked), on `n` queries. Counts queries with the same top 10, the mean
    share of the exact top 10 found, and queries answered with nothing although the exact
    search finds something. `bounds`: other bounds than the app's (`--caps`)."""
    conn = await asyncpg.connect(plain_dsn(fx.url))
    reader = _reader_values(fx.reader)
    caps: dict[str, Any] = {}
    for _, plan in raw_search_app._STATEMENTS.values():
        for role, value in plan:
            if role == "const" and value[0] in raw_search_app.CAPS:
                caps[value[0]] = value[1]
    caps |= bounds or {}
    out: dict[str, Any] = {"caps": caps}
    try:
        for name in (*CLASSES, "question", "half"):
            same = lost = found = 0
            shares: list[float] = []
            for text in fx.queries[name][:n]:
                got, _ = await raw_search_app.search_hits(conn, text, reader, LIMIT, bounds)
                exact, _ = await raw_search_app.search_hits(conn, text, reader, LIMIT, UNBOUNDED)
                got_ids = [h["document_id"] for h in got.hits]
                exact_ids = [h["document_id"] for h in exact.hits]
                same += got_ids == exact_ids
                if exact_ids:
                    found += 1
                    lost += not got_ids
                    shares.append(len(set(got_ids) & set(exact_ids)) / len(exact_ids))
            k = len(fx.queries[name][:n])
            out[name] = {
                "queries": k,
                "same_top10": same,
                "exact_nonempty": found,
                "empty_but_exact_found": lost,
                "mean_share_of_exact_top10": round(sum(shares) / len(shares), 3)
                if shares
                else None,
            }
            print(
                f"  {name:<8} {k:>4} queries: same top 10 {same}/{k}; of {found} with exact "
                f"hits, {lost} answered empty; mean share of the exact top 10 "
                f"{out[name]['mean_share_of_exact_top10']}",
                flush=True,
            )
    finally:
        await conn.close()
    return out


# --- the parts ----------------------------------------------------------------------------------


def _fmt(w: Wrk) -> str:
    return (
        f"{w.requests_per_s:8,.1f} req/s  p50 {w.p50_ms:7.2f}  p95 {w.p95_ms:7.2f}  "
        f"p99 {w.p99_ms:7.2f}  max {w.max_ms:7.2f} ms  {w.requests:>6} requests  {w.errors} errors"
    )


def latency_runs(
    fx: Fixture,
    workdir: Path,
    args: argparse.Namespace,
    pin: bool,
    plan: list[tuple[str, list[str], int]],
    app: str = "archivist",
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with start(app, fx.url, workdir, fx.secret, pin) as server:
        warm = write_bodies(workdir, "warm", mix(fx.queries, args.seed + 1))
        if args.warmup:
            wrk_bodies(server.port, warm, fx.secret, args.warmup, 4, pin)
        for name, queries, connections in plan:
            bodies = write_bodies(workdir, name, queries)
            w = wrk_bodies(server.port, bodies, fx.secret, args.latency_duration, connections, pin)
            key = f"{name}@c{connections}"
            out[key] = asdict(w) | {"distinct_queries": len(queries)}
            print(f"  {key:<12} {app:<9} {_fmt(w)}", flush=True)
    return out


def part_a(fx: Fixture, workdir: Path, args: argparse.Namespace, pin: bool) -> dict[str, Any]:
    print(
        "\na. latency through HTTP, Archivist (target p95 <= 50 ms; question <= 100 ms)",
        flush=True,
    )
    conns = [int(c) for c in args.latency_connections.split(",")]
    plan = [(c, fx.queries[c], conns[0]) for c in (*CLASSES, "question")]
    plan += [("mix", mix(fx.queries, args.seed), c) for c in sorted({*conns, 8})]
    out = latency_runs(fx, workdir, args, pin, plan)
    for key, w in out.items():
        w["target_p95_ms"] = 100.0 if key.startswith("question") else 50.0
        w["meets_target"] = w["p95_ms"] <= w["target_p95_ms"]
    if args.raw_latency:
        print("  the same runs against the raw app (for comparison)", flush=True)
        out["raw"] = latency_runs(fx, workdir, args, pin, plan, app="raw")
    return out


def part_b(fx: Fixture, workdir: Path, args: argparse.Namespace, pin: bool) -> dict[str, Any]:
    print("\nb. a word in about half the corpus (target p95 <= 300 ms, no error)", flush=True)
    words = fx.queries["half"]
    if not words:
        raise RuntimeError("no word matches 40-60 % of the documents")
    print(f"  words: {', '.join(words)}", flush=True)
    out = latency_runs(fx, workdir, args, pin, [("half", words, 1), ("half", words, 8)])
    for w in out.values():
        w["errors"] = w["non_2xx"] + w["socket_errors"] + w["timeouts"]
        w["meets_target"] = w["p95_ms"] <= 300.0 and w["errors"] == 0
    return out


@dataclass(frozen=True, slots=True)
class Round:
    app: str
    round: int
    wrk: Wrk
    app_cpu_us_per_request: float | None


def part_c(fx: Fixture, workdir: Path, args: argparse.Namespace, pin: bool) -> dict[str, Any]:
    print(
        f"\nc. throughput, the mix, {args.connections} connections, {args.rounds} rounds "
        f"of {args.duration} s (target ratio >= 0.6)",
        flush=True,
    )
    bodies = write_bodies(workdir, "mix", mix(fx.queries, args.seed))
    runs: list[Round] = []
    for round_no, app in alternating(list(APPS), args.rounds):
        with start(app, fx.url, workdir, fx.secret, pin) as server:
            if args.warmup:
                wrk_bodies(server.port, bodies, fx.secret, args.warmup, args.connections, pin)
            before = cpu_ticks(server.proc.pid)
            w = wrk_bodies(server.port, bodies, fx.secret, args.duration, args.connections, pin)
            after = cpu_ticks(server.proc.pid)
        cpu_s = cpu_seconds_per(before, after, w.requests)
        cpu = cpu_s * 1e6 if cpu_s is not None else None
        runs.append(Round(app, round_no, w, cpu))
        cpu_text = f"  app CPU {cpu:6.0f} µs/req" if cpu is not None else ""
        print(f"  round {round_no} {app:<9} {_fmt(w)}{cpu_text}", flush=True)
    summary: dict[str, Any] = {"runs": [asdict(r) for r in runs]}
    for app in APPS:
        mine = [r for r in runs if r.app == app]
        cpus = [r.app_cpu_us_per_request for r in mine if r.app_cpu_us_per_request]
        summary[app] = {
            "requests_per_s": statistics.median(r.wrk.requests_per_s for r in mine),
            "rounds_requests_per_s": [r.wrk.requests_per_s for r in mine],
            "p50_ms": statistics.median(r.wrk.p50_ms for r in mine),
            "p99_ms": statistics.median(r.wrk.p99_ms for r in mine),
            "app_cpu_us_per_request": statistics.median(cpus) if cpus else None,
            "errors": sum(r.wrk.errors for r in mine),
        }
    ratio = summary["archivist"]["requests_per_s"] / summary["raw"]["requests_per_s"]
    summary["ratio"] = ratio
    summary["meets_ratio_0_6"] = ratio >= 0.6
    print(
        f"  median: archivist {summary['archivist']['requests_per_s']:,.1f} req/s, raw "
        f"{summary['raw']['requests_per_s']:,.1f} req/s, ratio {ratio:.2f}",
        flush=True,
    )
    return summary


# --- main ---------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--parts", default="a,b,c", help="any of a,b,c,sql,cpu,quality")
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help=f"keep the database in {KEEP_DIR}")
    parser.add_argument("--data-dir", type=Path, help="keep the database here (implies --keep)")
    parser.add_argument("--per-class", type=int, default=3000, help="distinct queries per class")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--latency-duration", type=int, default=12, help="seconds per class")
    parser.add_argument("--latency-connections", default="1")
    parser.add_argument("--raw-latency", action="store_true", help="a. for the raw app too")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=15, help="seconds of wrk per run (c)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--sql-samples", type=int, default=300, help="per class, diagnostics")
    parser.add_argument("--quality-samples", type=int, default=100, help="per class (quality)")
    parser.add_argument(
        "--caps",
        help="sql, quality: other bounds, e.g. candidate_cap=500,df_cap=300,n_cap=5000",
    )
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    caps = parse_caps(args.caps)
    if not require_wrk():
        return 2
    pin = can_pin()
    print(f"code under test: {Path(infrastructure.__file__).parent.parent}", flush=True)

    workdir = make_workdir("archivist-bench-search-")
    keep = args.keep or args.data_dir is not None
    pgdata = (args.data_dir or KEEP_DIR) if keep else workdir / "pgdata"
    url = start_database(pgdata, pin=pin, keep=keep)
    upgrade(url)
    started = time.monotonic()
    count = asyncio.run(_count(url))
    if count == 0:
        print(f"generating {args.documents:,} documents…", flush=True)
        gen_documents.print_report(asyncio.run(gen_documents.generate(url, args.documents)))
    else:
        print(f"reusing the {count:,} documents already in the database", flush=True)
    reader, secret = asyncio.run(_reader_and_token(url))
    queries, stats = asyncio.run(build_queries(url, args.per_class, args.seed))
    fx = Fixture(url, secret, reader, stats["documents"], queries, stats)
    print(f"queries: {json.dumps(stats, ensure_ascii=False)}", flush=True)
    print(
        f"  e.g. {', '.join(repr(queries[c][0]) for c in (*CLASSES, 'question', 'half'))}",
        flush=True,
    )
    atexit.register(RENDERED_SQL.unlink, missing_ok=True)
    shapes = asyncio.run(capture_statements(fx, RENDERED_SQL))
    raw_search_app.load_rendered(str(RENDERED_SQL))
    print(f"captured the app's statements: {shapes} shapes", flush=True)
    checked = asyncio.run(check_same_sql(fx))
    print(
        f"the raw app sends the app's SQL and parameters and finds the same hits for {checked} "
        "queries (search statements + 3 INSERTs)",
        flush=True,
    )
    print(f"both apps answer the same JSON for {check_same_json(fx, workdir, pin)} queries")

    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "args": {k: str(v) for k, v in vars(args).items()},
        "corpus": stats,
    }
    steps = (
        ("sql", None),
        ("cpu", None),
        ("quality", None),
        ("a", part_a),
        ("b", part_b),
        ("c", part_c),
    )
    for name, fn in steps:
        if name not in parts:
            continue
        try:
            if fn is None and name == "quality":
                print("\nresults under the caps against exact results (asyncpg)")
                with df_cap_in_python(caps):
                    results[name] = asyncio.run(quality(fx, args.quality_samples, caps))
            elif fn is None and name == "cpu":
                print("\nCPU per search (the app's repository, one connection, no HTTP)")
                results[name] = asyncio.run(cpu_per_search(fx, args.sql_samples))
            elif fn is None:
                print("\nthe search statements alone (asyncpg, one connection, no logs)")
                with df_cap_in_python(caps):
                    results[name] = asyncio.run(sql_alone(fx, args.sql_samples, caps))
            else:
                results[name] = fn(fx, workdir, args, pin)
        except Exception as err:  # report the rest even if one part fails
            print(f"  part {name} failed: {err}", flush=True)
            results[name] = {"error": str(err)}
    print(f"\nall parts took {time.monotonic() - started:.0f} s")
    write_results("search", results, ensure_ascii=False)
    print("BENCH_SEARCH_JSON " + json.dumps(_machine(results), default=str, ensure_ascii=False))
    return 0


def _machine(results: dict[str, Any]) -> dict[str, Any]:
    """The figures, without plans and per-round detail."""
    out: dict[str, Any] = {"date": results["date"]}
    keys = ("requests_per_s", "p50_ms", "p95_ms", "p99_ms", "max_ms", "requests")
    for part in ("a", "b"):
        if part in results and "error" not in results[part]:
            out[part] = {
                k: {f: v[f] for f in (*keys, "non_2xx", "socket_errors", "timeouts")}
                for k, v in results[part].items()
                if k != "raw"
            }
            if "raw" in results[part]:
                out[part]["raw"] = {
                    k: {f: v[f] for f in keys} for k, v in results[part]["raw"].items()
                }
    if "c" in results and "error" not in results["c"]:
        c = results["c"]
        out["c"] = {app: c[app] for app in APPS} | {"ratio": c["ratio"]}
    if "sql" in results and "error" not in results["sql"]:
        out["sql"] = {
            k: {f: v[f] for f in ("p50_ms", "p95_ms", "p99_ms", "max_ms")}
            for k, v in results["sql"].items()
        }
    return out


async def _count(url: str) -> int:
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        return int(await conn.fetchval("SELECT count(*) FROM documents"))
    finally:
        await conn.close()


if __name__ == "__main__":
    raise SystemExit(main())
