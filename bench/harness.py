"""What the benchmarks under bench/ share: one place for each piece, so they measure alike.

- processes: `Server` (uvicorn serving an app factory from bench/, pinned to APP_CPU) and
  `serve` (started and answering), `child_env` (what the app sees), `can_pin`;
- the database: `start_database` (BENCH_DATABASE_URL, or an embedded PostgreSQL pinned to
  LOAD_CPU), `plain_dsn`, `db_sessions`, `create_admin_token`, `issue_token`;
- measuring: `run_wrk` and its two parsers (`parse_wrk_latency` for `wrk --latency`,
  `parse_wrk` for the `BENCH …` line that `DONE_LUA` prints), `cpu_ticks` and
  `cpu_seconds_per`, `rss_kib`, `pct`, `alternating` rounds, `write_results`;
- the raw baselines (`raw_*_app.py`): `FIND_TOKEN_WITH_USER`, `bearer_user`, `UNAUTHORIZED`
  and `raw_app` (a bare Litestar app over an asyncpg pool).

The raw apps import this module inside their uvicorn process, so it imports nothing of
Archivist at module level: the few helpers that need the application import it when called.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncGenerator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from litestar import Litestar, Request, Response

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
ME = "/api/v1/me"
APP_CPU = 0
LOAD_CPU = 1  # wrk, PostgreSQL and the runner
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
DSN_ENV = "BENCH_RAW_DSN"
RAW_POOL_SIZE = 10  # Archivist's default ARCHIVIST_DB_POOL_SIZE
# Variables of ours or Archivist's that must not leak from the caller into the apps.
_SCRUBBED_ENV = ("DATABASE_URL", DSN_ENV, "BENCH_DATABASE_URL")


# --- processes ----------------------------------------------------------------------------------


def can_pin() -> bool:
    """Two CPUs or more and taskset: the app on APP_CPU, the load on LOAD_CPU."""
    return (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None


def require_wrk() -> bool:
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install -y wrk", file=sys.stderr)
        return False
    return True


def make_workdir(prefix: str) -> Path:
    """A temporary directory removed at exit. Make it before `start_database`: handlers run
    last registered first, so it is removed after pgserver's own handler stopped the server."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    return workdir


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env(app: str, url: str) -> dict[str, str]:
    """The caller's environment without Archivist's or our variables, and the database:
    `DATABASE_URL` for Archivist (everything else at its default), BENCH_RAW_DSN for a raw app."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ARCHIVIST_") and k not in _SCRUBBED_ENV
    }
    env["DATABASE_URL" if app == "archivist" else DSN_ENV] = url
    return env


def http_request(
    port: int,
    method: str,
    path: str,
    secret: str | None,
    body: Any = None,
    timeout: float = 30.0,
) -> tuple[int, dict[str, str], Any]:
    """Status, headers and the body (parsed JSON; the text if it is not JSON; None if empty)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        payload = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            payload = json.dumps(body)
        conn.request(method, path, payload, headers)
        response = conn.getresponse()
        raw = response.read()
        parsed: Any = None
        if raw and response.status != 204:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw.decode(errors="replace")
        return int(response.status), dict(response.getheaders()), parsed
    finally:
        conn.close()


class Server:
    """One uvicorn process (uvloop, httptools, one worker, no access log) serving `factory`
    from bench/, pinned to APP_CPU with `pin`; killed with its process group on exit."""

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

    def wait_ready(
        self, secret: str | None, path: str = ME, method: str = "GET", body: Any = None
    ) -> None:
        """Until `method path` answers 200; another status, or an early exit, raises."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_tail()}")
            try:
                status, _, _ = http_request(self.port, method, path, secret, body)
            except OSError:
                status = None
            if status == 200:
                return
            if status is not None:
                raise RuntimeError(f"{method} {path} answered {status}:\n{self.log_tail()}")
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


def serve(
    factory: str,
    env: dict[str, str],
    workdir: Path,
    pin: bool,
    secret: str | None,
    path: str = ME,
    method: str = "GET",
    body: Any = None,
) -> Server:
    """A `Server` that answers 200 to `method path` (stopped again if it never does)."""
    server = Server(factory, env, workdir, pin)
    try:
        server.wait_ready(secret, path, method, body)
    except BaseException:
        server.stop()
        raise
    return server


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (Linux /proc)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(stat.parent.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


# --- measuring ----------------------------------------------------------------------------------


def cpu_ticks(pid: int) -> int | None:
    """utime + stime of a process, in clock ticks (Linux); None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])


