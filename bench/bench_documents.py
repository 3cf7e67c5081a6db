"""Documents (issue #3) and taxonomy (issue #4) benchmarks, as a level-1 Engineering member.

Run by hand from the project root:

    .venv/bin/python bench/bench_documents.py [--keep] [--parts a,b,c,d]

A throwaway embedded PostgreSQL (unless BENCH_DATABASE_URL is set; with `--keep`, a persistent
one in `bench/results/pgdata-documents`, generated once and reused, so later runs start in
seconds), migrated and filled by `gen_documents.py` (100,000 documents unless `--documents`).
The reader is the generator's `reader@gen.bench.example` (L1, Engineering, ~300 grants); its
token is issued through the application. Apps run under uvicorn (uvloop, httptools, one worker,
no access log) pinned to CPU 0; wrk, PostgreSQL and this runner on CPU 1 (as `bench_me.py`).

a. `GET /api/v1/documents/{id}`: Archivist against `raw_document_app.py` (bare Litestar + raw
   asyncpg doing the same SQL in one transaction), rotating over 5,000 readable ids (wrk Lua);
   rounds alternated, medians, ratio (target >= 0.5), app CPU per request.
b. `GET /api/v1/documents?limit=50&tag=<t>&category=<c>` rotating over every tag x category
   pair: p50/p95/p99 with 1 connection (service time; target p95 <= 30 ms) and with 8.
c. 1,000 small text files through `POST /api/v1/documents` (multipart; wrk Lua, 8
   connections): files/s and p50/p95/p99 per upload.
d. Taxonomy, in process (this runner moves itself to CPU 0 for it): `TaxonomyService.resolve`
   cold (cache cleared before each call) and warm, p50/p95/p99, over random existing paths;
   the resolver's own cached lookup; the cache hit ratio for a Zipf mix of paths with the
   default 10,000-entry cache; subtree listing (`DocumentReads.list_documents` with
   `DocumentFilter(taxonomy_path=...)`) over subtrees of every size, and the same through
   `GET /api/v1/documents?taxonomy=A/B` when the route accepts it (checked in the OpenAPI
   document; otherwise only in process, and it says so).

To measure a modified copy of the code, put its `src` first: `PYTHONPATH=/tmp/copy/src`
(the runner and the app subprocesses import from there; the first line printed says which).
Raw figures go to bench/results/ (not versioned).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg

import infrastructure
from application.context import RequestContext
from application.taxonomy import TaxonomyResolver
from domain.document_ports import DocumentFilter, DocumentSort
from domain.pagination import PageRequest
from infrastructure.config import AppSettings
from infrastructure.container import build_container, shutdown_container
from infrastructure.sqlalchemy.migrations import upgrade

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen_documents
from harness import (
    APP_CPU,
    DONE_LUA,
    LOAD_CPU,
    RESULTS_DIR,
    Server,
    Wrk,
    alternating,
    can_pin,
    child_env,
    cpu_seconds_per,
    cpu_ticks,
    db_sessions,
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

KEEP_DIR = RESULTS_DIR / "pgdata-documents"
APPS: dict[str, str] = {
    "archivist": "archivist_me_app:create_app",  # built exactly as `archivist serve` builds it
    "raw": "raw_document_app:create_app",
}

_ROTATE_LUA = """
local paths = {%s}
local counter = 0
setup = function(thread)
  counter = counter + 1
  thread:set("tid", counter)
