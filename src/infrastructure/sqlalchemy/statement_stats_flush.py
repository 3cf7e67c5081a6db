"""The statement statistics a server process keeps (`statement_stats.STATEMENT_STATS`), added
to the `statement_stats` table every few seconds, where `archivist db-report` reads them
(docs/decisions.md, "Database report").

Each flush takes what was recorded since the last one (`StatementStats.take_unflushed`) and
adds it in one statement: calls and total time added, the longest time kept. It runs on a
connection of its own, opened for the flush, outside the engine's pool and its events: the
flush is not counted among the statements it stores, and a pool busy with requests does not
hold it up. A failed flush never fails the process: it logs a warning and puts what it took
back, for the next flush. `stop` flushes once more."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final

import asyncpg  # type: ignore[import-untyped]

from infrastructure.sqlalchemy.job_worker import libpq_dsn
from infrastructure.sqlalchemy.statement_stats import STATEMENT_STATS, StatementStats

log = logging.getLogger("archivist.sql")

TIMEOUT_SECONDS: Final = 10.0
"""Bound on connecting, and on the statement."""

# In name order, so two processes flushing at once take the rows' locks in one order.
UPSERT: Final = """
INSERT INTO statement_stats AS s (name, calls, total_ms, max_ms, updated_at)
SELECT d.name, d.calls, d.total_ms, d.max_ms, now()
FROM unnest($1::text[], $2::bigint[], $3::double precision[], $4::double precision[])
    AS d(name, calls, total_ms, max_ms)
ORDER BY d.name
ON CONFLICT (name) DO UPDATE SET
    calls = s.calls + EXCLUDED.calls,
    total_ms = s.total_ms + EXCLUDED.total_ms,
    max_ms = GREATEST(s.max_ms, EXCLUDED.max_ms),
    updated_at = EXCLUDED.updated_at
"""


class StatementStatsFlusher:
    """Adds `stats`' new figures to the database at `database_url` every `interval_seconds`
    once started, and at `stop`."""

    def __init__(
        self,
        database_url: str,
        interval_seconds: float,
        stats: StatementStats = STATEMENT_STATS,
    ) -> None:
        if interval_seconds <= 0:
            raise ValueError("the flush interval must be positive")
        self._url = database_url
        self._interval = interval_seconds
        self._stats = stats
        self._task: asyncio.Task[None] | None = None

    @property
    def interval_seconds(self) -> float:
        return self._interval

    async def flush(self) -> bool:
        """Add what was recorded since the last flush; False (logged, and kept for the next
        flush) when it could not be stored."""
        taken = self._stats.take_unflushed()
        if not taken:
            return True
        try:
            conn = await asyncpg.connect(
                libpq_dsn(self._url),
                timeout=TIMEOUT_SECONDS,
                server_settings={"application_name": "archivist-stats"},
            )
            try:
                await conn.execute(
                    UPSERT,
                    [s.name for s in taken],
                    [s.calls for s in taken],
                    [s.total_ms for s in taken],
                    [s.max_ms for s in taken],
                    timeout=TIMEOUT_SECONDS,
                )
            finally:
                await _close(conn)
        except Exception as err:  # any failure (asyncpg, OS, timeout): never the process's
            self._stats.put_back(taken)
            message = (str(err).strip().splitlines() or [type(err).__name__])[0]
            log.warning(
                "could not store the statement statistics (kept for the next flush): %s", message
            )
            return False
        except BaseException:  # cancelled: the next flush (`stop`'s) has them
            self._stats.put_back(taken)
            raise
        return True

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="statement-stats-flush")

    async def stop(self) -> None:
        """Stop flushing on schedule, and flush what is left."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.flush()


async def _close(conn: asyncpg.Connection) -> None:
    """Close without raising: the statement's outcome is what counts."""
    try:
        await conn.close(timeout=TIMEOUT_SECONDS)
    except Exception:
        log.debug("closing the statement statistics' connection failed", exc_info=True)
        conn.terminate()
