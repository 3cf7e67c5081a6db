"""Full-text search (issue #5, acceptance item 4), as a level-1 Engineering member.

Run by hand from the project root:

    .venv/bin/python bench/bench_search.py --keep [--parts a,b,c]

A throwaway embedded PostgreSQL (unless BENCH_DATABASE_URL is set; with `--keep`, a persistent
one in `bench/results/pgdata-search`, or in `--data-dir DIR`: generated once, reused, so later
runs start in seconds), migrated and filled by `gen_documents.py` (100,000 documents of ~200
words unless `--documents`). The reader is the generator's `reader@gen.bench.example` (L1,
Engineering, a few hundred grants); its token is issued through the application. Apps run
under uvicorn (uvloop, httptools, one worker, no access log) pinned to CPU 0; wrk, PostgreSQL
and this runner on CPU 1 (as `bench_me.py`).

Queries are derived from the corpus itself: `ts_stat` over every document gives each word's
document frequency; sampled document texts give adjacent pairs. Classes (a few thousand
distinct queries each, unless the vocabulary has fewer):
  rare    one word in 50-300 documents
  mid     one word in 1,000-10,000 documents
  two     two words of one sampled document, each in 1,000-40,000 documents: `a b`
  phrase  two adjacent words of a sampled document: `"a b"` (mostly common words)
  prefix  the first 3-5 letters of a word (the app searches the last bare word as a prefix)
  half    one word whose prefix search matches 40-60 % of the documents
Single words are never a prefix of another word of the corpus (so `rare` and `mid` match what
their frequency says, although the app searches them as prefixes too).

a. Latency through HTTP (`POST /api/v1/search`, limit 10) per class and for the mix of the
   first five, each run rotating through its list (`search_rotate.lua`): p50/p95/p99 with
   `--latency-connections` (default 1: service time) and the mix with 8 as well.
   Target p95 <= 50 ms.
b. The `half` class on its own, with 1 and 8 connections: p95 <= 300 ms and no error.
c. Throughput (32 connections, the mix) of Archivist against `raw_search_app.py` (bare
   Litestar + raw asyncpg running the same search statement, then the three log INSERTs in
   one transaction): rounds alternated, medians, ratio (target >= 0.6), app CPU per request.

Before measuring it renders the app's search statement and its three INSERTs with SQLAlchemy
(postgresql+asyncpg dialect) from the code under test, for every query shape, and hands them to
the raw app (BENCH_SEARCH_SQL), checks for 200+ queries that the raw app sends byte for byte
the app's SQL and parameters, and that both apps return the same JSON for 36 queries.
`--raw-latency` runs part a against the raw app too (what the stack adds at low load).
`--parts sql` times the statement alone per class; `--parts quality` compares each class's
top 10 under the caps with the exact top 10 (what the bounds cost in results).
A diagnostic section times the search statement alone (asyncpg, no HTTP, no logs) per class
and EXPLAINs the slowest query of each class.

To measure a modified copy of the code, put its `src` first: `PYTHONPATH=/tmp/copy/src`.
Raw figures go to bench/results/ (not versioned); the last line printed is the JSON summary.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import http.client
import itertools
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.dialects.postgresql import asyncpg as pg_asyncpg

import infrastructure
from application.context import RequestContext
from application.tokens import TokenIssue
from domain.document_ports import DocumentFilter
from domain.search import SearchQueryLog, SearchResponseLog, parse_query
from domain.users import AccessLevel, Role, User
from infrastructure.config import AppSettings
from infrastructure.container import build_container, shutdown_container
from infrastructure.sqlalchemy.embedded import start_embedded
from infrastructure.sqlalchemy.migrations import upgrade
from infrastructure.sqlalchemy.repositories import SqlAlchemyEventRepository
from infrastructure.sqlalchemy.search_repository import SqlAlchemySearchRepository

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen_documents
import raw_search_app
from bench_me import LOAD_CPU, Server, cpu_ticks, pin_postgres, plain_dsn

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
KEEP_DIR = RESULTS_DIR / "pgdata-search"
LUA = BENCH_DIR / "search_rotate.lua"
PATH = "/api/v1/search"
APPS: dict[str, str] = {
    "archivist": "archivist_me_app:create_app",  # built exactly as `archivist serve` builds it
    "raw": "raw_search_app:create_app",
}
CLASSES = ("rare", "mid", "two", "phrase", "prefix")
_SCRUBBED_ENV = ("DATABASE_URL", "BENCH_RAW_DSN", "BENCH_DATABASE_URL")
LIMIT = 10
RENDERED_SQL = Path(tempfile.gettempdir()) / f"archivist-bench-search-sql-{os.getpid()}.json"


# --- wrk ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Wrk:
    requests_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    non_2xx: int
    socket_errors: int
    timeouts: int


def parse_wrk(output: str) -> Wrk:
    found = re.search(r"^BENCH (.+)$", output, re.MULTILINE)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    if found is None or rps is None:
        raise RuntimeError(f"cannot parse wrk output:\n{output}")
    p50, p95, p99, mx, count, _duration, status, sock, timeout = (
        int(x) for x in found.group(1).split()
    )
    return Wrk(
        float(rps.group(1)), p50 / 1e3, p95 / 1e3, p99 / 1e3, mx / 1e3, count, status, sock, timeout
    )


def run_wrk(
    port: int, bodies: Path, secret: str, duration_s: int, connections: int, pin: bool
) -> Wrk:
    cmd = [
        "wrk",
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{duration_s}s",
        "--timeout",
        "30s",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}{PATH}",
        "--",
        str(bodies),
        secret,
    ]
    if pin:
        cmd = ["taskset", "-c", str(LOAD_CPU), *cmd]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=duration_s + 120, check=True)
    return parse_wrk(done.stdout)


def write_bodies(workdir: Path, name: str, queries: Sequence[str]) -> Path:
    path = workdir / f"search-{name}.jsonl"
    lines = (json.dumps({"query": q, "limit": LIMIT}, ensure_ascii=False) for q in queries)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- HTTP ---------------------------------------------------------------------------------------


def post_search(port: int, query: str, secret: str | None) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["Authorization"] = f"Bearer {secret}"
        conn.request("POST", PATH, json.dumps({"query": query, "limit": LIMIT}), headers)
        response = conn.getresponse()
        body = response.read()
        return int(response.status), json.loads(body) if body else None
    finally:
        conn.close()


def child_env(app: str, url: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ARCHIVIST_") and k not in _SCRUBBED_ENV
    }
    if app == "archivist":
        env["DATABASE_URL"] = url
    else:
        env["BENCH_RAW_DSN"] = url
        env[raw_search_app.SQL_ENV] = str(RENDERED_SQL)
    return env


def start(app: str, url: str, workdir: Path, secret: str, pin: bool) -> Server:
    server = Server(APPS[app], child_env(app, url), workdir, pin)
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.proc.poll() is not None:
                raise RuntimeError(f"{app} exited early:\n{server.log_tail()}")
            try:
                status, _ = post_search(server.port, "report", secret)
            except OSError:
                status = None
            if status == 200:
                return server
            if status is not None:
                raise RuntimeError(f"{app}: POST {PATH} answered {status}:\n{server.log_tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(server.log_tail())
            time.sleep(0.2)
    except BaseException:
        server.stop()
        raise


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
    settings = AppSettings(_env_file=None, storage="postgres")  # type: ignore[call-arg]
    container = build_container(settings, url)
    try:
        issued = await container.tokens().issue(
            RequestContext.system(),
            TokenIssue(name=f"bench-search-{uuid.uuid4().hex[:8]}", user_id=reader.id),
        )
    finally:
        await shutdown_container(container)
    return reader, issued.secret


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
        for _ in range(50 * per_class):  # bounded
            if len(two) >= per_class and len(phrase) >= per_class:
                break
            text = rng.choice(texts)
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
        for name in ("two", "phrase", "prefix"):
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
    }
    return queries, stats


def mix(queries: dict[str, list[str]], seed: int) -> list[str]:
    """The five classes interleaved in equal shares (as many of each as the smallest has)."""
    n = min(len(queries[c]) for c in CLASSES)
    out = [q for c in CLASSES for q in queries[c][:n]]
    random.Random(seed).shuffle(out)
    return out


# --- the same SQL -------------------------------------------------------------------------------


class _Capture:
    """A connection that records what it is asked to run: Core statements through
    `execute`, rendered SQL through the driver (`driver_fetch`)."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, Any]] = []
        self.driver_calls: list[tuple[str, list[Any]]] = []

    async def execute(self, stmt: Any, params: Any = None) -> Any:
        self.calls.append((stmt, params))
        return self

    def all(self) -> list[Any]:
        return []

    async def get_raw_connection(self) -> Any:
        return self

    @property
    def driver_connection(self) -> Any:
        return self

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        self.driver_calls.append((sql, list(args)))
        return []


