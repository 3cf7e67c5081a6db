"""Prometheus metrics of the database side (issue #13 item 2): the connection pools, statement
durations by statement name, slow statements and database errors by kind.

Like the job outcome counter (`infrastructure.job_metrics`) every metric here is the
process's own, in no registry: each app's `/metrics` exposes them (`interfaces.http.metrics`),
and under prometheus_client's multiprocess mode they are written to its files and summed
across the server's processes. Labels are bounded: the pool (`main`, `locks`), the statement
name (`engine.statement_name`: verb and table, never a value; at most `MAX_STATEMENT_NAMES`,
then `(other)`) and the error kind.

- The pool gauges (size, checked out, idle, overflow) are read from the pools themselves by
  `sample_pools`, at scrape time (and every few seconds by each process in multiprocess mode,
  `interfaces.http.metrics`): nothing on the hot path.
- A wait is a checkout that found no idle connection and no room to open one: the only
  checkouts that queue. `InstrumentedPool` (SQLAlchemy's asyncio queue pool with `connect`
  timed; `connect` is the pool's public entry point, which every checkout goes through)
  notes it before taking the connection and observes the time it took; a checkout that does
  not wait costs one `qsize()`.
- Statement durations come from the cursor-event timing `statement_stats` already does (one
  perf_counter pair a statement); the histogram observe adds ~1 µs (docs/decisions.md).
- Errors are counted where SQLAlchemy reports them, its public `handle_error` engine event
  (every statement and connect failure), plus the pool's own timeout and the statements run
  on the driver connection (`prepared`), which bypass that event.
"""

from __future__ import annotations

import threading
import time
import weakref
from functools import lru_cache
from typing import Any, Final

from asyncpg import exceptions as pg  # type: ignore[import-untyped]
from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import event
from sqlalchemy.engine import Engine, ExceptionContext
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import AsyncAdaptedQueuePool, PoolProxiedConnection

from infrastructure.sqlalchemy.availability import is_unavailable

PREFIX: Final = "archivist_db"
MAX_STATEMENT_NAMES: Final = 200
OTHER: Final = "(other)"
# 0.5 ms (a primary-key lookup) to 5 s (well past any statement the service should run).
STATEMENT_BUCKETS: Final = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
)  # fmt: skip
# A wait is short when the pool is merely busy and reaches the pool timeout when it is starved.
WAIT_BUCKETS: Final = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0)

# Error kinds (the `kind` label).
CONNECTION: Final = "connection"  # lost, refused, server shutting down (`is_unavailable`)
POOL_TIMEOUT: Final = "pool_timeout"  # no connection within ARCHIVIST_DB_POOL_TIMEOUT
STATEMENT_TIMEOUT: Final = "statement_timeout"  # statement_timeout, lock_timeout, cancelled
CONSTRAINT: Final = "constraint"  # unique, foreign key, check, not-null violations
OTHER_ERROR: Final = "other"
ERROR_KINDS: Final = (CONNECTION, POOL_TIMEOUT, STATEMENT_TIMEOUT, CONSTRAINT, OTHER_ERROR)

