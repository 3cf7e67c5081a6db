"""A lazily built engine with an explicit async shutdown, for the container to own."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from infrastructure.config import AppSettings
from infrastructure.sqlalchemy.engine import create_engine


class Database:
    def __init__(self, url: str | None, settings: AppSettings) -> None:
        self._url = url
        self._settings = settings
        self._engine: AsyncEngine | None = None
        self._lock_engine: AsyncEngine | None = None

    @property
    def url(self) -> str:
        if not self._url:
            raise RuntimeError("no database URL: resolve it (embedded server) before use")
        return self._url

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            self._engine = create_engine(self.url, self._settings)
        return self._engine

    @property
    def lock_engine(self) -> AsyncEngine:
        """A pool of its own for the blob locks (`AdvisoryBlobLocks`): a lock holder also
        needs a connection of the main pool for its unit of work, so taking both from one
        pool could leave every connection held by a lock waiting for another. One idle
        connection is kept; bursts may open as many as the main pool has."""
        if self._lock_engine is None:
            capacity = self._settings.db_pool_size + self._settings.db_max_overflow
            self._lock_engine = create_engine(
                self.url,
                self._settings,
                pool_size=1,
                max_overflow=max(0, capacity - 1),
                pool_label="locks",
            )
        return self._lock_engine

    async def dispose(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
        if self._lock_engine is not None:
            await self._lock_engine.dispose()