def _compiled(stmt: Any, params: dict[str, Any] | None) -> tuple[str, list[str], list[Any]]:
    """SQL, parameter names and values, as SQLAlchemy sends them through asyncpg."""
    dialect = pg_asyncpg.dialect()
    c = stmt.compile(dialect=dialect, column_keys=list(params) if params else None)
    values = {**c.params, **(params or {})}
    names = list(c.positiontup or [])
    return c.string, names, [values[name] for name in names]


async def _app_statements(
    reader: User, query: str, limit: int
) -> list[tuple[str, list[str], list[Any]]]:
    """The search statement and the three INSERTs the app runs for `query`, compiled."""
    cap = _Capture()
    repo = SqlAlchemySearchRepository(cap)  # type: ignore[arg-type]
    await repo.search(reader, parse_query(query), DocumentFilter(), limit)
    now = datetime.now(UTC)
    q = SearchQueryLog(uuid.uuid4(), reader.id, query, None, {}, now)
    await repo.log(q, SearchResponseLog(uuid.uuid4(), q.id, "", [], 0, 1, now))
    ctx = RequestContext(actor=reader, client_ip="127.0.0.1", user_agent=None)
    await SqlAlchemyEventRepository(cap).add(  # type: ignore[arg-type]
        ctx.event("search.performed", "search", q.id, now, {"result_count": 0})
    )
    compiled = [_compiled(stmt, params) for stmt, params in cap.calls]
    compiled += [(sql, [], args) for sql, args in cap.driver_calls]
    found = []
    for marker in (
        "ts_headline(",
        "INSERT INTO search_queries ",
        "INSERT INTO search_responses ",
        "INSERT INTO events ",
    ):
        hits = [c for c in compiled if marker in c[0]]
        if len(hits) != 1:
            raise RuntimeError(f"expected one statement with {marker!r}, got {len(hits)}")
        found.append(hits[0])
    if len(compiled) != len(found):
        raise RuntimeError(f"the app ran {len(compiled)} statements, expected {len(found)}")
    return found