end
init = function(args)
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
end
request = function()
  return wrk.format("GET", paths[math.random(#paths)], {["Authorization"] = "Bearer %s"})
end
"""


# --- wrk ----------------------------------------------------------------------------------------


def wrk_script(
    port: int, script: Path, duration_s: int, connections: int, pin: bool, threads: int = 2
) -> Wrk:
    return parse_wrk(
        run_wrk(port, "/", duration_s, connections, pin, threads=threads, script=script)
    )


def rotate_script(workdir: Path, name: str, paths: Sequence[str], secret: str) -> Path:
    literal = ",".join(json.dumps(p, ensure_ascii=False) for p in paths)
    script = workdir / f"{name}.lua"
    script.write_text(_ROTATE_LUA % (literal, secret) + DONE_LUA)
    return script


# --- HTTP helpers -------------------------------------------------------------------------------


def start(app: str, url: str, workdir: Path, pin: bool, secret: str, path: str) -> Server:
    """`app` under uvicorn, answering 200 to `GET path` with the reader's token."""
    return serve(APPS[app], child_env(app, url), workdir, pin, secret, path)


def operations(port: int) -> dict[str, Any]:
    """operationId -> operation, from the app's OpenAPI document."""
    status, _, doc = http_request(port, "GET", "/schema/openapi.json", None)
    if status != 200:
        return {}
    out = {}
    for methods in doc.get("paths", {}).values():
        for op in methods.values():
            if isinstance(op, dict) and "operationId" in op:
                out[op["operationId"]] = op
    return out


def has_taxonomy_filter(ops: dict[str, Any]) -> bool:
    params = ops.get("listDocuments", {}).get("parameters", [])
    return any(p.get("name") == "taxonomy" for p in params)


# --- the database -------------------------------------------------------------------------------


@dataclass
class Fixture:
    url: str
    secret: str
    reader_id: uuid.UUID
    readable_ids: list[uuid.UUID]
    unreadable_id: uuid.UUID
    tags: list[str]
    categories: list[str]
    documents: int


async def prepare(url: str, n_documents: int) -> Fixture:
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        count = await conn.fetchval("SELECT count(*) FROM documents")
    finally:
        await conn.close()
    if count == 0:
        print(f"generating {n_documents:,} documents…", flush=True)
        gen_documents.print_report(await gen_documents.generate(url, n_documents))
    else:
        print(f"reusing the {count:,} documents already in the database", flush=True)
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        reader = await conn.fetchrow(
            "SELECT id, access_level, department FROM users WHERE email = $1",
            gen_documents.READER_EMAIL,
        )
        readable = "deleted_at IS NULL AND (owner_id = $1 OR EXISTS (SELECT 1 FROM permissions p "
        readable += "WHERE p.document_id = documents.id AND p.user_id = $1) OR (access_level <= 1 "
        readable += "AND (department IS NULL OR department = 'Engineering')))"
        ids = [
            r[0]
            for r in await conn.fetch(
                f"SELECT id FROM documents WHERE {readable} ORDER BY random() LIMIT 5000",
                reader["id"],
            )
        ]
        hidden = await conn.fetchval(
            f"SELECT id FROM documents WHERE NOT ({readable}) LIMIT 1", reader["id"]
        )
        tags = [r[0] for r in await conn.fetch("SELECT name FROM tags ORDER BY name")]
        cats = [r[0] for r in await conn.fetch("SELECT name FROM categories ORDER BY name")]
        total = await conn.fetchval("SELECT count(*) FROM documents")
    finally:
        await conn.close()
    secret = await issue_token(url, reader["id"], f"bench-{uuid.uuid4().hex[:8]}")
    return Fixture(url, secret, reader["id"], ids, hidden, tags, cats, total)


# --- a. GET one document ------------------------------------------------------------------------


def _normal(body: dict[str, Any]) -> dict[str, Any]:
    out = dict(body)
    for key in ("created_at", "updated_at", "deleted_at"):
        if out.get(key):
            out[key] = datetime.fromisoformat(out[key])
    return out


def check_get_same(fx: Fixture, workdir: Path, pin: bool) -> None:
    """Both apps answer the same JSON and ETag, and 404 for an unreadable document."""
    sample = fx.readable_ids[:20]
    bodies: dict[str, list[Any]] = {}
    for app in APPS:
        with start(
            app, fx.url, workdir, pin, fx.secret, f"/api/v1/documents/{sample[0]}"
        ) as server:
            got = []
            for doc_id in sample:
                status, headers, body = http_request(
                    server.port, "GET", f"/api/v1/documents/{doc_id}", fx.secret
                )
                etag = {k.lower(): v for k, v in headers.items()}.get("etag")
                got.append((status, etag, _normal(body)))
            status, _, _ = http_request(
                server.port, "GET", f"/api/v1/documents/{fx.unreadable_id}", fx.secret
            )
            if status != 404:
                raise RuntimeError(f"{app}: an unreadable document answered {status}, not 404")
            bodies[app] = got
    for a, r in zip(bodies["archivist"], bodies["raw"], strict=True):
        if a != r:
            raise RuntimeError(f"the apps disagree:\n{a}\n{r}")
    print(f"  both apps give the same JSON and ETag for {len(sample)} documents, 404 when hidden")


@dataclass(frozen=True, slots=True)
class GetRun:
    app: str
    round: int
    wrk: Wrk
    app_cpu_us_per_request: float | None
    db_sessions: int


def part_a(fx: Fixture, workdir: Path, args: argparse.Namespace, pin: bool) -> dict[str, Any]:
    print("\n## a. GET /api/v1/documents/{id}", flush=True)
    check_get_same(fx, workdir, pin)
    paths = [f"/api/v1/documents/{i}" for i in fx.readable_ids]
    script = rotate_script(workdir, "get", paths, fx.secret)
    runs: list[GetRun] = []
    for round_no, app in alternating(list(APPS), args.rounds):
        before_sessions = db_sessions(fx.url)
        with start(app, fx.url, workdir, pin, fx.secret, paths[0]) as server:
            if args.warmup:
                wrk_script(server.port, script, args.warmup, args.connections, pin)
            before = cpu_ticks(server.proc.pid)
            result = wrk_script(server.port, script, args.duration, args.connections, pin)
            after = cpu_ticks(server.proc.pid)
        sessions = db_sessions(fx.url) - before_sessions - 1
        if result.errors:
            raise RuntimeError(
                f"{app}: {result.non_2xx} non-2xx, {result.socket_errors + result.timeouts} errors"
            )
        cpu_s = cpu_seconds_per(before, after, result.requests)
        cpu = cpu_s * 1e6 if cpu_s is not None else None
        runs.append(GetRun(app, round_no, result, cpu, sessions))
        print(
            f"  round {round_no} {app:<9} {result.requests_per_s:>7,.0f} req/s  "
            f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms  "
            f"app CPU {cpu or 0:5.0f} µs/req  {sessions} PG sessions",
            flush=True,
        )
    summary: dict[str, Any] = {}
    print(
        "\n| app | "
        + " | ".join(f"round {n} req/s" for n in range(1, args.rounds + 1))
        + " | median req/s | median p50 ms | median p99 ms | median app CPU µs/req |"
    )
    print("|---|" + "---|" * (args.rounds + 4))
    for app in APPS:
        mine = [r for r in runs if r.app == app]
        cpus = [r.app_cpu_us_per_request for r in mine if r.app_cpu_us_per_request]
        s = {
            "requests_per_s": statistics.median(r.wrk.requests_per_s for r in mine),
            "p50_ms": statistics.median(r.wrk.p50_ms for r in mine),
            "p99_ms": statistics.median(r.wrk.p99_ms for r in mine),
            "app_cpu_us_per_request": statistics.median(cpus) if cpus else None,
        }
        summary[app] = s
        print(
            f"| {app} | "
            + " | ".join(f"{r.wrk.requests_per_s:,.0f}" for r in mine)
            + f" | {s['requests_per_s']:,.0f} | {s['p50_ms']:.2f} | {s['p99_ms']:.2f} "
            f"| {s['app_cpu_us_per_request'] or 0:.0f} |"
        )
    ratio = summary["archivist"]["requests_per_s"] / summary["raw"]["requests_per_s"]
    summary["ratio"] = ratio
    ca, cr = (
        summary["archivist"]["app_cpu_us_per_request"],
        summary["raw"]["app_cpu_us_per_request"],
    )
    summary["cpu_ratio"] = cr / ca if ca and cr else None
    print(
        f"\nratio archivist/raw (median req/s): {ratio:.2f} (target >= 0.5: "
        f"{'met' if ratio >= 0.5 else 'NOT met'})"
        + (f"; raw/archivist app CPU per request: {summary['cpu_ratio']:.2f}" if ca and cr else "")
    )
    summary["runs"] = [asdict(r) for r in runs]
    return summary


# --- b. list with tag and category --------------------------------------------------------------


def part_b(fx: Fixture, workdir: Path, args: argparse.Namespace, pin: bool) -> dict[str, Any]:
    print("\n## b. GET /api/v1/documents?limit=50&tag=<t>&category=<c>", flush=True)
    paths = [
        f"/api/v1/documents?limit=50&tag={quote(t)}&category={quote(c)}"
        for t in fx.tags
        for c in fx.categories
    ]
    random.Random(7).shuffle(paths)
    script = rotate_script(workdir, "list", paths, fx.secret)
    out: dict[str, Any] = {"pairs": len(paths)}
    with start("archivist", fx.url, workdir, pin, fx.secret, paths[0]) as server:
        sizes = []
        for p in paths[:40]:
            status, _, body = http_request(server.port, "GET", p, fx.secret)
            if status != 200:
                raise RuntimeError(f"GET {p} answered {status}: {body}")
            sizes.append(len(body["items"]))
        out["items_per_page_sample"] = {
            "full pages (50)": sum(1 for s in sizes if s == 50),
            "partial": sum(1 for s in sizes if 0 < s < 50),
            "empty": sum(1 for s in sizes if s == 0),
        }
        print(
            f"  {len(paths)} tag x category pairs; first 40 pages: {out['items_per_page_sample']}"
        )
        # Steady state: every pair once (a running service has its hot pages cached; the
        # server starts cold with each benchmark run), then the usual wrk warm-up.
        started = time.monotonic()
        for p in paths[40:]:
            http_request(server.port, "GET", p, fx.secret)
        out["first_pass_s"] = round(time.monotonic() - started, 1)
        if args.warmup:
            wrk_script(server.port, script, args.warmup, 4, pin)
        for connections in (1, 8):
            result = wrk_script(server.port, script, args.duration, connections, pin, threads=1)
            out[f"c{connections}"] = asdict(result)
            print(
                f"  {connections} connection(s): {result.requests_per_s:,.0f} req/s  "
                f"p50 {result.p50_ms:.1f} ms  p95 {result.p95_ms:.1f} ms  "
                f"p99 {result.p99_ms:.1f} ms"
                f"  max {result.max_ms:.0f} ms  ({result.requests:,} requests, "
                f"{result.non_2xx} non-2xx)",
                flush=True,
            )
    p95 = out["c1"]["p95_ms"]
    print(
        f"  target p95 <= 30 ms (1 connection): {'met' if p95 <= 30 else 'NOT met'} ({p95:.1f} ms)"
    )
    return out


# --- c. uploads ---------------------------------------------------------------------------------


async def _uploads(
    port: int, fx: Fixture, total: int, connections: int
) -> tuple[list[float], list[int], float]:
    """`total` multipart uploads over `connections` keep-alive connections (httpx): each
    file is a distinct ~1 KB text, with a title, department, category and one tag."""
    import httpx

    stamp = uuid.uuid4().hex[:12]
    rng = random.Random(3)
    filler = " ".join(
        rng.choices(["lorem", "ipsum", "dolor", "archivist", "문서", "보고서"], k=150)
    )
    latencies: list[float] = []
    statuses: list[int] = []
    counter = iter(range(total))
    headers = {"Authorization": f"Bearer {fx.secret}"}

    async def worker(client: httpx.AsyncClient) -> None:
        for i in counter:
            data = {
                "title": f"bench upload {stamp} {i}",
                "department": "Engineering",
                "access_level": "1",
                "category": fx.categories[i % len(fx.categories)],
                "tags": fx.tags[i % 10],
            }
            text = f"upload {stamp} {i}\n{filler}\n".encode()
            files = {"file": (f"bench-{stamp}-{i}.txt", text, "text/plain")}
            t0 = time.perf_counter()
            response = await client.post("/api/v1/documents", data=data, files=files)
            latencies.append(time.perf_counter() - t0)
            statuses.append(response.status_code)
            if response.status_code != 201 and statuses.count(response.status_code) <= 3:
                print(f"  upload {i}: {response.status_code} {response.text[:300]}")

    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers=headers, limits=limits, timeout=60
    ) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(connections)))
        elapsed = time.perf_counter() - started
    return latencies, statuses, elapsed


