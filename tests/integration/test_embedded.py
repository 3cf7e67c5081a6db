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

from infrastructure.sqlalchemy.embedded import _forget_dead_holders
from tests.support.integration_cli import cli_env, start_server

pytestmark = pytest.mark.postgres


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
    server = start_server(cli_env(None, data_dir), tmp_path, tmp_path / "logs")
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