def _probe_user(level: int, department: str | None) -> User:
    now = datetime.now(UTC)
    return User(
        uuid.uuid4(),
        "p@x.example",
        "P",
        department,
        AccessLevel(level),
        Role.MEMBER,
        True,
        now,
        now,
    )


# Probe queries for every statement shape: the tsquery parts, and whether the query has a
# phrase (and no negation), which the app may search differently.
SHAPES = {
    "web|phrase": '"aaqq bbqq"',
    "web|plain": "aaqq -bbqq",
    "prefix|plain": "ccqq",
    "web+prefix|plain": "aaqq ccqq",
    "web+prefix|phrase": '"aaqq bbqq" ccqq',
}


def render_statements(path: Path) -> None:
    """What SQLAlchemy compiles for the app's search statement, for every shape the raw app
    may meet (the tsquery parts; a reader with or without a department), with each parameter
    either a constant or a role (the query text, the reader, the limit), and the INSERTs;
    written to `path` for `raw_search_app.load_rendered`."""
    search: dict[str, Any] = {}
    inserts: dict[str, Any] = {}
    for key, text in SHAPES.items():
        shape, kind = key.split("|")
        rest, prefix = raw_search_app.split_query(text)
        for dep_a, dep_b, tag in (("DeptA", "DeptB", "department"), (None, None, "none")):
            a, b = _probe_user(2, dep_a), _probe_user(3, dep_b)
            (sql_a, _, pa), *ins = asyncio.run(_app_statements(a, text, 37))
            (sql_b, _, pb), *_ = asyncio.run(_app_statements(b, text, 41))
            if sql_a != sql_b:
                raise RuntimeError("the search statement depends on the reader's level")
            loose = rest.replace('"', " ")
            roles = {rest: "web", f"'{prefix}':*": "prefix", a.id: "reader", 37: "limit"}
            roles |= {loose: "loose"} if loose != rest else {}
            roles |= {2: "level"} | ({dep_a: "department"} if dep_a else {})
            plan: list[tuple[str, Any]] = []
            for va, vb in zip(pa, pb, strict=True):
                if va == vb and not (isinstance(va, str) and va in (rest, loose, f"'{prefix}':*")):
                    plan.append(("const", va))
                elif va in roles:
                    plan.append(("role", roles[va]))
                else:
                    raise RuntimeError(f"cannot tell what parameter {va!r} is")
            search[f"{shape}|{tag}|{kind}"] = (sql_a, plan)
            for name, (sql, names, _) in zip(("query", "response", "event"), ins, strict=True):
                inserts[name] = (sql, names)
    path.write_text(json.dumps({"search": search, "inserts": inserts}, ensure_ascii=False))


