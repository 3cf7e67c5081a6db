"""`archivist worker` as an operator runs it: refused on memory storage and on a schema not at
head, stopped gracefully by SIGTERM. (Jobs run by worker processes:
tests/integration/test_job_worker_pg.py.)"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.integration_cli import cli_env, run_cli, start_cli
from tests.support.integration_databases import FreshDatabase, fresh_database

pytestmark = pytest.mark.postgres

START_SECONDS = 30.0


@pytest.fixture
async def migrated() -> AsyncIterator[FreshDatabase]:
    async with fresh_database(migrated=True) as database:
        yield database


async def test_worker_refuses_memory_storage(tmp_path: Path) -> None:
    env = cli_env(None, tmp_path / "data") | {"ARCHIVIST_STORAGE": "memory"}

    result = await run_cli("worker", env=env, cwd=tmp_path)

    assert result.returncode == 2
    assert "needs PostgreSQL" in result.stderr


async def test_worker_refuses_a_schema_not_at_head(tmp_path: Path) -> None:
    async with fresh_database(migrated=False) as database:
        result = await run_cli(
            "worker", env=cli_env(database.libpq_url, tmp_path / "data"), cwd=tmp_path
        )
        revisions = await database.revisions()

    assert result.returncode == 1
    assert "run 'archivist migrate upgrade' first" in result.stderr
    assert revisions == set()  # it migrated nothing


@pytest.mark.parametrize("concurrency", ["0", "65", "two"])
async def test_worker_refuses_a_concurrency_out_of_range(tmp_path: Path, concurrency: str) -> None:
    result = await run_cli(
        "worker", "--concurrency", concurrency, env=cli_env(None, tmp_path), cwd=tmp_path
    )

    assert result.returncode == 2
    assert "not a whole number from 1 to 64" in result.stderr


async def test_worker_runs_until_sigterm_then_exits_cleanly(
    migrated: FreshDatabase, tmp_path: Path
) -> None:
    stderr_path = tmp_path / "worker.err"
    stderr_path.touch()
    process = start_cli(
        "worker",
        "--concurrency",
        "3",
        env=cli_env(migrated.libpq_url, tmp_path / "data"),
        cwd=tmp_path,
        stderr=stderr_path,
    )
    try:
        async with asyncio.timeout(START_SECONDS):  # started: its signal handlers are set
            while "job worker" not in stderr_path.read_text():
                assert process.returncode is None, stderr_path.read_text()
                await asyncio.sleep(0.05)
        assert process.returncode is None

        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(START_SECONDS):
            code = await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    assert code == 0, stderr_path.read_text()
