"""One of two processes racing over one blob (tests/integration/test_blob_race_processes.py).

    python -m tests.support.blob_race_worker upload|purge DATABASE_URL BLOB_DIR OWNER_ID SECONDS

`upload`, round after round, stores new bytes twice: as a "doomed" document, then as a
"kept" one. `purge` purges every doomed document as soon as it sees one, and every few rounds
sweeps unreferenced blobs with no grace period. So the purge of a doomed document keeps
racing the upload of the same bytes as a kept one: if the purge found no reference and
deleted the blob while the kept upload had stored it but not yet committed its row, that row
would be left without its blob for good. Both share the database and the blob directory, as
two server processes would. With ARCHIVIST_RACE_LOCAL_LOCKS=1 the blob locks are the
in-process ones (the old behaviour), to show what the database lock prevents. Prints the
number of rounds it made.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID

from dependency_injector import providers
from sqlalchemy import text

from application.context import RequestContext
from application.document_store import DocumentFields
from application.maintenance import MaintenanceService
from domain.blobs import BlobStore, PartialUpload, StoredBlob
from domain.documents import DocumentType
from domain.errors import NotFound
from infrastructure.blobs import FilesystemBlobStore
from infrastructure.config import AppSettings
from infrastructure.container import build_container, shutdown_container
from infrastructure.memory.blob_locks import InMemoryBlobLocks

# Widens the windows the race lives in: between storing the bytes and committing the row (A),
# and between finding no reference and deleting the bytes (B). Correctness must not depend on
# them being short.
WINDOW_SECONDS = 0.01


class SlowBlobStore:
    """The real store, a little slower where the race is."""

    def __init__(self, store: BlobStore) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def put(
        self, chunks: AsyncIterator[bytes], max_bytes: int, sha256: str | None = None
    ) -> StoredBlob:
        stored = await self._store.put(chunks, max_bytes, sha256)
        await asyncio.sleep(WINDOW_SECONDS)
        return stored

    async def delete(self, key: str) -> None:
        await asyncio.sleep(WINDOW_SECONDS)
        await self._store.delete(key)

    async def partial_uploads_older_than(self, seconds: float) -> list[PartialUpload]:
        # With no grace period the sweep would take the temporary file of every upload in
        # progress (by design: age is all that tells a crashed upload from a live one).
        # This race is about blobs, so the sweep sees none.
        return []


CONTENT = "Bytes uploaded by one process while another purges them, round {}.\n"
DOOMED = text("SELECT id FROM documents WHERE title LIKE 'doomed %' ORDER BY created_at")


async def main(role: str, url: str, blob_dir: Path, owner_id: UUID, seconds: float) -> int:
    settings = AppSettings(storage="postgres", slow_query_ms=0, blob_dir=blob_dir)
    container = build_container(settings, url)
    container.blobs.override(providers.Singleton(SlowBlobStore, FilesystemBlobStore(blob_dir)))
    if os.environ.get("ARCHIVIST_RACE_LOCAL_LOCKS") == "1":
        container.blob_locks.override(providers.Singleton(InMemoryBlobLocks))
    rounds = 0
    try:
        owner = await container.users().get(RequestContext.system(), owner_id)
        ctx = RequestContext(owner)
        uploads, lifecycle = container.document_uploads(), container.document_lifecycle()
        sweeper = MaintenanceService(
            container.uow_factory(),
            container.clock(),
            container.blobs(),
            container.blob_locks(),
            container.search(),
            blob_grace_seconds=0.0,
        )
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            rounds += 1
            if role == "upload":
                for fate in ("doomed", "kept"):
                    await uploads.create_text(
                        ctx,
                        CONTENT.format(rounds),
                        DocumentType.TXT,
                        DocumentFields(title=f"{fate} {rounds}", on_duplicate="allow"),
                    )
                continue
            async with container.database().engine.connect() as conn:
                doomed = (await conn.execute(DOOMED)).scalars().all()
            for doc_id in doomed:
                with contextlib.suppress(NotFound):
                    await lifecycle.purge(ctx, doc_id)
            if not doomed:
                await asyncio.sleep(0.001)
            if rounds % 5 == 0:
                await sweeper.purge(dry_run=False)
    finally:
        await shutdown_container(container)
    print(rounds)
    return 0


if __name__ == "__main__":
    role, url, blob_dir, owner_id, seconds = sys.argv[1:6]
    sys.exit(asyncio.run(main(role, url, Path(blob_dir), UUID(owner_id), float(seconds))))