def check_same_sql(reader: User, queries: dict[str, list[str]]) -> int:
    """The raw app's statements are what SQLAlchemy compiles for the app's, byte for byte."""
    checked = 0
    for name, qs in queries.items():
        for query in qs[:40]:
            search, *inserts = asyncio.run(_app_statements(reader, query, LIMIT))
            raw = raw_search_app.statement(
                query, reader.id, int(reader.access_level), reader.department, LIMIT
            )
            if raw is None or (raw[0], list(raw[1])) != (search[0], search[2]):
                raise RuntimeError(f"{name} {query!r}: the raw search differs:\n{raw}\n{search}")
            for insert, (sql, names, _) in zip(
                ("query", "response", "event"), inserts, strict=True
            ):
                if (raw_search_app._INSERTS[insert], raw_search_app._INSERT_NAMES[insert]) != (
                    sql,
                    names,
                ):
                    raise RuntimeError(f"the {insert} INSERT differs:\n{sql}")
            checked += 1
    return checked


def _normal(body: dict[str, Any]) -> dict[str, Any]:
    out = dict(body)
    out.pop("query_id")
    out.pop("response_time_ms")
    for hit in out["results"]:
        hit["score"] = round(hit["score"], 6)
    return out


def check_same_json(fx: Fixture, workdir: Path, pin: bool) -> int:
    sample = [q for c in (*CLASSES, "half") for q in fx.queries[c][:6]]
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


# --- diagnostics: the statement alone -----------------------------------------------------------


