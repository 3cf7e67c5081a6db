"""`archivist worker` with a consume folder, killed with SIGKILL in the middle of it and
started again: every file ends in done/, each as exactly one document (issue #12, must-show
3). The in-process behaviour is test_consume_folder.py's."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from sqlalchemy import text

from application.context import RequestContext
from application.users import CreateUser
from infrastructure.config import AppSettings
from infrastructure.container import build_container, shutdown_container
from tests.support.integration_cli import RunningCli, cli_env, start_cli
from tests.support.integration_databases import fresh_database

pytestmark = pytest.mark.postgres

EMAIL = "scanner@example.com"
FILES = 60
WAIT_SECONDS = 60.0


def _done(inbox: Path) -> set[str]:
    return {p.name for p in (inbox / "done").glob("*.txt")}


def _left(inbox: Path) -> set[str]:
    return {p.name for p in inbox.glob("*.txt")}


def _worker(env: dict[str, str], cwd: Path, log: Path) -> RunningCli:
    log.touch()
    return start_cli("worker", env=env, cwd=cwd, stderr=log)


async def test_a_worker_killed_mid_folder_loses_nothing_and_stores_nothing_twice(
    tmp_path: Path,
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    names = {f"note-{n:02}.txt" for n in range(FILES)}
    for name in names:
        (inbox / name).write_text(f"consumed once: {name}\n")
    log = tmp_path / "worker.err"
    async with fresh_database(migrated=True) as database:
        settings = AppSettings(storage="postgres", blob_dir=tmp_path / "data" / "blobs")
        container = build_container(settings, database.url)
        try:
            await container.users().create(
                RequestContext.system(), CreateUser(email=EMAIL, name="Scanner")
            )
        finally:
            await shutdown_container(container)
        env = cli_env(database.libpq_url, tmp_path / "data") | {
            "ARCHIVIST_CONSUME_DIR": str(inbox),
            "ARCHIVIST_CONSUME_USER": EMAIL,
            "ARCHIVIST_CONSUME_SETTLE_SECONDS": "0.2",
        }

        first = _worker(env, tmp_path, log)
        try:
            async with asyncio.timeout(WAIT_SECONDS):
                while len(_done(inbox)) < 5:
                    assert first.returncode is None, log.read_text()
                    await asyncio.sleep(0.01)
        finally:
            first.kill()  # SIGKILL: no file in hand is finished, nothing is cleaned up
            await first.wait()
        assert first.returncode == -signal.SIGKILL
        assert _left(inbox), "all files were consumed before the kill: nothing was proved"

        second = _worker(env, tmp_path, log)
        try:
            async with asyncio.timeout(WAIT_SECONDS):
                while _done(inbox) != names:
                    assert second.returncode is None, log.read_text()
                    await asyncio.sleep(0.05)
            second.send_signal(signal.SIGTERM)
            async with asyncio.timeout(WAIT_SECONDS):
                code = await second.wait()
        finally:
            if second.returncode is None:
                second.kill()
                await second.wait()

        async with database.connect() as conn:
            stored = (
                await conn.execute(
                    text(
                        "SELECT count(*), count(DISTINCT sha256), "
                        "count(DISTINCT original_filename) FROM documents"
                    )
                )
            ).one()

    assert code == 0, log.read_text()
    assert _left(inbox) == set()
    assert not (inbox / "failed").exists() or not any((inbox / "failed").iterdir())
    assert tuple(stored) == (FILES, FILES, FILES)