def cpu_seconds_per(before: int | None, after: int | None, count: int) -> float | None:
    """CPU seconds per request between two `cpu_ticks` readings; None when unknown."""
    if before is None or after is None or not count:
        return None
    return (after - before) / os.sysconf("SC_CLK_TCK") / count


def rss_kib(pid: int) -> int:
    """Resident memory (VmRSS) of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def pct(values: Sequence[float], p: float) -> float:
    """The `p`th percentile, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def alternating(apps: Sequence[str], rounds: int) -> Iterator[tuple[int, str]]:
    """(round, app) for rounds 1..`rounds`, the order of the apps reversed every other round."""
    for round_no in range(1, rounds + 1):
        for app in apps if round_no % 2 else list(reversed(apps)):
            yield round_no, app


def write_results(
    kind: str, payload: dict[str, Any], *, stamp: str | None = None, ensure_ascii: bool = True
) -> Path:
    """bench/results/<kind>-<stamp>.json (not versioned); prints and returns its path."""
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = stamp or utc_stamp()
    out = RESULTS_DIR / f"{kind}-{stamp}.json"
    out.write_text(json.dumps(payload, indent=2, default=str, ensure_ascii=ensure_ascii))
    print(f"raw figures: {out}")
    return out


def utc_stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


# --- wrk ----------------------------------------------------------------------------------------

# Appended to every wrk script `parse_wrk` reads: percentiles in µs, request and error counts.
DONE_LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %d %d %d %d %d %d %d\\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write, e.timeout))
end
"""


def run_wrk(
    port: int,
    path: str,
    duration_s: int,
    connections: int,
    pin: bool,
    *,
    threads: int = 2,
    script: Path | None = None,
    script_args: Sequence[str] = (),
    secret: str | None = None,
    latency: bool = False,
    timeout: str | None = "30s",
) -> str:
    """wrk's output, pinned to LOAD_CPU with `pin`. `secret` goes in a bearer header (a
    script sets its own), `latency` asks for `--latency`'s percentiles."""
    cmd = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{duration_s}s"]
    if timeout is not None:
        cmd += ["--timeout", timeout]
    if latency:
        cmd.append("--latency")
    if secret is not None:
        cmd += ["-H", f"Authorization: Bearer {secret}"]
    if script is not None:
        cmd += ["-s", str(script)]
    cmd.append(f"http://127.0.0.1:{port}{path}")
    if script_args:
        cmd += ["--", *script_args]
    if pin:
        cmd = ["taskset", "-c", str(LOAD_CPU), *cmd]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=duration_s + 120, check=True)
    return done.stdout


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _latency_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk_latency(output: str) -> tuple[float, float, float, int]:
    """Requests/s, p50 ms, p99 ms and the request count from `wrk --latency` output; error
    responses raise."""
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


@dataclass(frozen=True, slots=True)
class Wrk:
    """One wrk run, from the `BENCH …` line of DONE_LUA."""

    requests_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    duration_s: float
    non_2xx: int
    socket_errors: int  # connect, read and write errors
    timeouts: int

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors + self.timeouts


def parse_wrk(output: str) -> Wrk:
    found = re.search(r"^BENCH (.+)$", output, re.MULTILINE)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    if found is None or rps is None:
        raise RuntimeError(f"cannot parse wrk output:\n{output}")
    p50, p95, p99, mx, count, duration, status, sock, timeout = (
        int(x) for x in found.group(1).split()
    )
    return Wrk(
        float(rps.group(1)),
        p50 / 1e3,
        p95 / 1e3,
        p99 / 1e3,
        mx / 1e3,
        count,
        duration / 1e6,
        status,
        sock,
        timeout,
    )


# --- the database -------------------------------------------------------------------------------


def plain_dsn(url: str) -> str:
    """asyncpg wants `postgresql://`; Archivist's URLs may say `postgresql+asyncpg://`."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def start_database(pgdata: Path, *, pin: bool, keep: bool = False) -> str:
    """BENCH_DATABASE_URL when set; otherwise an embedded PostgreSQL in `pgdata` (database
    `bench`; removed at exit unless `keep`). With `pin` this runner moves to LOAD_CPU first
    and the embedded server's processes are pinned there too."""
    from infrastructure.sqlalchemy.embedded import start_embedded

    if pin:
        os.sched_setaffinity(0, {LOAD_CPU})
    url = os.environ.get("BENCH_DATABASE_URL")
    if url is None:
        url = start_embedded(pgdata, database="bench", throwaway=not keep)
        if pin:
            pin_postgres(pgdata)
    return url


