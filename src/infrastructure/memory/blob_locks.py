"""`BlobLocks` within one process: an `asyncio.Lock` per blob key.

Right for in-memory storage, where one process is all there is, and the first stage of the
PostgreSQL adapter (which adds the lock other processes see)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection
from contextlib import AsyncExitStack, asynccontextmanager


class InMemoryBlobLocks:
    def __init__(self) -> None:
        # key -> [lock, holders and waiters]; an entry goes when nobody holds or waits for it.
        self._locks: dict[str, tuple[asyncio.Lock, list[int]]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        entry = self._locks.get(key)
        if entry is None:
            entry = self._locks[key] = (asyncio.Lock(), [0])
        lock, users = entry
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._locks[key]

    @asynccontextmanager
    async def hold_many(self, keys: Collection[str]) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for key in sorted(set(keys)):  # one order for every holder: no deadlock
                await stack.enter_async_context(self.hold(key))
            yield

    def __len__(self) -> int:
        """Keys with a holder or a waiter (none once everybody is done)."""
        return len(self._locks)