def part_c(fx: Fixture, workdir: Path, args: argparse.Namespace, pin: bool) -> dict[str, Any]:
    print(
        f"\n## c. POST /api/v1/documents (multipart), {args.uploads:,} small text files", flush=True
    )
    connections = 8
    with start(
        "archivist", fx.url, workdir, pin, fx.secret, f"/api/v1/documents/{fx.readable_ids[0]}"
    ) as server:
        asyncio.run(_uploads(server.port, fx, 20, connections))  # warm-up
        cpu0 = cpu_ticks(server.proc.pid)
        latencies, statuses, elapsed = asyncio.run(
            _uploads(server.port, fx, args.uploads, connections)
        )
        cpu1 = cpu_ticks(server.proc.pid)
    created = statuses.count(201)
    cpu_s = cpu_seconds_per(cpu0, cpu1, created)
    cpu = cpu_s * 1e3 if cpu_s is not None else None
    rate = created / elapsed
    s = summary_ms(latencies)
    print(
        f"  {created:,} of {len(statuses):,} uploads answered 201 in {elapsed:.1f} s: "
        f"{rate:,.0f} files/s with {connections} connections; per upload {fmt(s, 1)}; "
        f"app CPU {cpu or 0:.2f} ms per upload",
        flush=True,
    )
    return {"created": created, "files_per_s": rate, "app_cpu_ms_per_upload": cpu, **s}