def pct(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def sql_alone(fx: Fixture, n: int) -> dict[str, Any]:
    """The search statement alone on one asyncpg connection (no HTTP, no logs), per class:
    p50/p95/p99 ms, and EXPLAIN (ANALYZE, BUFFERS) of the slowest query of each class."""
    conn = await asyncpg.connect(plain_dsn(fx.url))
    out: dict[str, Any] = {}
    try:
        for name in (*CLASSES, "half"):
            times: list[tuple[float, str, int]] = []
            for q in fx.queries[name][:n]:
                built = raw_search_app.statement(
                    q, fx.reader.id, int(fx.reader.access_level), fx.reader.department, LIMIT
                )
                assert built is not None
                t0 = time.perf_counter()
                rows = await conn.fetch(built[0], *built[1])
                times.append(((time.perf_counter() - t0) * 1e3, q, len(rows)))
            ms = [t for t, _, _ in times]
            slowest = max(times)
            built = raw_search_app.statement(
                slowest[1], fx.reader.id, int(fx.reader.access_level), fx.reader.department, LIMIT
            )
            assert built is not None
            plan = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + built[0], *built[1])
            out[name] = {
                "queries": len(ms),
                "p50_ms": round(pct(ms, 50), 2),
                "p95_ms": round(pct(ms, 95), 2),
                "p99_ms": round(pct(ms, 99), 2),
                "max_ms": round(max(ms), 2),
                "empty_results": sum(1 for _, _, k in times if k == 0),
                "slowest": slowest[1],
                "slowest_plan": "\n".join(r[0] for r in plan),
            }
            print(
                f"  {name:<7} {len(ms):>5} queries  p50 {out[name]['p50_ms']:7.2f}  "
                f"p95 {out[name]['p95_ms']:7.2f}  p99 {out[name]['p99_ms']:7.2f}  "
                f"max {out[name]['max_ms']:7.2f} ms  ({out[name]['empty_results']} empty; "
                f"slowest {slowest[1]!r})",
                flush=True,
            )
    finally:
        await conn.close()
    return out


async def quality(fx: Fixture, n: int) -> dict[str, Any]:
    """What the bounds cost in results: per class, the app's top 10 (CANDIDATE_CAP,
    PHRASE_POOL_CAP) against the exact top 10 (every readable match ranked), on `n` queries.
    Counts queries with the same top 10, the mean share of the exact top 10 found, and
    queries answered with nothing although the exact search finds something."""
    from domain.search import CANDIDATE_CAP, PHRASE_POOL_CAP
    from infrastructure.sqlalchemy.search_repository import prepared_search_args

    unbounded = (10**9, 10**9)

    async def top10(conn: Any, text: str, caps: tuple[int, int]) -> list[Any]:
        sql, args = prepared_search_args(fx.reader, parse_query(text), LIMIT, caps)
        return [r["id"] for r in await conn.fetch(sql, *args)]

    conn = await asyncpg.connect(plain_dsn(fx.url))
    out: dict[str, Any] = {"caps": [CANDIDATE_CAP, PHRASE_POOL_CAP]}
    try:
        for name in (*CLASSES, "half"):
            same = lost = found = 0
            shares: list[float] = []
            for text in fx.queries[name][:n]:
                got = await top10(conn, text, (CANDIDATE_CAP, PHRASE_POOL_CAP))
                exact = await top10(conn, text, unbounded)
                same += got == exact
                if exact:
                    found += 1
                    lost += not got
                    shares.append(len(set(got) & set(exact)) / len(exact))
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
                f"  {name:<7} {k:>4} queries: same top 10 {same}/{k}; of {found} with exact "
                f"hits, {lost} answered empty; mean share of the exact top 10 "
                f"{out[name]['mean_share_of_exact_top10']}",
                flush=True,
            )
    finally:
        await conn.close()
    return out


# --- the parts ----------------------------------------------------------------------------------


