"""`archivist serve --workers N` (issue #9, item 13): several server processes on one port,
sharing the database and the blob directory; safe since blob deletion takes a lock in the
database (tests/integration/test_blob_race_processes.py)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.support.integration_cli import cli_env, run_cli, start_server
from tests.support.integration_databases import FreshDatabase, fresh_database

pytestmark = pytest.mark.postgres
# Times server processes against wall-clock windows: runs alone, after the parallel part
# (Makefile). The refusals below only read an exit status and run with the rest.
serial = pytest.mark.serial


@pytest.fixture
async def database() -> AsyncIterator[FreshDatabase]:
    async with fresh_database(migrated=False) as fresh:  # `serve` migrates it
        yield fresh


@serial
async def test_serve_with_two_workers_serves_from_two_processes_and_stops_cleanly(
    database: FreshDatabase, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    server = start_server(
        cli_env(database.libpq_url, data_dir),
        tmp_path,
        tmp_path / "logs",
        ["--workers", "2"],
        fresh_interpreter=True,
    )
    try:
        workers = psutil.Process(server.process.pid).children()
        token = (data_dir / "admin-token").read_text().strip()
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
            created = [
                await client.post(
                    "/api/v1/documents",
                    files={"file": (f"n{i}.txt", f"note {i}".encode(), "text/plain")},
                    headers=headers,
                )
                for i in range(6)
            ]
            files = [
                await client.get(f"/api/v1/documents/{r.json()['id']}/file", headers=headers)
                for r in created
            ]
    finally:
        server.stop()

    assert len(workers) >= 2  # uvicorn's worker processes
    assert [r.status_code for r in created] == [201] * 6
    assert [hashlib.sha256(f.content).hexdigest() for f in files] == [
        hashlib.sha256(f"note {i}".encode()).hexdigest() for i in range(6)
    ]
    assert server.process.returncode == 0, server.stderr


async def test_serve_refuses_workers_with_memory_storage(tmp_path: Path) -> None:
    env = cli_env(None, tmp_path / "data") | {"ARCHIVIST_STORAGE": "memory"}

    result = await run_cli("serve", "--workers", "2", env=env, cwd=tmp_path)

    assert result.returncode == 2
    assert "--workers needs PostgreSQL" in result.stderr


@pytest.mark.parametrize("workers", ["0", "65", "two"])
async def test_serve_refuses_a_worker_count_out_of_range(tmp_path: Path, workers: str) -> None:
    result = await run_cli(
        "serve", "--workers", workers, env=cli_env(None, tmp_path / "data"), cwd=tmp_path
    )

    assert result.returncode == 2
    assert "--workers" in result.stderr