# --- d. taxonomy --------------------------------------------------------------------------------


def summary_ms(values: Sequence[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values]
    return {"n": len(ms), "p50_ms": pct(ms, 50), "p95_ms": pct(ms, 95), "p99_ms": pct(ms, 99)}


def fmt(s: dict[str, float], digits: int = 3) -> str:
    return (
        f"p50 {s['p50_ms']:.{digits}f} ms  p95 {s['p95_ms']:.{digits}f} ms  "
        f"p99 {s['p99_ms']:.{digits}f} ms  (n={s['n']:,})"
    )


class _FakeTaxonomy:
    def __init__(self, nodes: dict[tuple[str, tuple[str, ...]], Any]) -> None:
        self._nodes = nodes

    async def node_at(self, version: str, path: tuple[str, ...]) -> Any:
        return self._nodes.get((version, path))

    async def nodes(self, version: str) -> list[Any]:
        return []


class _FakeUow:
    def __init__(self, nodes: dict[tuple[str, tuple[str, ...]], Any]) -> None:
        self.taxonomy = _FakeTaxonomy(nodes)


async def _timed(fn: Callable[[], Any], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        await fn()
        out.append(time.perf_counter() - t0)
    return out


async def taxonomy_in_process(fx: Fixture, args: argparse.Namespace) -> dict[str, Any]:
    from domain.taxonomy import TaxonomyNodeNotFound

    rng = random.Random(11)
    conn = await asyncpg.connect(plain_dsn(fx.url))
    try:
        node_rows = await conn.fetch("SELECT version, canonical_path FROM taxonomy_nodes")
        classified = await conn.fetch("SELECT path FROM doc_taxonomy WHERE version = '2.0.0'")
    finally:
        await conn.close()
    all_keys = [(r["version"], tuple(r["canonical_path"])) for r in node_rows]
    latest = [p for v, p in all_keys if v == "2.0.0"]
    counts: dict[tuple[str, ...], int] = dict.fromkeys((p for p in latest if len(p) <= 3), 0)
    for r in classified:
        path = tuple(r["path"])
        for depth in range(1, min(3, len(path)) + 1):
            counts[path[:depth]] += 1
    settings = AppSettings(_env_file=None, storage="postgres")  # type: ignore[call-arg]
    container = build_container(settings, fx.url)
    out: dict[str, Any] = {}
    try:
        taxonomy = container.taxonomy()
        cache = taxonomy.resolver.cache
        for p in rng.sample(latest, 50):  # warm the pool and the statement caches
            await taxonomy.resolve("/".join(p))
        cache.clear()

        n = args.resolve_samples
        picks = [rng.choice(latest) for _ in range(n)]
        it = iter(picks)

        async def cold() -> None:
            cache.clear()
            await taxonomy.resolve("/".join(next(it)))

        out["resolve_cold_latest"] = summary_ms(await _timed(cold, n))
        it = iter(picks)

        async def cold_v() -> None:
            cache.clear()
            await taxonomy.resolve("/".join(next(it)), "2.0.0")

        out["resolve_cold_explicit_version"] = summary_ms(await _timed(cold_v, n))
        for p in set(picks):
            await taxonomy.resolve("/".join(p))
        it = iter(picks * 2)

        async def warm() -> None:
            await taxonomy.resolve("/".join(next(it)))

        out["resolve_warm_latest"] = summary_ms(await _timed(warm, n))
        it = iter(picks * 2)

        async def warm_v() -> None:
            await taxonomy.resolve("/".join(next(it)), "2.0.0")

        out["resolve_warm_explicit_version"] = summary_ms(await _timed(warm_v, n))
        # The resolver's cached lookup alone (no unit of work, no version query).
        resolver = taxonomy.resolver
        fake = _FakeUow({})
        it = iter(picks * 2)

        async def warm_resolver() -> None:
            await resolver.resolve(fake, "2.0.0", next(it))  # type: ignore[arg-type]

        out["resolver_cached_lookup"] = summary_ms(await _timed(warm_resolver, n))

        # Hit ratio, with the real TaxonomyResolver over an in-memory node table: a Zipf mix
        # (s=1) over every (version, path) of the three versions, 70 % of the traffic on the
        # latest published version, 20 % on the draft, 10 % on 1.0.0; 2 % unknown paths
        # (never cached).
        nodes = {k: object() for k in all_keys}
        by_version: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        for k in all_keys:
            by_version.setdefault(k[0], []).append(k)
        ratios = {}
        for capacity in (10_000, 2_000, 500):
            sim = TaxonomyResolver(capacity)
            srng = random.Random(5)
            cums = {}
            for v, keys in by_version.items():
                srng.shuffle(keys)
                cums[v] = gen_documents.zipf_cum_weights(len(keys), 1.0)
            uow = _FakeUow(nodes)
            total = args.hit_ratio_requests
            for _ in range(total):
                v = srng.choices(("2.0.0", "3.0.0", "1.0.0"), weights=(70, 20, 10))[0]
                key = srng.choices(by_version[v], cum_weights=cums[v])[0]
                path = key[1]
                if srng.random() < 0.02:
                    path = (*path, "no-such-label")
                with contextlib.suppress(TaxonomyNodeNotFound):
                    await sim.resolve(uow, v, path)  # type: ignore[arg-type]
            ratios[capacity] = sim.cache.hit_ratio
        out["hit_ratio"] = ratios
        out["hit_ratio_requests"] = args.hit_ratio_requests

        # Subtree listing through the application layer.
        reader = await container.users().get(RequestContext.system(), fx.reader_id)
        ctx = RequestContext(actor=reader)
        documents = container.document_reads()
        buckets: dict[str, list[tuple[tuple[str, ...], int]]] = {
            "<100": [],
            "100-999": [],
            "1k-9.9k": [],
            ">=10k": [],
        }
        for subtree, docs in counts.items():
            key = (
                "<100"
                if docs < 100
                else "100-999"
                if docs < 1000
                else "1k-9.9k"
                if docs < 10_000
                else ">=10k"
            )
            buckets[key].append((subtree, docs))
        chosen: list[tuple[tuple[str, ...], int]] = []
        for items in buckets.values():
            chosen += rng.sample(items, min(len(items), 60))
        out["subtrees"] = {k: len(v) for k, v in buckets.items()}
        out["subtree_paths"] = chosen
        per_bucket: dict[str, list[float]] = {k: [] for k in buckets}
        timings: list[float] = []
        for _ in range(3):
            rng.shuffle(chosen)
            for path, docs in chosen:
                key = (
                    "<100"
                    if docs < 100
                    else "100-999"
                    if docs < 1000
                    else "1k-9.9k"
                    if docs < 10_000
                    else ">=10k"
                )
                t0 = time.perf_counter()
                await documents.list_documents(
                    ctx,
                    DocumentFilter(taxonomy_path=path),
                    DocumentSort.CREATED_DESC,
                    PageRequest(50, None),
                )
                elapsed = time.perf_counter() - t0
                timings.append(elapsed)
                per_bucket[key].append(elapsed)
        out["subtree_listing_in_process"] = summary_ms(timings)
        out["subtree_listing_in_process_by_size"] = {
            k: summary_ms(v) for k, v in per_bucket.items() if v
        }
    finally:
        await shutdown_container(container)
    return out


def part_d(fx: Fixture, workdir: Path, args: argparse.Namespace, pin: bool) -> dict[str, Any]:
    print("\n## d. taxonomy: path resolution and subtree listing", flush=True)
    if pin:
        os.sched_setaffinity(0, {APP_CPU})
    try:
        out = asyncio.run(taxonomy_in_process(fx, args))
    finally:
        if pin:
            os.sched_setaffinity(0, {LOAD_CPU})
    print(
        "  TaxonomyService.resolve, in process (time.perf_counter), random existing paths of 2.0.0:"
    )
    for key, label, target in (
        ("resolve_cold_latest", "cold, latest version    ", 5.0),
        ("resolve_cold_explicit_version", "cold, version='2.0.0'   ", 5.0),
        ("resolve_warm_latest", "warm, latest version    ", 0.05),
        ("resolve_warm_explicit_version", "warm, version='2.0.0'   ", 0.05),
        ("resolver_cached_lookup", "TaxonomyResolver hit only", 0.05),
    ):
        s = out[key]
        verdict = "met" if s["p95_ms"] <= target else "NOT met"
        print(f"    {label} {fmt(s)}  target p95 <= {target} ms: {verdict}")
    print(
        "  cache hit ratio (Zipf s=1 over all 10,000 paths, 70/20/10 % on 2.0.0/3.0.0/1.0.0, "
        f"2 % unknown, {out['hit_ratio_requests']:,} lookups): "
        + ", ".join(f"{cap:,} entries {ratio:.3f}" for cap, ratio in out["hit_ratio"].items())
    )
    print(f"  subtrees (depth 1-3 of 2.0.0) by documents: {out['subtrees']}")
    print(
        "  subtree listing in process (DocumentReads.list_documents, limit 50): "
        + fmt(out["subtree_listing_in_process"], 1)
    )
    for k, s in out["subtree_listing_in_process_by_size"].items():
        print(f"    {k:>8} documents: {fmt(s, 1)}")

    with start(
        "archivist", fx.url, workdir, pin, fx.secret, f"/api/v1/documents/{fx.readable_ids[0]}"
    ) as server:
        ops = operations(server.port)
        if not has_taxonomy_filter(ops):
            print("  GET /api/v1/documents?taxonomy=… does not exist yet: measured in process only")
            out["http"] = None
            return out
        paths = [
            f"/api/v1/documents?limit=50&taxonomy={quote('/'.join(p))}"
            for p, _ in out["subtree_paths"]
        ]
        status, _, body = http_request(server.port, "GET", paths[0], fx.secret)
        if status != 200:
            raise RuntimeError(f"GET {paths[0]} answered {status}: {body}")
        script = rotate_script(workdir, "subtree", paths, fx.secret)
        if args.warmup:
            wrk_script(server.port, script, args.warmup, 1, pin, threads=1)
        result = wrk_script(server.port, script, args.duration, 1, pin, threads=1)
        out["http"] = asdict(result)
        print(
            f"  GET /api/v1/documents?limit=50&taxonomy=A/B, 1 connection: "
            f"{result.requests_per_s:,.0f} req/s  p50 {result.p50_ms:.1f} ms  "
            f"p95 {result.p95_ms:.1f} ms  p99 {result.p99_ms:.1f} ms  "
            f"target p95 <= 50 ms: {'met' if result.p95_ms <= 50 else 'NOT met'}"
        )
    return out


# --- main ---------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--parts", default="a,b,c,d", help="any of a,b,c,d")
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help=f"keep the database in {KEEP_DIR}")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=15, help="seconds of wrk per run")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--uploads", type=int, default=1000)
    parser.add_argument("--resolve-samples", type=int, default=3000)
    parser.add_argument("--hit-ratio-requests", type=int, default=200_000)
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    if not require_wrk():
        return 2
    pin = can_pin()
    print(f"code under test: {Path(infrastructure.__file__).parent.parent}", flush=True)

    workdir = make_workdir("archivist-bench-docs-")
    url = start_database(KEEP_DIR if args.keep else workdir / "pgdata", pin=pin, keep=args.keep)
    upgrade(url)
    started = time.monotonic()
    fx = asyncio.run(prepare(url, args.documents))
    print(
        f"{fx.documents:,} documents; {len(fx.readable_ids):,} readable ids in rotation; "
        f"app on CPU {APP_CPU}, wrk and PostgreSQL on CPU {LOAD_CPU}",
        flush=True,
    )
    results: dict[str, Any] = {"date": datetime.now(UTC).isoformat(), "args": vars(args)}
    for name, fn in (("a", part_a), ("b", part_b), ("c", part_c), ("d", part_d)):
        if name in parts:
            try:
                results[name] = fn(fx, workdir, args, pin)
            except Exception as err:  # report the rest even if one part fails
                print(f"  part {name} failed: {err}", flush=True)
                results[name] = {"error": str(err)}
    print(f"\nall parts took {time.monotonic() - started:.0f} s")
    write_results("documents", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
