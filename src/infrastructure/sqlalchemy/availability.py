"""Connection-level failures become `StorageUnavailable` at the adapter boundary.

When PostgreSQL restarts, is unreachable, refuses connections while it starts or stops, or the
pool has no connection to give within its timeout, a request cannot be served and changed
nothing; the HTTP layer answers 503 with `Retry-After` (docs/decisions.md, "Faults"). Every
other database error (a constraint, a bad statement, a bug) keeps its own meaning.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Final

from asyncpg import exceptions as pg  # type: ignore[import-untyped]
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from domain.errors import StorageUnavailable

log = logging.getLogger("archivist.sql")

# What the server answers while it is going away or not yet back: the connection-exception
# class (08xxx), admin/crash shutdown and "cannot connect now" (57P01-57P03), too many clients.
_DRIVER_UNAVAILABLE: Final = (
    pg.PostgresConnectionError,
    pg.CannotConnectNowError,
    pg.AdminShutdownError,
    pg.CrashShutdownError,
    pg.TooManyConnectionsError,
)
_MAX_CHAIN: Final = 8


def _chain(err: BaseException) -> Iterator[BaseException]:
    """`err`, the driver error it wraps, and their causes (bounded: chains can loop)."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [err]
    while todo and len(seen) < _MAX_CHAIN:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        todo += [orig if isinstance(orig, BaseException) else None]
        todo += [current.__cause__, current.__context__]


def is_unavailable(err: BaseException, *, connecting: bool = False) -> bool:
    """True when `err` says the database cannot be reached now, not that a statement failed.

    `connecting`: `err` came from opening a connection, where an `OSError` (refused, no
    socket file, unreachable) or a timeout also means the server is not there. Elsewhere an
    `OSError` counts only under a driver error (a reset socket), never on its own: a full
    disk while writing a blob is not the database's absence."""
    for current in _chain(err):
        if isinstance(current, PoolTimeout):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, _DRIVER_UNAVAILABLE):
            return True
        if connecting and isinstance(current, OSError | TimeoutError):
            return True
    return False


def unavailable(err: BaseException) -> StorageUnavailable:
    """The domain error for a connection-level failure (raise it `from err`)."""
    cause = err
    for current in _chain(err):
        cause = current
    log.warning("database unavailable: %s: %s", type(cause).__name__, str(cause)[:200])
    return StorageUnavailable("the database is unavailable just now; retry shortly")


@asynccontextmanager
async def storage_errors(*, connecting: bool = False) -> AsyncIterator[None]:
    """Raise `StorageUnavailable` for a connection-level failure inside the block."""
    try:
        yield
    except Exception as err:
        if is_unavailable(err, connecting=connecting):
            raise unavailable(err) from err
        raise
