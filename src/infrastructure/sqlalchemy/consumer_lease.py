"""`ConsumerLease` on PostgreSQL: a session-level advisory lock on a connection of its own.

`pg_try_advisory_lock` never waits: a process that does not get it tries again later. The
lock lasts as long as the session that took it, so a consumer that dies (SIGKILL, a lost
machine) frees it with its connection, and a consumer whose connection is lost (a database
restart) has lost it too: `still_held` asks the session, and the consumer stops when it is
gone. Session-level locks need a session of their own: behind a pooler, connect in session
mode (a transaction-mode pgbouncer would hand the lock's session to others)."""

from __future__ import annotations

import asyncio
import logging
from typing import Final

import asyncpg  # type: ignore[import-untyped]

from infrastructure.sqlalchemy.job_worker import libpq_dsn

log = logging.getLogger("archivist.consume")

# (namespace, key) of the lock: one consumer per database. "blob" is the blob locks'.
NAMESPACE: Final = int.from_bytes(b"cons", "big", signed=True)
KEY: Final = 1
CONNECT_SECONDS: Final = 10.0
CHECK_SECONDS: Final = 5.0  # a session that does not answer within this is taken as lost


class AdvisoryConsumerLease:
    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._conn: asyncpg.Connection | None = None

    async def acquire(self) -> bool:
        if self._conn is not None:
            if await self.still_held():
                return True
            await self.release()
        conn = await asyncpg.connect(
            libpq_dsn(self._url),
            timeout=CONNECT_SECONDS,
            server_settings={"application_name": "archivist-consume"},
        )
        try:
            taken = await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", NAMESPACE, KEY)
        except BaseException:
            await _close(conn)
            raise
        if not taken:
            await _close(conn)
            return False
        self._conn = conn
        return True

    async def still_held(self) -> bool:
        conn = self._conn
        if conn is None or conn.is_closed():
            return False
        try:
            await conn.fetchval("SELECT 1", timeout=CHECK_SECONDS)
        except Exception:  # any failure of the session (asyncpg has several kinds) loses it
            log.debug("the consume lease's session is gone", exc_info=True)
            return False
        return True

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await _close(conn)  # the session ends, and its lock with it


async def _close(conn: asyncpg.Connection) -> None:
    try:
        await asyncio.wait_for(conn.close(), CHECK_SECONDS)
    except Exception:
        log.debug("closing the consume lease's connection failed", exc_info=True)
        conn.terminate()
