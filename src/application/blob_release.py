"""Deleting a blob once no row references it, under the blob's lock (`BlobLocks`).

Shared by the document use cases (purge, a failed upload) and maintenance (`archivist purge`),
so both follow one rule: check the references and delete the bytes while holding the lock
that uploads of the same bytes hold until their row commits (docs/decisions.md, "Blobs")."""

from __future__ import annotations

from domain.blobs import BlobLocks, BlobStore
from domain.ports import UnitOfWorkFactory


class BlobReleaser:
    def __init__(self, uow_factory: UnitOfWorkFactory, blobs: BlobStore, locks: BlobLocks) -> None:
        self._uow = uow_factory
        self._blobs = blobs
        self._locks = locks

    async def release(self, key: str) -> bool:
        """Delete the blob if no row references it; True if it was deleted."""
        async with self._locks.hold(key):
            return await self.release_held(key)

    async def release_held(self, key: str) -> bool:
        """`release`, for a caller that already holds the key's lock (a failing upload)."""
        async with self._uow(autocommit=True) as uow:
            if await uow.documents.count_referencing(key) > 0:
                return False
        await self._blobs.delete(key)
        return True
