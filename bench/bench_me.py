"""GET /api/v1/me: Archivist against a bare Litestar + raw asyncpg app (issue #2, item 7).

Run by hand from the project root:

    .venv/bin/python bench/bench_me.py

It starts a throwaway embedded PostgreSQL (unless BENCH_DATABASE_URL is set), migrates it,
creates an admin and its token with the application, then alternates the two apps over a few
rounds: each run starts uvicorn (uvloop, httptools, no access log, one worker) pinned to CPU 0,
waits until it answers, warms it up and loads it with wrk pinned to CPU 1 (PostgreSQL and this
runner are pinned to CPU 1 as well). It prints requests/s, p50 and p99 per run, the medians and
the ratio archivist/raw, and checks that the token's last_used_at was written at most once a
minute. Absolute figures drift ±30% on small machines: compare the ratio from one run.

Two diagnostics come with each run: the app's CPU time per request (user + system time of the
uvicorn process during the measured wrk run, from /proc), which drifts much less than
requests/s, and how many PostgreSQL sessions were opened while the app ran (10 for a pool that
keeps its connections; more means connections are opened and closed under load). The raw
figures go to bench/results/ (not versioned). The server, wrk, CPU and database helpers are
`harness.py`'s, shared with the other benchmarks.

With BENCH_DATABASE_URL the database is migrated and gets one more admin (`bench-…@example.com`)
and token per run; nothing else is changed and nothing is deleted.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg

from harness import (
    APP_CPU,
    LOAD_CPU,
    ME,
    alternating,
    can_pin,
    child_env,
    cpu_seconds_per,
    cpu_ticks,
    create_admin_token,
    db_sessions,
    http_request,
    make_workdir,
    parse_wrk_latency,
    plain_dsn,
    require_wrk,
    run_wrk,
    serve,
    start_database,
    utc_stamp,
    write_results,
)
from infrastructure.sqlalchemy.migrations import upgrade

APPS: dict[str, str] = {
    "archivist": "archivist_me_app:create_app",
    "raw": "raw_me_app:create_app",
}


@dataclass(frozen=True, slots=True)
class RunResult:
    app: str
    round: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    app_cpu_us_per_request: float | None
    db_sessions: int  # PostgreSQL connections opened while the app ran (10 when pooled)


# --- the database -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WriteStats:
    token_updates: int
    user_updates: int
    last_used_at: datetime | None
    last_login_at: datetime | None


async def write_stats(url: str, token_id: uuid.UUID) -> WriteStats:
    """Rows updated in api_tokens and users (cumulative statistics) and the token's stamps."""
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        counts = {
            r["relname"]: r["n_tup_upd"]
            for r in await conn.fetch(
                "SELECT relname, n_tup_upd FROM pg_stat_user_tables "
                "WHERE relname IN ('api_tokens', 'users')"
            )
        }
        row = await conn.fetchrow(
            "SELECT t.last_used_at, u.last_login_at FROM api_tokens t "
            "JOIN users u ON u.id = t.user_id WHERE t.id = $1",
            token_id,
        )
    finally:
        await conn.close()
    assert row is not None
    return WriteStats(counts.get("api_tokens", 0), counts.get("users", 0), row[0], row[1])


def stable_write_stats(url: str, token_id: uuid.UUID) -> WriteStats:
    """Statistics are flushed by backends lazily (at most once a second, and at exit)."""
    time.sleep(1.5)
    return asyncio.run(write_stats(url, token_id))


# --- the benchmark ------------------------------------------------------------------------------


def wrk(port: int, secret: str, duration_s: int, connections: int, pin: bool) -> str:
    """`wrk --latency` on GET /me with the token (no script: the Lua calls cost wrk CPU)."""
    return run_wrk(
        port, ME, duration_s, connections, pin, secret=secret, latency=True, timeout=None
    )


def one_run(
    app: str,
    round_no: int,
    url: str,
    secret: str,
    workdir: Path,
    args: argparse.Namespace,
    pin: bool,
) -> RunResult:
    sessions_before = db_sessions(url)
    with serve(APPS[app], child_env(app, url), workdir, pin, secret) as server:
        if args.warmup > 0:
            wrk(server.port, secret, args.warmup, args.connections, pin)
        before = cpu_ticks(server.proc.pid)
        output = wrk(server.port, secret, args.duration, args.connections, pin)
        after = cpu_ticks(server.proc.pid)
        status, _, _ = http_request(server.port, "GET", ME, None, timeout=5)
        if status != 401:
            raise RuntimeError(f"{app}: GET {ME} without a token answered {status}")
    sessions = db_sessions(url) - sessions_before - 1  # less the connection that counted
    rps, p50, p99, count = parse_wrk_latency(output)
    cpu_s = cpu_seconds_per(before, after, count)
    cpu_us = cpu_s * 1e6 if cpu_s is not None else None
    result = RunResult(app, round_no, rps, p50, p99, count, cpu_us, sessions)
    print(
        f"  round {round_no} {app:<9} {rps:>9,.0f} req/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms"
        + (f"  app CPU {cpu_us:5.0f} µs/req" if cpu_us is not None else "")
        + f"  {sessions} PostgreSQL sessions opened",
        flush=True,
    )
    return result


