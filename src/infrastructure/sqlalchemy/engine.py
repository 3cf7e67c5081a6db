"""Engine construction and URL handling. Nothing here runs at import."""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from infrastructure.config import AppSettings

log = logging.getLogger("archivist.sql")


def async_url(url: str) -> URL:
    """Accept postgres://, postgresql:// or postgresql+asyncpg:// and return the asyncpg form."""
    parsed = make_url(url)
    if parsed.drivername in {"postgres", "postgresql", "postgresql+psycopg2", "postgresql+psycopg"}:
        parsed = parsed.set(drivername="postgresql+asyncpg")
    if parsed.drivername != "postgresql+asyncpg":
        raise ValueError(f"unsupported database URL scheme {parsed.drivername!r}: use postgresql")
    return parsed


def safe_url(url: str | URL) -> str:
    """The URL with its password masked, for logs and messages."""
    return (make_url(url) if isinstance(url, str) else url).render_as_string(hide_password=True)


def create_engine(
    url: str,
    settings: AppSettings,
    *,
    pool_size: int | None = None,
    max_overflow: int | None = None,
) -> AsyncEngine:
    """The engine for `settings`; `pool_size`/`max_overflow` replace the configured ones
    (the blob locks' own small pool)."""
    engine = create_async_engine(
        async_url(url),
        pool_size=settings.db_pool_size if pool_size is None else pool_size,
        max_overflow=settings.db_max_overflow if max_overflow is None else max_overflow,
        pool_timeout=settings.db_pool_timeout,
        pool_pre_ping=settings.db_pool_pre_ping,
        echo=settings.sql_echo,
        # Parameters can carry emails and token hashes: never in logs or error messages.
        hide_parameters=True,
        connect_args={
            "server_settings": {"application_name": "archivist"},
            # asyncpg waits 60 s by default for an unreachable host: no longer than for a
            # pooled connection, so no request hangs past the pool timeout.
            "timeout": settings.db_pool_timeout,
        },
    )
    _replace_closed_connections(engine)
    if settings.slow_query_ms > 0:
        _log_slow_queries(engine, settings.slow_query_ms / 1000)
    return engine


def _replace_closed_connections(engine: AsyncEngine) -> None:
    """A pooled connection whose socket the server closed (PostgreSQL restarted or ended the
    session) is discarded at checkout and the pool connects afresh: the pessimistic check of
    `pool_pre_ping` without its round trip. asyncpg notices the close as it happens, because
    the event loop keeps reading idle sockets. Covers every statement, the ones run on the
    driver connection too (`prepared.PreparedStatement`): they all start from a checkout."""

    @event.listens_for(engine.sync_engine, "checkout")
    def _check(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        driver = getattr(dbapi_connection, "driver_connection", None)
        if driver is not None and driver.is_closed():
            raise DisconnectionError("connection closed by the server")


def _log_slow_queries(engine: AsyncEngine, threshold_s: float) -> None:
    """Log statements slower than the threshold. Parameters are never logged: they can
    hold secrets (token hashes, emails). The statements run on the driver connection
    (`prepared.PreparedStatement`) fire these events too, with no cursor or context: the
    listeners read only the connection and the SQL."""

    # One start time per connection: statements on a connection do not overlap, and a failed
    # one (no `after_cursor_execute`) leaves a time the next statement overwrites.
    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _start(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        conn.info["archivist_t0"] = time.perf_counter()

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def _stop(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        started = conn.info.pop("archivist_t0", None)
        if started is None:
            return
        elapsed = time.perf_counter() - started
        if elapsed >= threshold_s:
            log.warning("slow query (%.1f ms): %s", elapsed * 1000, " ".join(statement.split()))
