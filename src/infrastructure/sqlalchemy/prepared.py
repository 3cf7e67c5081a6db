"""Statements run on the asyncpg connection itself, skipping SQLAlchemy's execution path.

SQLAlchemy's statement-cache lookup, execution context and result objects cost ~195 µs a
call (docs/benchmarks.md), a quarter of a request on the hottest reads: the token lookup every
authenticated request makes and the document view. Those, and only those, run through a
`PreparedStatement`: built with Core from named parameters, compiled once for the asyncpg
dialect, run with asyncpg's `fetchrow`/`fetch` on the unit of work's connection.

What the bypass must not lose, it keeps here, in one place:

- **Hooks.** The statement fires the engine's own `before_cursor_execute` and
  `after_cursor_execute` events around the driver call, so every listener — the slow-query
  log (`engine._log_slow_queries`), the statement counter of `tests/integration` — times and
  counts it as any other statement, and no listener needs to know about this module. A
  listener receives `cursor=None` and `context=None` (there is neither) and the parameters as
  the positional tuple sent to the driver; the project's listeners read only the connection
  and the SQL. Return values are ignored: a `retval=True` listener cannot rewrite these
  statements. (SQLAlchemy's `echo` log is not an event and does not see them.)
- **Errors.** A driver error is raised as the `sqlalchemy.exc.DBAPIError` subclass
  `conn.execute` raises (parameters hidden as the engine says), and a lost connection is
  invalidated so the pool does not hand it out again.

Transactions: the statement runs on the connection as it is. An autocommit unit of work is in
autocommit mode, where the hot paths run; in a read-write one the asyncpg adapter opens its
transaction at the first statement SQLAlchemy runs, so a prepared statement run before any
other would run outside it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy.dialects.postgresql import asyncpg as pg_asyncpg
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

from infrastructure.sqlalchemy.db_metrics import count_error

_DIALECT = pg_asyncpg.dialect()  # type: ignore[no-untyped-call]


# Every prepared statement's parameter names, by its SQL (`parameter_names`).
_NAMES: dict[str, tuple[str, ...]] = {}


def parameter_names(sql: str) -> tuple[str, ...] | None:
    """The names of a prepared statement's positional parameters, for a listener that sees
    only its SQL and values (`before_cursor_execute` has no compiled statement for it)."""
    return _NAMES.get(sql)


class PreparedStatement:
    """`stmt` rendered once for asyncpg (`$n` placeholders), run with values by name.

    Every parameter of `stmt` is a named `bindparam` without a value, given at each run:
    a value bound into the statement would be frozen into every run, so it is refused, as
    are expanding and literal-execute parameters (rendered only at execution)."""

    __slots__ = ("names", "sql")

    def __init__(self, stmt: ClauseElement) -> None:
        compiled = cast(SQLCompiler, stmt.compile(dialect=_DIALECT))
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("a prepared statement cannot have expanding or literal parameters")
        valued = sorted(b.key for b in compiled.binds.values() if not b.required)
        if valued:
            raise ValueError(f"parameters with a bound value, pass them by name: {valued}")
        self.sql: str = str(compiled)
        # Parameter names in `$n` order (asyncpg's arguments are positional).
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ())
        if _NAMES.setdefault(self.sql, self.names) != self.names:
            raise ValueError("another prepared statement of the same SQL names its parameters")

    async def fetchrow(self, conn: AsyncConnection, values: Mapping[str, Any]) -> Any:
        """The first record (an `asyncpg.Record`, by column name), or None."""
        return await self._run(conn, "fetchrow", values)

    async def fetch(self, conn: AsyncConnection, values: Mapping[str, Any]) -> list[Any]:
        """Every record."""
        records: list[Any] = await self._run(conn, "fetch", values)
        return records

    async def _run(self, conn: AsyncConnection, method: str, values: Mapping[str, Any]) -> Any:
        args = tuple([values[name] for name in self.names])
        raw = await _pooled_connection(conn)
        sync = conn.sync_connection
        assert sync is not None  # started by `_pooled_connection`
        sync.dispatch.before_cursor_execute(sync, None, self.sql, args, None, False)
        try:
            result = await getattr(raw.driver_connection, method)(self.sql, *args)
        except Exception as err:
            raise await _translated(conn, raw.dbapi_connection, err, self.sql, args) from err
        sync.dispatch.after_cursor_execute(sync, None, self.sql, args, None, False)
        return result


async def _pooled_connection(conn: AsyncConnection) -> PoolProxiedConnection:
    """`conn.get_raw_connection()`, without its greenlet round trip when `conn` holds its
    pooled connection (neither closed nor invalidated): `Connection.connection` then only
    returns it, no I/O. Only reconnecting an invalidated connection needs the greenlet
    (~13 µs a statement on the hot path, issue #11)."""
    sync = conn.sync_connection
    if sync is not None and not sync.closed and not sync.invalidated:
        return sync.connection
    return await conn.get_raw_connection()


async def _translated(
    conn: AsyncConnection, adapted: Any, err: Exception, sql: str, args: tuple[Any, ...]
) -> StatementError:
    """`err`, raised by the driver, as `conn.execute` would raise it (a `DBAPIError`, or
    a `StatementError` around what is not a driver error); a lost connection is invalidated
    first."""
    # SQLAlchemy has no public way to translate a driver exception
    # (sqlalchemy/sqlalchemy#8047 proposes one): the asyncpg adapter's `_handle_exception`,
    # which its own cursor calls, raises the DBAPI-level error it maps `err` to (or `err`).
    try:
        adapted._handle_exception(err)
    except Exception as dbapi_error:
        translated = dbapi_error
    else:  # pragma: no cover - `_handle_exception` always raises
        translated = err
    dialect = conn.dialect
    invalidated = dialect.is_disconnect(translated, adapted, None)  # type: ignore[arg-type]
    wrapped = DBAPIError.instance(
        sql,
        args,
        translated,
        dialect.loaded_dbapi.Error,
        hide_parameters=conn.sync_engine.hide_parameters,
        connection_invalidated=invalidated,
        dialect=dialect,
    )
    count_error(wrapped)  # SQLAlchemy's `handle_error` does not see this path (`db_metrics`)
    if invalidated:
        await conn.invalidate(translated)
    return wrapped
