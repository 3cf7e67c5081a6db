"""Engine construction and URL handling. Nothing here runs at import."""

from __future__ import annotations

import logging
import re
import time
from functools import lru_cache
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from infrastructure.config import AppSettings
from infrastructure.sqlalchemy.db_metrics import (
    count_slow_statement,
    instrument_engine,
    observe_statement,
    pool_class,
)
from infrastructure.sqlalchemy.statement_stats import record_statements

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
    pool_label: str = "main",
) -> AsyncEngine:
    """The engine for `settings`; `pool_size`/`max_overflow` replace the configured ones
    (the blob locks' own small pool). `pool_label` names its pool in the metrics
    (`db_metrics`: `main`, `locks`)."""
    engine = create_async_engine(
        async_url(url),
        poolclass=pool_class(pool_label),  # the asyncio queue pool, its waits timed
        pool_size=settings.db_pool_size if pool_size is None else pool_size,
        max_overflow=settings.db_max_overflow if max_overflow is None else max_overflow,
        pool_timeout=settings.db_pool_timeout,
        pool_pre_ping=settings.db_pool_pre_ping,
        # SQLAlchemy's "never" is -1 (0 would replace every connection at each checkout).
        pool_recycle=settings.db_pool_recycle or -1,
        # `echo=True` would add SQLAlchemy's own handler (stdout, another format): the
        # statements go through the process's logging instead (`_echo_statements`).
        echo=False,
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
    # Per statement name: calls, total and longest time (`statement_stats`, db-report), and
    # the duration histogram of `/metrics`; errors and the pool's figures (`db_metrics`).
    record_statements(engine, statement_name, observe=observe_statement)
    instrument_engine(engine, pool_label)
    if settings.sql_echo:
        _echo_statements()
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


def _echo_statements() -> None:
    """`ARCHIVIST_SQL_ECHO`: what `echo=True` logs (statements; parameters hidden by
    `hide_parameters`), through the handlers of the process's logging setup."""
    logging.getLogger("sqlalchemy.engine.Engine").setLevel(logging.INFO)


_VERB = re.compile(r"\s*\(*\s*([A-Za-z]+)")
# The table a statement writes (not `FOR UPDATE`, `FOR NO KEY UPDATE`, `DO UPDATE`).
_WRITE = re.compile(
    r"\b(INSERT\s+INTO|(?<!FOR\s)(?<!KEY\s)(?<!DO\s)UPDATE|DELETE\s+FROM)\s+((?:\w+\.)?\w+)",
    re.IGNORECASE,
)
# The first table a statement reads.
_READ = re.compile(r"\bFROM\s+((?:\w+\.)?\w+)", re.IGNORECASE)
# A statement without a table (`SELECT pg_sleep(...)`, `SELECT 1`): the word after the verb.
_FIRST_WORD = re.compile(r"\s*\(*\s*[A-Za-z]+\s+([A-Za-z_]\w*)")
_NOT_A_NAME = frozenset({"DISTINCT", "ALL", "NOT", "ONLY", "TRANSACTION", "ISOLATION"})


@lru_cache(maxsize=512)
def statement_name(sql: str) -> str:
    """A short name for a statement, from its text only: its verb and the table it writes
    or else the first it reads (`SELECT documents`, `INSERT events`, `UPDATE api_tokens`,
    `WITH INSERT events`, `WITH SELECT documents`), or the verb and the word after it
    (`SELECT pg_sleep`). SQLAlchemy's statements carry their values as bound parameters:
    no part of a name is a value a caller sent."""
    verb_match = _VERB.match(sql)
    verb = verb_match.group(1).upper() if verb_match else "SQL"
    if verb in {"INSERT", "UPDATE", "DELETE", "WITH"}:
        written = _WRITE.search(sql)
        if written is not None:
            what = written.group(1).split()[0].upper()
            prefix = "WITH " if verb == "WITH" else ""
            return f"{prefix}{what} {written.group(2)}"
    read = _READ.search(sql)
    if read is not None:
        return f"{verb} SELECT {read.group(1)}" if verb == "WITH" else f"{verb} {read.group(1)}"
    word = _FIRST_WORD.match(sql)
    if word is not None and word.group(1).upper() not in _NOT_A_NAME:
        return f"{verb} {word.group(1)}"
    return verb


def _log_slow_queries(engine: AsyncEngine, threshold_s: float) -> None:
    """Log statements slower than the threshold: the statement's name (`statement_name`)
    and its duration. Neither its text nor its parameters: parameters can hold secrets
    (token hashes, emails), and the line is read next to the request's others (it carries
    the request id), which say which route ran it. The statements run on the driver connection
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
            name = statement_name(statement)
            ms = round(elapsed * 1000, 1)
            log.warning(
                "slow statement %s: %.1f ms", name, ms, extra={"statement": name, "duration_ms": ms}
            )
            count_slow_statement(name)
