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
figures go to bench/results/ (not versioned).

With BENCH_DATABASE_URL the database is migrated and gets one more admin (`bench-…@example.com`)
and token per run; nothing else is changed and nothing is deleted.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from infrastructure.config import AppSettings
from infrastructure.container import build_container, shutdown_container
from infrastructure.sqlalchemy.embedded import start_embedded
from infrastructure.sqlalchemy.migrations import upgrade

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
PATH = "/api/v1/me"
APP_CPU = 0
LOAD_CPU = 1
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0

APPS: dict[str, str] = {
    "archivist": "archivist_me_app:create_app",
    "raw": "raw_me_app:create_app",
}
# Variables of ours or Archivist's that must not leak from the caller into the apps.
_SCRUBBED_ENV = ("DATABASE_URL", "BENCH_RAW_DSN", "BENCH_DATABASE_URL")


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


# --- wrk ----------------------------------------------------------------------------------------

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _latency_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> tuple[float, float, float, int]:
    """Requests/s, p50 ms, p99 ms and the request count from `wrk --latency` output."""
    if re.search(r"Non-2xx or 3xx responses", output):
        raise RuntimeError(f"wrk saw error responses:\n{output}")
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    count = re.search(r"^\s+(\d+) requests in", output, re.MULTILINE)
    if rps is None or p50 is None or p99 is None or count is None:
        raise RuntimeError(f"cannot parse wrk output:\n{output}")
    return (
        float(rps.group(1)),
        _latency_ms(p50.group(1)),
        _latency_ms(p99.group(1)),
        int(count.group(1)),
    )


def run_wrk(port: int, secret: str, duration_s: int, connections: int, pin: bool) -> str:
    cmd = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{duration_s}s",
        "--latency",
        "-H",
        f"Authorization: Bearer {secret}",
        f"http://127.0.0.1:{port}{PATH}",
    ]
    if pin:
        cmd = ["taskset", "-c", str(LOAD_CPU), *cmd]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=duration_s + 60, check=True)
    return done.stdout


