"""`BlobLocks` across processes: a PostgreSQL advisory lock per blob key.

Several server processes (`archivist serve --workers N`, or several machines) may share one
blob directory and one database; an in-process lock cannot keep one process's purge from
deleting a blob another process's upload has just stored (docs/decisions.md, "Blobs").

How it holds the lock: `pg_advisory_xact_lock(namespace, hash of the key)` inside a
transaction on a connection of its own, from a small pool of its own (`Database.lock_engine`),
for exactly the caller's block; ROLLBACK at the end releases it. The transaction writes
nothing and, in READ COMMITTED, holds no snapshot between statements, so it does not hold
back vacuum. A transaction-level lock rather than a session-level one because it cannot
outlive its holder: a connection returned to the pool after an error or a cancellation is
rolled back by the pool, and a connection that dies takes its locks with it.

Within the process the key's `asyncio.Lock` is taken first, so only one task per process and
key waits in PostgreSQL and holds a connection.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from typing import Any, Final

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncEngine

from infrastructure.memory.blob_locks import InMemoryBlobLocks
from infrastructure.sqlalchemy.availability import storage_errors

# pg_advisory_xact_lock(int4, int4): the first says whose lock it is (b"blob" as an int4),
# so Archivist's locks never collide with another application's on the same database.
NAMESPACE: Final = int.from_bytes(b"blob", "big", signed=True)
_LOCK: Final = text("SELECT pg_advisory_xact_lock(CAST(:ns AS integer), CAST(:id AS integer))")
# Several at once, in the order of the array (a function scan yields its rows in order).
_LOCK_MANY: Final = text(
    "SELECT count(pg_advisory_xact_lock(CAST(:ns AS integer), id))"
    " FROM unnest(CAST(:ids AS integer[])) AS t(id)"
)


def lock_id(key: str) -> int:
    """The key's lock number: 32 bits of its SHA-256. Two keys sharing one only wait for
    each other now and then; they never lose anything."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big", signed=True)


class AdvisoryBlobLocks:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._local = InMemoryBlobLocks()

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        async with self._local.hold(key), self._locked(_LOCK, {"id": lock_id(key)}):
            yield

    @asynccontextmanager
    async def hold_many(self, keys: Collection[str]) -> AsyncIterator[None]:
        # Within the process in the keys' order, across processes in the lock numbers'
        # order: each is the one order every holder of that layer follows.
        ids = sorted({lock_id(key) for key in keys})
        async with self._local.hold_many(keys), self._locked(_LOCK_MANY, {"ids": ids}):
            yield

    @asynccontextmanager
    async def _locked(self, statement: TextClause, params: dict[str, Any]) -> AsyncIterator[None]:
        """The advisory lock(s) `statement` takes, held in a transaction of their own."""
        async with storage_errors(connecting=True):
            conn = await self._engine.connect()
        try:
            async with storage_errors(connecting=True):
                await conn.begin()
                await conn.execute(statement, {"ns": NAMESPACE, **params})
            yield
        finally:
            # ROLLBACK releases the lock; if the connection was lost, so was the lock. A
            # failure here must not hide the block's own outcome.
            with contextlib.suppress(Exception):
                try:
                    await conn.rollback()
                finally:
                    await conn.close()
