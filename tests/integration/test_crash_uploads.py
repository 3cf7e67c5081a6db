"""SIGKILL during uploads (issue #9, item 14): the crash probe as a test.

`archivist serve` runs as a subprocess on a database and a data directory of this test's
own. Rounds of parallel uploads are cut short by a SIGKILL of the server at a random moment,
and the server is started again. At the end every upload that was acknowledged (201)
downloads with its SHA-256, no row lacks its blob, the orphans the kills left (blobs without
a row, partial uploads in `.tmp`) are all that `purge` finds to sweep, and the server starts
clean. Bounded: `KILLS` rounds of `PARALLEL` uploads each.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from application.maintenance import MaintenanceService
from infrastructure.config import AppSettings
from infrastructure.container import build_container, shutdown_container
from tests.support.integration_cli import Server, cli_env, start_server
from tests.support.integration_databases import FreshDatabase, fresh_database

# Times subprocesses against wall-clock windows: run alone, after the parallel part (Makefile).
pytestmark = [pytest.mark.postgres, pytest.mark.serial]

KILLS = 5
PARALLEL = 8
UPLOAD_BYTES = 128 * 1024  # several chunks of the request body
KILL_AFTER_S = (0.8, 2.5)


@dataclass
class Tally:
    acknowledged: dict[str, str] = field(default_factory=dict)  # document id -> SHA-256
    killed_in_flight: int = 0
    refused: list[str] = field(default_factory=list)  # any other answer: must stay empty


@dataclass(frozen=True)
class Setup:
    database: FreshDatabase
    data_dir: Path
    cwd: Path

    @property
    def env(self) -> dict[str, str]:
        return cli_env(self.database.libpq_url, self.data_dir)

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    def start(self) -> Server:
        return start_server(self.env, self.cwd, self.cwd / "logs")


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    async with fresh_database(migrated=False) as database:  # `serve` migrates it
        yield Setup(database, tmp_path / "data", tmp_path)


def _body(rng: random.Random) -> bytes:
    """Distinct, valid UTF-8 text (a .txt upload is decoded)."""
    words = [f"w{rng.getrandbits(40):x}" for _ in range(UPLOAD_BYTES // 12)]
    return " ".join(words).encode()


async def _upload(client: httpx.AsyncClient, token: str, data: bytes, tally: Tally) -> None:
    try:
        response = await client.post(
            "/api/v1/documents",
            files={"file": ("crash.txt", data, "text/plain")},
            headers={"Authorization": f"Bearer {token}"},
        )
    except httpx.TransportError:
        tally.killed_in_flight += 1  # no answer: the server died with it
        return
    if response.status_code == 201:
        tally.acknowledged[response.json()["id"]] = hashlib.sha256(data).hexdigest()
    else:
        tally.refused.append(f"{response.status_code} {response.text[:200]}")


async def _round(server: Server, token: str, rng: random.Random, tally: Tally) -> None:
    """Uploads, one after another on each of `PARALLEL` connections, until the server is
    killed `KILL_AFTER_S` into the round."""
    deadline = time.monotonic() + rng.uniform(*KILL_AFTER_S)

    async def uploader(client: httpx.AsyncClient) -> None:
        while server.process.poll() is None:
            await _upload(client, token, _body(rng), tally)

    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        uploaders = [asyncio.create_task(uploader(client)) for _ in range(PARALLEL)]
        await asyncio.sleep(max(0.0, deadline - time.monotonic()))
        os.kill(server.process.pid, signal.SIGKILL)
        await asyncio.to_thread(server.process.wait, 10)
        await asyncio.gather(*uploaders)


async def _sweep_orphans(setup: Setup) -> tuple[int, int]:
    """`archivist purge` with no grace period (nothing is in flight: the server is down):
    (blobs without a row, partial uploads) swept."""
    settings = AppSettings(storage="postgres", slow_query_ms=0, blob_dir=setup.blob_dir)
    container = build_container(settings, setup.database.url)
    try:
        report = await MaintenanceService(
            container.uow_factory(),
            container.clock(),
            container.blobs(),
            container.blob_locks(),
            container.search(),
            blob_grace_seconds=0.0,
        ).purge(dry_run=False)
    finally:
        await shutdown_container(container)
    reasons = [b.reason for b in report.blobs]
    return reasons.count("unreferenced"), reasons.count("partial")


async def test_sigkills_during_parallel_uploads_lose_no_acknowledged_upload(
    setup: Setup,
) -> None:
    rng = random.Random(9)
    tally = Tally()
    started = time.monotonic()
    for _ in range(KILLS):
        server = setup.start()
        token = (setup.data_dir / "admin-token").read_text().strip()
        await _round(server, token, rng, tally)
    partial_left = len(list((setup.blob_dir / ".tmp").glob("put-*")))
    unreferenced, partial = await _sweep_orphans(setup)

    server = setup.start()  # a clean restart: /ready is 200 (start_server waits for it)
    try:
        token = (setup.data_dir / "admin-token").read_text().strip()
        downloaded: dict[str, str] = {}
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
            for doc_id in tally.acknowledged:
                response = await client.get(
                    f"/api/v1/documents/{doc_id}/file",
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert response.status_code == 200, response.text
                downloaded[doc_id] = hashlib.sha256(response.content).hexdigest()
            ready = await client.get("/ready")
    finally:
        server.stop()
    async with setup.database.connect() as conn:
        keys = (await conn.execute(text("SELECT storage_key FROM documents"))).scalars().all()
    rows_without_blob = [key for key in keys if not (setup.blob_dir / key).is_file()]

    print(
        f"\ncrash test: {KILLS} SIGKILLs in {time.monotonic() - started:.0f} s; "
        f"{len(tally.acknowledged)} uploads acknowledged, {tally.killed_in_flight} killed in "
        f"flight; {len(keys)} rows, {len(rows_without_blob)} without their blob; orphans swept: "
        f"{unreferenced} blob(s) without a row, {partial} partial upload(s) "
        f"({partial_left} in .tmp)"
    )
    assert tally.refused == []
    assert tally.acknowledged and tally.killed_in_flight > 0  # the kills hit uploads
    assert downloaded == tally.acknowledged
    assert rows_without_blob == []
    assert partial == partial_left
    assert ready.status_code == 200
    assert server.process.returncode == 0, server.stderr