def pin_postgres(pgdata: Path) -> None:
    """Pin the postmaster and its children to LOAD_CPU (new backends inherit it)."""
    postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])
    for pid in [postmaster, *descendants(postmaster)]:
        with contextlib.suppress(OSError):  # a backend that just exited
            os.sched_setaffinity(pid, {LOAD_CPU})


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
    """Sessions ever opened in the database (this one included): counted at connect,
    flushed by backends lazily, hence the second's wait."""
    time.sleep(1.0)
    return asyncio.run(_sessions(url))


async def create_admin_token(url: str) -> tuple[str, uuid.UUID]:
    """A new admin (`bench-…@example.com`) and its token, through the application."""
    from infrastructure.config import AppSettings
    from infrastructure.container import build_container, shutdown_container

    settings = AppSettings(_env_file=None, storage="postgres")  # type: ignore[call-arg]
    container = build_container(settings, url)
    try:
        created = await container.bootstrap().create_admin(
            f"bench-{uuid.uuid4().hex[:12]}@example.com", "Benchmark", "bench"
        )
    finally:
        await shutdown_container(container)
    return created.issued.secret, created.issued.token.id


async def issue_token(url: str, user_id: uuid.UUID, name: str) -> str:
    """A new token's secret for an existing user, through the application."""
    from application.context import RequestContext
    from application.tokens import TokenIssue
    from infrastructure.config import AppSettings
    from infrastructure.container import build_container, shutdown_container

    settings = AppSettings(_env_file=None, storage="postgres")  # type: ignore[call-arg]
    container = build_container(settings, url)
    try:
        issued = await container.tokens().issue(
            RequestContext.system(), TokenIssue(name=name, user_id=user_id)
        )
    finally:
        await shutdown_container(container)
    return issued.secret


# --- the raw baselines --------------------------------------------------------------------------

# What SQLAlchemy renders for `_FIND_TOKEN_WITH_USER` (infrastructure/sqlalchemy/repositories.py).
FIND_TOKEN_WITH_USER = (
    "SELECT api_tokens.id, api_tokens.user_id, api_tokens.name, api_tokens.prefix, "
    "api_tokens.token_hash, api_tokens.created_at, api_tokens.expires_at, "
    "api_tokens.last_used_at, api_tokens.revoked_at, users.id AS u_id, users.email AS u_email, "
    "users.name AS u_name, users.department AS u_department, "
    "users.access_level AS u_access_level, users.role AS u_role, "
    "users.is_active AS u_is_active, users.last_login_at AS u_last_login_at, "
    "users.last_login_ip AS u_last_login_ip, users.created_at AS u_created_at, "
    "users.updated_at AS u_updated_at \n"
    "FROM api_tokens JOIN users ON users.id = api_tokens.user_id \n"
    "WHERE api_tokens.token_hash = $1::VARCHAR"
)

UNAUTHORIZED: Response[Any] = Response(
    {"status": 401, "title": "Unauthorized"},
    status_code=401,
    media_type="application/problem+json",
    headers={"www-authenticate": "Bearer"},
)


async def bearer_user(request: Request[Any, Any, Any], pool: asyncpg.Pool) -> Any:
    """The token+user row (FIND_TOKEN_WITH_USER) of the request's bearer token, read with one
    `fetchrow` in autocommit; None (answer UNAUTHORIZED) when the header is missing or not a
    bearer, or the token unknown, revoked or expired, or its user inactive: Archivist's rules."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, secret = header.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        return None
    token_hash = hashlib.sha256(secret.encode()).hexdigest()
    row = await pool.fetchrow(FIND_TOKEN_WITH_USER, token_hash)
    if (
        row is None
        or row["revoked_at"] is not None
        or datetime.now(UTC) >= row["expires_at"]
        or not row["u_is_active"]
    ):
        return None
    return row


def raw_app(*route_handlers: Any) -> Litestar:
    """A bare Litestar app (no OpenAPI) whose `app.state.pool` is an asyncpg pool of
    RAW_POOL_SIZE connections to BENCH_RAW_DSN, opened and closed in its lifespan."""
    dsn = plain_dsn(os.environ[DSN_ENV])

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        pool = await asyncpg.create_pool(dsn, min_size=RAW_POOL_SIZE, max_size=RAW_POOL_SIZE)
        app.state.pool = pool
        try:
            yield
        finally:
            await pool.close()

    return Litestar(route_handlers=list(route_handlers), lifespan=[lifespan], openapi_config=None)