def check_same_body(url: str, secret: str, workdir: Path, pin: bool) -> None:
    """Both apps answer the same JSON, and 401 to a missing or unknown token.

    `last_login_at` is left out: Archivist's first request writes it after reading the user."""
    bodies = {}
    for app in APPS:
        with serve(APPS[app], child_env(app, url), workdir, pin, secret) as server:
            _, _, body = http_request(server.port, "GET", ME, secret, timeout=5)
            body.pop("last_login_at")
            bodies[app] = body
            for bad in (None, "arv_" + "x" * 40):
                status, _, _ = http_request(server.port, "GET", ME, bad, timeout=5)
                if status != 401:
                    raise RuntimeError(f"{app}: a bad token answered {status}, not 401")
    if bodies["archivist"] != bodies["raw"]:
        raise RuntimeError(f"the apps disagree:\n{bodies['archivist']}\n{bodies['raw']}")


def median(results: list[RunResult], app: str, field: str) -> float:
    return statistics.median(getattr(r, field) for r in results if r.app == app)


def report(results: list[RunResult]) -> dict[str, Any]:
    rounds = sorted({r.round for r in results})
    print()
    print(
        "| app | " + " | ".join(f"round {n} req/s" for n in rounds) + " | median req/s "
        "| median p50 ms | median p99 ms | median app CPU µs/req | median DB sessions/run |"
    )
    print("|---|" + "---|" * (len(rounds) + 5))
    summary: dict[str, Any] = {}
    for app in APPS:
        per_round = [r for r in results if r.app == app]
        cpu = [r.app_cpu_us_per_request for r in per_round if r.app_cpu_us_per_request]
        summary[app] = {
            "requests_per_s": median(results, app, "requests_per_s"),
            "p50_ms": median(results, app, "p50_ms"),
            "p99_ms": median(results, app, "p99_ms"),
            "app_cpu_us_per_request": statistics.median(cpu) if cpu else None,
            "db_sessions": median(results, app, "db_sessions"),
        }
        s = summary[app]
        cpu_text = f"{s['app_cpu_us_per_request']:.0f}" if cpu else "n/a"
        print(
            f"| {app} | "
            + " | ".join(f"{r.requests_per_s:,.0f}" for r in per_round)
            + f" | {s['requests_per_s']:,.0f} | {s['p50_ms']:.2f} | {s['p99_ms']:.2f} "
            f"| {cpu_text} | {s['db_sessions']:.0f} |"
        )
    ratio = summary["archivist"]["requests_per_s"] / summary["raw"]["requests_per_s"]
    summary["ratio"] = ratio
    print(f"\nratio archivist/raw (median requests/s): {ratio:.2f}  (target >= 0.5)")
    cpu_a = summary["archivist"]["app_cpu_us_per_request"]
    cpu_r = summary["raw"]["app_cpu_us_per_request"]
    if cpu_a and cpu_r:
        summary["cpu_ratio"] = cpu_r / cpu_a
        print(f"ratio raw/archivist (median app CPU per request): {cpu_r / cpu_a:.2f}")
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=15, help="seconds of wrk per run")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of wrk before each run")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if not require_wrk():
        return 2
    pin = can_pin()
    if not pin:
        print("warning: fewer than 2 CPUs or no taskset: nothing is pinned", file=sys.stderr)

    workdir = make_workdir("archivist-bench-")
    url = start_database(workdir / "pgdata", pin=pin)
    upgrade(url)
    secret, token_id = asyncio.run(create_admin_token(url))
    print(
        f"database ready; {args.rounds} rounds of {args.duration}s, {args.connections} "
        f"connections, app on CPU {APP_CPU}, wrk and PostgreSQL on CPU {LOAD_CPU}",
        flush=True,
    )

    check_same_body(url, secret, workdir, pin)
    first = stable_write_stats(url, token_id)  # the check above touched the token once
    started = time.monotonic()
    results = [
        one_run(app, round_no, url, secret, workdir, args, pin)
        for round_no, app in alternating(list(APPS), args.rounds)
    ]
    elapsed = time.monotonic() - started
    last = stable_write_stats(url, token_id)

    summary = report(results)
    served = sum(r.requests for r in results if r.app == "archivist")
    token_writes = last.token_updates - first.token_updates
    user_writes = last.user_updates - first.user_updates
    allowed = int(elapsed // 60) + 1
    throttled = token_writes <= allowed and user_writes <= allowed
    print(
        f"last_used_at writes during the runs: {token_writes} token row updates, "
        f"{user_writes} user row updates over {elapsed:.0f}s and {served:,} measured archivist "
        f"requests (at most {allowed} allowed at one a minute): "
        + ("throttled" if throttled else "NOT THROTTLED")
    )
    print(f"last_used_at {first.last_used_at} -> {last.last_used_at}")

    stamp = utc_stamp()
    write_results(
        "me",
        {
            "date": stamp,
            "args": vars(args),
            "runs": [asdict(r) for r in results],
            "summary": summary,
            "last_used_at_writes": {
                "token_row_updates": token_writes,
                "user_row_updates": user_writes,
                "elapsed_s": elapsed,
                "allowed": allowed,
                "throttled": throttled,
            },
        },
        stamp=stamp,
    )
    return 0 if throttled else 1


if __name__ == "__main__":
    raise SystemExit(main())