# --- processes ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_ticks(pid: int) -> int | None:
    """utime + stime of a process, in clock ticks (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])


def pin_postgres(pgdata: Path) -> None:
    """Pin the postmaster and its children to LOAD_CPU (new backends inherit it)."""
    postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])
    pids = [postmaster]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == postmaster:
            pids.append(int(stat.parent.name))
    for pid in pids:
        with contextlib.suppress(OSError):  # a backend that just exited
            os.sched_setaffinity(pid, {LOAD_CPU})


class Server:
    """One uvicorn process serving `factory`, killed (with its process group) on exit."""

    def __init__(self, factory: str, env: dict[str, str], workdir: Path, pin: bool) -> None:
        self.port = free_port()
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            factory,
            "--app-dir",
            str(BENCH_DIR),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        if pin:
            cmd = ["taskset", "-c", str(APP_CPU), *cmd]
        self._log_path = workdir / f"uvicorn-{self.port}.log"
        self._log = self._log_path.open("wb")
        self.proc = subprocess.Popen(
            cmd,
            cwd=workdir,  # no stray .env from the caller's directory
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, secret: str) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_tail()}")
            try:
                status = get_status(self.port, secret)
            except OSError:
                status = None
            if status == 200:
                return
            if status is not None:
                raise RuntimeError(f"GET {PATH} answered {status}:\n{self.log_tail()}")
            time.sleep(0.2)
        raise TimeoutError(f"server not ready after {READY_TIMEOUT_S}s:\n{self.log_tail()}")

    def log_tail(self) -> str:
        self._log.flush()
        return self._log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        try:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGTERM)  # lifespan shutdown closes the pool
                try:
                    self.proc.wait(STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                    self.proc.wait(STOP_TIMEOUT_S)
        except ProcessLookupError:
            pass
        finally:
            self._log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def get_status(port: int, secret: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", PATH, headers={"Authorization": f"Bearer {secret}"})
        response = conn.getresponse()
        response.read()
        return int(response.status)
    finally:
        conn.close()


def get_json(port: int, secret: str | None) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        headers = {"Authorization": f"Bearer {secret}"} if secret is not None else {}
        conn.request("GET", PATH, headers=headers)
        response = conn.getresponse()
        body = response.read()
        return int(response.status), json.loads(body) if response.status == 200 else None
    finally:
        conn.close()


def child_env(app: str, url: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ARCHIVIST_") and k not in _SCRUBBED_ENV
    }
    if app == "archivist":
        env["DATABASE_URL"] = url  # everything else (ARCHIVIST_SLOW_QUERY_MS…) at its default
    else:
        env["BENCH_RAW_DSN"] = url
    return env


# --- the database -------------------------------------------------------------------------------


def plain_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def create_admin_token(url: str) -> tuple[str, uuid.UUID]:
    settings = AppSettings(_env_file=None, storage="postgres")  # type: ignore[call-arg]
    container = build_container(settings, url)
    try:
        created = await container.bootstrap().create_admin(
            f"bench-{uuid.uuid4().hex[:12]}@example.com", "Benchmark", "bench"
        )
    finally:
        await shutdown_container(container)
    return created.issued.secret, created.issued.token.id


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


async def _sessions(url: str) -> int:
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        value = await conn.fetchval(
            "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
        )
    finally:
        await conn.close()
    return int(value or 0)


def db_sessions(url: str) -> int:
    """Sessions ever opened in the database: counted at connect, flushed by backends lazily."""
    time.sleep(1.0)
    return asyncio.run(_sessions(url))


def stable_write_stats(url: str, token_id: uuid.UUID) -> WriteStats:
    """Statistics are flushed by backends lazily (at most once a second, and at exit)."""
    time.sleep(1.5)
    return asyncio.run(write_stats(url, token_id))


# --- the benchmark ------------------------------------------------------------------------------


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
    with Server(APPS[app], child_env(app, url), workdir, pin) as server:
        server.wait_ready(secret)
        if args.warmup > 0:
            run_wrk(server.port, secret, args.warmup, args.connections, pin)
        before = cpu_ticks(server.proc.pid)
        output = run_wrk(server.port, secret, args.duration, args.connections, pin)
        after = cpu_ticks(server.proc.pid)
        status, _ = get_json(server.port, None)
        if status != 401:
            raise RuntimeError(f"{app}: GET {PATH} without a token answered {status}")
    sessions = db_sessions(url) - sessions_before - 1  # less the connection that counted
    rps, p50, p99, count = parse_wrk(output)
    cpu_us = None
    if before is not None and after is not None and count:
        cpu_us = (after - before) / os.sysconf("SC_CLK_TCK") * 1e6 / count
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
        with Server(APPS[app], child_env(app, url), workdir, pin) as server:
            server.wait_ready(secret)
            _, body = get_json(server.port, secret)
            body.pop("last_login_at")
            bodies[app] = body
            for bad in (None, "arv_" + "x" * 40):
                status, _ = get_json(server.port, bad)
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
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install -y wrk", file=sys.stderr)
        return 2
    pin = (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None
    if not pin:
        print("warning: fewer than 2 CPUs or no taskset: nothing is pinned", file=sys.stderr)

    workdir = Path(tempfile.mkdtemp(prefix="archivist-bench-"))
    # Registered before pgserver's own handler, so it runs after the server is gone.
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    if pin:
        os.sched_setaffinity(0, {LOAD_CPU})
    url = os.environ.get("BENCH_DATABASE_URL")
    if url is None:
        pgdata = workdir / "pgdata"
        url = start_embedded(pgdata, database="bench", throwaway=True)
        if pin:
            pin_postgres(pgdata)
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
    results: list[RunResult] = []
    for round_no in range(1, args.rounds + 1):
        order = list(APPS) if round_no % 2 else list(reversed(APPS))
        for app in order:
            results.append(one_run(app, round_no, url, secret, workdir, args, pin))
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

    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS_DIR / f"me-{stamp}.json"
    out.write_text(
        json.dumps(
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
            indent=2,
            default=str,
        )
    )
    print(f"raw figures: {out}")
    return 0 if throttled else 1


if __name__ == "__main__":
    raise SystemExit(main())