def _fmt(w: Wrk) -> str:
    errors = w.non_2xx + w.socket_errors + w.timeouts
    return (
        f"{w.requests_per_s:8,.1f} req/s  p50 {w.p50_ms:7.2f}  p95 {w.p95_ms:7.2f}  "
        f"p99 {w.p99_ms:7.2f}  max {w.max_ms:7.2f} ms  {w.requests:>6} requests  {errors} errors"
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
            run_wrk(server.port, warm, fx.secret, args.warmup, 4, pin)
        for name, queries, connections in plan:
            bodies = write_bodies(workdir, name, queries)
            w = run_wrk(server.port, bodies, fx.secret, args.latency_duration, connections, pin)
            key = f"{name}@c{connections}"
            out[key] = asdict(w) | {"distinct_queries": len(queries)}
            print(f"  {key:<12} {app:<9} {_fmt(w)}", flush=True)
    return out


def part_a(fx: Fixture, workdir: Path, args: argparse.Namespace, pin: bool) -> dict[str, Any]:
    print("\na. latency through HTTP, Archivist (target p95 <= 50 ms)", flush=True)
    conns = [int(c) for c in args.latency_connections.split(",")]
    plan = [(c, fx.queries[c], conns[0]) for c in CLASSES]
    plan += [("mix", mix(fx.queries, args.seed), c) for c in sorted({*conns, 8})]
    out = latency_runs(fx, workdir, args, pin, plan)
    for w in out.values():
        w["meets_p95_50ms"] = w["p95_ms"] <= 50.0
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
    for round_no in range(1, args.rounds + 1):
        order = list(APPS) if round_no % 2 else list(reversed(APPS))
        for app in order:
            with start(app, fx.url, workdir, fx.secret, pin) as server:
                if args.warmup:
                    run_wrk(server.port, bodies, fx.secret, args.warmup, args.connections, pin)
                before = cpu_ticks(server.proc.pid)
                w = run_wrk(server.port, bodies, fx.secret, args.duration, args.connections, pin)
                after = cpu_ticks(server.proc.pid)
            cpu = None
            if before is not None and after is not None and w.requests:
                cpu = (after - before) / os.sysconf("SC_CLK_TCK") * 1e6 / w.requests
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
            "errors": sum(r.wrk.non_2xx + r.wrk.socket_errors + r.wrk.timeouts for r in mine),
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
    parser.add_argument("--parts", default="a,b,c", help="any of a,b,c,sql,quality")
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
    parser.add_argument("--quality-samples", type=int, default=200, help="per class (quality)")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install -y wrk", file=sys.stderr)
        return 2
    pin = (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None
    print(f"code under test: {Path(infrastructure.__file__).parent.parent}", flush=True)

    workdir = Path(tempfile.mkdtemp(prefix="archivist-bench-search-"))
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    if pin:
        os.sched_setaffinity(0, {LOAD_CPU})
    url = os.environ.get("BENCH_DATABASE_URL")
    keep = args.keep or args.data_dir is not None
    if url is None:
        pgdata = (args.data_dir or KEEP_DIR) if keep else workdir / "pgdata"
        url = start_embedded(pgdata, database="bench", throwaway=not keep)
        if pin:
            pin_postgres(pgdata)
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
    print(f"  e.g. {', '.join(repr(queries[c][0]) for c in (*CLASSES, 'half'))}", flush=True)
    render_statements(RENDERED_SQL)
    atexit.register(RENDERED_SQL.unlink, missing_ok=True)
    raw_search_app.load_rendered(str(RENDERED_SQL))
    checked = check_same_sql(reader, queries)
    print(f"the raw app's SQL equals SQLAlchemy's for {checked} queries (search + 3 INSERTs)")
    print(f"both apps answer the same JSON for {check_same_json(fx, workdir, pin)} queries")

    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "args": {k: str(v) for k, v in vars(args).items()},
        "corpus": stats,
    }
    steps = (("sql", None), ("quality", None), ("a", part_a), ("b", part_b), ("c", part_c))
    for name, fn in steps:
        if name not in parts:
            continue
        try:
            if fn is None and name == "quality":
                print("\nresults under the caps against exact results (asyncpg)")
                results[name] = asyncio.run(quality(fx, args.quality_samples))
            elif fn is None:
                print("\nthe search statement alone (asyncpg, one connection, no logs)")
                results[name] = asyncio.run(sql_alone(fx, args.sql_samples))
            else:
                results[name] = fn(fx, workdir, args, pin)
        except Exception as err:  # report the rest even if one part fails
            print(f"  part {name} failed: {err}", flush=True)
            results[name] = {"error": str(err)}
    print(f"\nall parts took {time.monotonic() - started:.0f} s")
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS_DIR / f"search-{stamp}.json"
    out.write_text(json.dumps(results, indent=2, default=str, ensure_ascii=False))
    print(f"raw figures: {out}")
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
