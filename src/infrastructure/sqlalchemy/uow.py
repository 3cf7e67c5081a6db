"""The SQLAlchemy unit of work: one connection, one transaction, repositories bound to it."""

from __future__ import annotations

import contextlib
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from infrastructure.sqlalchemy.accounts import (
    SqlAlchemyPasswordLinkRepository,
    SqlAlchemyPasswordRepository,
    SqlAlchemySessionRepository,
)
from infrastructure.sqlalchemy.availability import is_unavailable, unavailable
from infrastructure.sqlalchemy.categories import SqlAlchemyCategoryRepository
from infrastructure.sqlalchemy.documents import (
    SqlAlchemyDocumentRepository,
    SqlAlchemyDocumentViews,
)
from infrastructure.sqlalchemy.file_types import SqlAlchemyFileTypeRepository
from infrastructure.sqlalchemy.jobs import SqlAlchemyJobQueue
from infrastructure.sqlalchemy.permissions import SqlAlchemyPermissionRepository
from infrastructure.sqlalchemy.processing import SqlAlchemyProcessingRepository
from infrastructure.sqlalchemy.repositories import (
    SqlAlchemyApiTokenRepository,
    SqlAlchemyEventRepository,
    SqlAlchemySettingRepository,
    SqlAlchemyUserRepository,
)
from infrastructure.sqlalchemy.search_logs import SqlAlchemySearchLogRepository
from infrastructure.sqlalchemy.search_repository import SqlAlchemySearchRepository
from infrastructure.sqlalchemy.tags import SqlAlchemyTagRepository
from infrastructure.sqlalchemy.taxonomy_repositories import (
    SqlAlchemyClassificationRepository,
    SqlAlchemyTaxonomyRepository,
)
from infrastructure.sqlalchemy.uploads import SqlAlchemyUploadRepository
from infrastructure.tuning import Tuning


def autocommit_engine_of(engine: AsyncEngine) -> AsyncEngine:
    """A view of `engine` (same pool, same dialect) whose connections are in AUTOCOMMIT mode.

    SQLAlchemy sets the isolation level as a connection is checked out and restores it at
    check-in, as `conn.execution_options(isolation_level=...)` does, but without another
    greenlet round trip per unit of work (~20-30 µs on the authenticated hot path,
    docs/benchmarks.md, issue #2)."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")


class SqlAlchemyUnitOfWork:
    """Rolls back unless `commit()` was called.

    An autocommit unit of work runs each statement on its own: no BEGIN and no
    ROLLBACK round trips, which is what keeps the authenticated hot path at one query.
    Core, not the ORM session: use cases return plain domain objects and the repositories
    map rows explicitly, so an identity map would buy nothing but cost (PERFORMANCE.md).
    """

    users: SqlAlchemyUserRepository
    tokens: SqlAlchemyApiTokenRepository
    events: SqlAlchemyEventRepository
    settings: SqlAlchemySettingRepository
    documents: SqlAlchemyDocumentRepository
    views: SqlAlchemyDocumentViews
    categories: SqlAlchemyCategoryRepository
    tags: SqlAlchemyTagRepository
    file_types: SqlAlchemyFileTypeRepository
    permissions: SqlAlchemyPermissionRepository
    taxonomy: SqlAlchemyTaxonomyRepository
    classifications: SqlAlchemyClassificationRepository
    search: SqlAlchemySearchRepository
    search_logs: SqlAlchemySearchLogRepository
    jobs: SqlAlchemyJobQueue
    uploads: SqlAlchemyUploadRepository
    processing: SqlAlchemyProcessingRepository
    passwords: SqlAlchemyPasswordRepository
    sessions: SqlAlchemySessionRepository
    password_links: SqlAlchemyPasswordLinkRepository

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        autocommit: bool = False,
        autocommit_engine: AsyncEngine | None = None,
        tuning: Tuning | None = None,
    ) -> None:
        """`autocommit_engine`: `autocommit_engine_of(engine)`, for an autocommit unit of work; the
        factory passes the one it keeps rather than have each unit of work derive one."""
        if autocommit:
            engine = autocommit_engine or autocommit_engine_of(engine)
        self._engine = engine
        self._autocommit = autocommit
        self._tuning = tuning or Tuning()
        self._conn: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        try:
            conn = await self._engine.connect()
        except Exception as err:
            if is_unavailable(err, connecting=True):
                raise unavailable(err) from err
            raise
        if not self._autocommit:  # AUTOCOMMIT already, set by the engine at checkout
            try:
                await conn.begin()
            except BaseException as err:
                await _close_quietly(conn)
                if isinstance(err, Exception) and is_unavailable(err):
                    raise unavailable(err) from err
                raise
        self._conn = conn
        self.users = SqlAlchemyUserRepository(conn)
        self.tokens = SqlAlchemyApiTokenRepository(conn)
        self.events = SqlAlchemyEventRepository(conn)
        self.settings = SqlAlchemySettingRepository(conn)
        self.documents = SqlAlchemyDocumentRepository(conn, self._tuning)
        self.views = SqlAlchemyDocumentViews(conn)
        self.categories = SqlAlchemyCategoryRepository(conn)
        self.tags = SqlAlchemyTagRepository(conn)
        self.file_types = SqlAlchemyFileTypeRepository(conn)
        self.permissions = SqlAlchemyPermissionRepository(conn)
        self.taxonomy = SqlAlchemyTaxonomyRepository(conn)
        self.classifications = SqlAlchemyClassificationRepository(conn)
        self.search = SqlAlchemySearchRepository(conn, self._tuning)
        self.search_logs = SqlAlchemySearchLogRepository(conn)
        self.jobs = SqlAlchemyJobQueue(conn)
        self.uploads = SqlAlchemyUploadRepository(conn)
        self.processing = SqlAlchemyProcessingRepository(conn)
        self.passwords = SqlAlchemyPasswordRepository(conn)
        self.sessions = SqlAlchemySessionRepository(conn)
        self.password_links = SqlAlchemyPasswordLinkRepository(conn)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        lost = isinstance(exc, Exception) and is_unavailable(exc)
        try:
            try:
                if not self._autocommit and conn.in_transaction():
                    await conn.rollback()
            finally:
                await conn.close()
        except Exception as err:
            # Cleaning up a connection the server dropped can fail too: the outage is the news.
            if lost or is_unavailable(err):
                raise unavailable(exc if lost and exc is not None else err) from err
            raise
        if lost:
            assert exc is not None
            # The connection was lost (PostgreSQL restarted or is unreachable): a domain
            # error the HTTP layer answers 503, raised in place of the driver's.
            raise unavailable(exc) from exc

    async def commit(self) -> None:
        if self._conn is None:
            raise RuntimeError("commit() outside the unit of work")
        if self._autocommit:
            raise RuntimeError("an autocommit unit of work has nothing to commit")
        await self._conn.commit()

    async def rollback(self) -> None:
        if self._conn is not None and self._conn.in_transaction():
            await self._conn.rollback()


async def _close_quietly(conn: AsyncConnection) -> None:
    # Already failing: the original error is what the caller needs to see.
    with contextlib.suppress(Exception):
        await conn.close()


class SqlAlchemyUnitOfWorkFactory:
    def __init__(self, engine: AsyncEngine, tuning: Tuning | None = None) -> None:
        self._engine = engine
        self._autocommit_engine = autocommit_engine_of(engine)
        self.tuning = tuning or Tuning()

    def __call__(self, *, autocommit: bool = False) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(
            self._engine,
            autocommit=autocommit,
            autocommit_engine=self._autocommit_engine,
            tuning=self.tuning,
        )