STATEMENT_DURATION = Histogram(
    f"{PREFIX}_statement_duration_seconds",
    "Time to run SQL statements, by statement name (verb and table)",
    ["statement"],
    buckets=STATEMENT_BUCKETS,
    registry=None,
)
SLOW_STATEMENTS = Counter(
    f"{PREFIX}_slow_statements_total",
    "Statements slower than ARCHIVIST_SLOW_QUERY_MS, by statement name",
    ["statement"],
    registry=None,
)
ERRORS = Counter(
    f"{PREFIX}_errors_total",
    "Database errors by kind (connection, pool_timeout, statement_timeout, constraint, other)",
    ["kind"],
    registry=None,
)
POOL_WAIT = Histogram(
    f"{PREFIX}_pool_wait_seconds",
    "Checkouts that waited for a connection (none idle, no room to open one), and how long",
    ["pool"],
    buckets=WAIT_BUCKETS,
    registry=None,
)
POOL_CONNECTS = Counter(
    f"{PREFIX}_pool_connections_opened_total",
    "New connections the pool opened (start, overflow, recycle, after a lost connection)",
    ["pool"],
    registry=None,
)
# Summed over the server's live processes in multiprocess mode.
POOL_SIZE = Gauge(
    f"{PREFIX}_pool_size",
    "Connections the pool keeps (ARCHIVIST_DB_POOL_SIZE)",
    ["pool"],
    registry=None,
    multiprocess_mode="livesum",
)
POOL_MAX_OVERFLOW = Gauge(
    f"{PREFIX}_pool_max_overflow",
    "Connections the pool may open beyond its size (ARCHIVIST_DB_MAX_OVERFLOW)",
    ["pool"],
    registry=None,
    multiprocess_mode="livesum",
)
POOL_CHECKED_OUT = Gauge(
    f"{PREFIX}_pool_checked_out",
    "Connections in use",
    ["pool"],
    registry=None,
    multiprocess_mode="livesum",
)
POOL_CHECKED_IN = Gauge(
    f"{PREFIX}_pool_checked_in",
    "Open connections idle in the pool",
    ["pool"],
    registry=None,
    multiprocess_mode="livesum",
)
POOL_OVERFLOW = Gauge(
    f"{PREFIX}_pool_overflow",
    "Connections open beyond the pool size",
    ["pool"],
    registry=None,
    multiprocess_mode="livesum",
)

DB_METRICS: Final = (
    STATEMENT_DURATION,
    SLOW_STATEMENTS,
    ERRORS,
    POOL_WAIT,
    POOL_CONNECTS,
    POOL_SIZE,
    POOL_MAX_OVERFLOW,
    POOL_CHECKED_OUT,
    POOL_CHECKED_IN,
    POOL_OVERFLOW,
)
"""Every metric of this module, for a registry to expose."""

_ERROR_CHILDREN: Final = {kind: ERRORS.labels(kind) for kind in ERROR_KINDS}


class InstrumentedPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio queue pool, with the checkouts that wait counted and timed.
    `pool_class(name)` gives the subclass for one pool label (the label survives
    `recreate()`, which the engine's `dispose()` calls, since that builds `self.__class__`)."""

    pool_label = "main"

    def __init__(self, creator: Any, pool_size: int = 5, max_overflow: int = 10, **kw: Any) -> None:
        super().__init__(creator, pool_size=pool_size, max_overflow=max_overflow, **kw)
        self.max_overflow_setting = max_overflow
        self._wait = POOL_WAIT.labels(self.pool_label)

    def exhausted(self) -> bool:
        """No idle connection and no room to open one: a checkout now waits."""
        return self.checkedin() == 0 and self.overflow() >= self.max_overflow_setting

    def connect(self) -> PoolProxiedConnection:
        """A connection; a failure to get one (pool timeout, refused, unreachable) is
        counted here, where it happens: SQLAlchemy's `handle_error` sees only driver
        errors, and those with no connection yet are left to this count."""
        started = time.perf_counter() if self.exhausted() else None
        try:
            return super().connect()
        except Exception as err:
            count_error(err, connecting=True)
            raise
        finally:
            if started is not None:
                self._wait.observe(time.perf_counter() - started)


@lru_cache(maxsize=8)
def pool_class(label: str) -> type[InstrumentedPool]:
    """The pool class whose metrics carry `pool=label`. Its module is SQLAlchemy's pool
    module: a pool logs through a logger named after its class's module, and SQLAlchemy keeps
    its own loggers quiet below WARNING, where ours would print every dispose and recreate."""
    namespace = {"pool_label": label, "__module__": "sqlalchemy.pool"}
    return type(f"InstrumentedPool_{label}", (InstrumentedPool,), namespace)


# The engines whose pools `sample_pools` reads, by pool label, oldest first: the newest still
# alive is read. `archivist serve` builds an engine to migrate and bootstrap before the app's
# own, and the tests build many: the newest is the one in use.
_ENGINES: dict[str, list[weakref.ref[Engine]]] = {}
_ENGINES_LOCK = threading.Lock()


def instrument_engine(engine: AsyncEngine, label: str) -> None:
    """Count `engine`'s errors and new connections, and let `sample_pools` read its pool."""
    sync = engine.sync_engine
    with _ENGINES_LOCK:
        refs = [ref for ref in _ENGINES.get(label, []) if ref() is not None]
        _ENGINES[label] = [*refs, weakref.ref(sync)]
    connects = POOL_CONNECTS.labels(label)

    @event.listens_for(sync, "handle_error")
    def _count_error(context: ExceptionContext) -> None:
        # A failed pre-ping: the pool replaces the connection, nothing failed. No connection:
        # a failure to connect, counted by the pool (`InstrumentedPool.connect`).
        if context.is_pre_ping or context.connection is None:
            return
        err = context.sqlalchemy_exception or context.original_exception
        if isinstance(err, Exception):  # not a cancellation
            count_error(err)

    @event.listens_for(sync.pool, "connect")
    def _count_connect(dbapi_connection: Any, record: Any) -> None:
        connects.inc()


def error_kind(err: BaseException, *, connecting: bool = False) -> str:
    """The `kind` label of a database error (`ERROR_KINDS`); `connecting` as for
    `availability.is_unavailable` (an `OSError` while connecting is the server's absence)."""
    if is_unavailable(err, connecting=connecting):
        return POOL_TIMEOUT if isinstance(err, PoolTimeout) else CONNECTION
    orig = getattr(err, "orig", None)
    cause = getattr(orig, "__cause__", None)
    for current in (err, orig, cause):
        if isinstance(current, IntegrityError | pg.IntegrityConstraintViolationError):
            return CONSTRAINT
        if isinstance(current, pg.QueryCanceledError | pg.LockNotAvailableError):
            return STATEMENT_TIMEOUT
    return OTHER_ERROR


def count_error(err: BaseException, *, connecting: bool = False) -> None:
    _ERROR_CHILDREN[error_kind(err, connecting=connecting)].inc()


class StatementObserver:
    """Observes statement durations by name, keeping the labelled children (a dict lookup
    and an observe a statement); past `MAX_STATEMENT_NAMES` names, under `(other)`."""

    def __init__(self, histogram: Histogram = STATEMENT_DURATION) -> None:
        self._histogram = histogram
        self._children: dict[str, Any] = {}

    def __call__(self, name: str, seconds: float) -> None:
        child = self._children.get(name)
        if child is None:
            if len(self._children) >= MAX_STATEMENT_NAMES:
                name = OTHER
            child = self._histogram.labels(name)
            self._children[name] = child
        child.observe(seconds)


observe_statement = StatementObserver()
"""The process's observer, fed by every engine `engine.create_engine` builds."""


def count_slow_statement(name: str) -> None:
    SLOW_STATEMENTS.labels(name).inc()


def _newest(refs: list[weakref.ref[Engine]]) -> Engine | None:
    for ref in reversed(refs):
        engine = ref()
        if engine is not None:
            return engine
    return None


def sample_pools() -> None:
    """Set the pool gauges from the pools of the engines in use."""
    with _ENGINES_LOCK:
        newest = {label: _newest(refs) for label, refs in _ENGINES.items()}
    for label, engine in newest.items():
        pool = engine.pool if engine is not None else None
        if not isinstance(pool, InstrumentedPool):
            continue
        POOL_SIZE.labels(label).set(pool.size())
        POOL_MAX_OVERFLOW.labels(label).set(pool.max_overflow_setting)
        POOL_CHECKED_OUT.labels(label).set(pool.checkedout())
        POOL_CHECKED_IN.labels(label).set(pool.checkedin())
        # Negative while fewer connections than the size are open: none beyond it.
        POOL_OVERFLOW.labels(label).set(max(0, pool.overflow()))
