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

    async def dispose(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
