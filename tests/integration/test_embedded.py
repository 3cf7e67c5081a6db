"""`archivist serve` with DATABASE_URL unset (`make run`): it starts the embedded PostgreSQL
in its data directory, and the server stops with it."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from infrastructure.sqlalchemy.embedded import _forget_dead_holders, auto_shared_buffers
from tests.support.integration_cli import cli_env, start_server

# Times subprocesses against wall-clock windows: run alone, after the parallel part (Makefile).
pytestmark = [pytest.mark.postgres, pytest.mark.serial]


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _exists(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_serve_without_database_url_runs_the_embedded_server_and_stops_it_on_sigterm(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    server = start_server(
        cli_env(None, data_dir), tmp_path, tmp_path / "logs", fresh_interpreter=True
    )
    try:
        postmaster = int((data_dir / "pgdata" / "postmaster.pid").read_text().split()[0])
        token = (data_dir / "admin-token").read_text().strip()
        me = httpx.get(f"{server.base_url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        mode = stat.S_IMODE((data_dir / "admin-token").stat().st_mode)
    finally:
        server.stop()  # SIGTERM, as a service manager sends it

    stopped = _gone_within(postmaster, 10)
    if not stopped:
        os.kill(postmaster, signal.SIGTERM)  # leave no server behind, even when failing

    assert (me.status_code, me.json()["role"], mode) == (200, "admin", 0o600)
    assert server.process.returncode == 0, server.stderr
    assert stopped, "the embedded PostgreSQL outlived archivist serve"


def test_holders_that_died_are_forgotten_so_the_last_live_one_stops_the_server(
    tmp_path: Path,
) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    holders = tmp_path / ".handle_pids.json"
    holders.write_text(json.dumps([dead.pid, os.getpid()]))

    _forget_dead_holders(tmp_path)

    assert json.loads(holders.read_text()) == [os.getpid()]


_SHOW = """
import asyncio, logging, sys
from pathlib import Path
import asyncpg
from infrastructure.sqlalchemy.embedded import start_embedded
logging.basicConfig(level=logging.INFO, format="%(name)s %(message)s", stream=sys.stdout)
url = start_embedded(Path(sys.argv[1]), database="probe", shared_buffers=sys.argv[2])
async def show() -> None:
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    print("shared_buffers=" + await conn.fetchval("SHOW shared_buffers"))
    await conn.close()
asyncio.run(show())
"""


def _start_and_show(pgdata: Path, size: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", _SHOW, str(pgdata), size],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return [line for line in done.stdout.splitlines() if line.startswith(("archivist", "shared"))]


def test_the_embedded_server_gets_its_shared_buffers_and_keeps_them(tmp_path: Path) -> None:
    pgdata = tmp_path / "pgdata"
    first = _start_and_show(pgdata, "144MB")
    again = _start_and_show(pgdata, "144MB")

    assert "shared_buffers=144MB" in first
    assert any("restarted with shared_buffers=144MB" in line for line in first)
    assert "shared_buffers=144MB" in again
    assert not any("restarted" in line for line in again)  # kept in postgresql.auto.conf
    assert not (pgdata / "postmaster.pid").exists(), "the server outlived its last user"


@pytest.mark.parametrize(
    ("memory", "expected"),
    [(0, "128MB"), (512 * 2**20, "128MB"), (4 * 2**30, "512MB"), (64 * 2**30, "1024MB")],
)
def test_auto_shared_buffers_is_an_eighth_of_memory_within_bounds(
    memory: int, expected: str
) -> None:
    assert auto_shared_buffers(memory) == expected
