"""What `archivist db-report` shows of a PostgreSQL database (issue #13 item 1): sizes, row
estimates, index usage, cache hits, dead tuples and maintenance, connections, the slowest
statements, and the plans of the application's hot statements for a sample reader.

Read-only for the operator: the catalog queries only read, and the hot statements (the
document view writes its `document.viewed` event) run in one transaction that is rolled back
(`db_plans`). The slowest statements are the ones the service's processes measured and added
to the `statement_stats` table (`statement_stats_flush`), and pg_stat_statements' too when it is
installed (docs/decisions.md, "Database report")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from infrastructure.sqlalchemy.db_plans import (
    Plans,
    hot_plans,
)
from infrastructure.sqlalchemy.engine import statement_name

SLOWEST = 20
"""Statements listed, by total time."""


@dataclass(frozen=True, slots=True)
class TableStats:
    schema: str
    name: str
    rows_estimate: int
    heap_bytes: int
    index_bytes: int
    toast_bytes: int
    total_bytes: int
    live_tuples: int
    dead_tuples: int
    seq_scans: int
    index_scans: int
    last_vacuum: datetime | None
    last_autovacuum: datetime | None
    last_analyze: datetime | None
    last_autoanalyze: datetime | None

    @property
    def qualified(self) -> str:
        return self.name if self.schema == "public" else f"{self.schema}.{self.name}"


@dataclass(frozen=True, slots=True)
class IndexStats:
    schema: str
    table: str
    name: str
    scans: int
    tuples_read: int
    size_bytes: int
    unique: bool
    primary: bool

    @property
    def never_used(self) -> bool:
        return self.scans == 0


@dataclass(frozen=True, slots=True)
class CacheHits:
    """Blocks found in shared buffers against blocks read, since the statistics reset."""

    database_ratio: float | None
    heap_ratio: float | None
    index_ratio: float | None
    blocks_hit: int
    blocks_read: int


@dataclass(frozen=True, slots=True)
class Connections:
    application: str
    state: str
    count: int


@dataclass(frozen=True, slots=True)
class SlowStatement:
    name: str
    calls: int
    total_ms: float
    mean_ms: float
    max_ms: float
    query: str | None = None  # pg_stat_statements' normalized text (values as $n)


@dataclass(frozen=True, slots=True)
class SlowestStatements:
    source: str  # "the service" (its `statement_stats` table) or "pg_stat_statements"
    note: str
    statements: list[SlowStatement]
    last_updated: datetime | None = None  # the service's: its latest flush


@dataclass(frozen=True, slots=True)
class DbReport:
    generated_at: datetime
    database: str
    server_version: str
    size_bytes: int
    stats_reset: datetime | None
    tables: list[TableStats]
    indexes: list[IndexStats]
    cache: CacheHits
    connections: list[Connections]
    slowest: SlowestStatements  # the service's
    server_statements: SlowestStatements | None  # pg_stat_statements', when installed
    plans: Plans


async def collect(engine: AsyncEngine, flush_seconds: float = 60.0) -> DbReport:
    """The report for the database `engine` connects to; `flush_seconds`: how often the
    service adds its statement statistics (`ARCHIVIST_STATEMENT_STATS_FLUSH_SECONDS`)."""
    async with engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        head = await driver.fetchrow(_HEAD)
        tables = [TableStats(**dict(r)) for r in await driver.fetch(_TABLES)]
        indexes = [IndexStats(**dict(r)) for r in await driver.fetch(_INDEXES)]
        cache = await driver.fetchrow(_CACHE)
        connections = [Connections(**dict(r)) for r in await driver.fetch(_CONNECTIONS)]
        service = await _service_statements(driver, flush_seconds)
        external = await _pg_stat_statements(driver)
        rows = {t.name: t.rows_estimate for t in tables if t.schema == "public"}
        plans = await hot_plans(conn, rows)
    return DbReport(
        generated_at=datetime.now(UTC),
        database=head["database"],
        server_version=head["server_version"],
        size_bytes=head["size_bytes"],
        stats_reset=head["stats_reset"],
        tables=tables,
        indexes=indexes,
        cache=CacheHits(
            _ratio(cache["blks_hit"], cache["blks_read"]),
            _ratio(cache["heap_hit"], cache["heap_read"]),
            _ratio(cache["idx_hit"], cache["idx_read"]),
            cache["blks_hit"],
            cache["blks_read"],
        ),
        connections=connections,
        slowest=service,
        server_statements=external,
        plans=plans,
    )


def _ratio(hit: int, read: int) -> float | None:
    return hit / (hit + read) if hit + read else None


_HEAD = """
SELECT current_database() AS database,
       current_setting('server_version') AS server_version,
       pg_database_size(current_database()) AS size_bytes,
       (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database())
           AS stats_reset
"""

# reltuples is -1 for a table never vacuumed or analyzed (PostgreSQL 14+): the live tuple
# count of the statistics collector then.
_TABLES = """
SELECT s.schemaname AS schema, s.relname AS name,
       (CASE WHEN c.reltuples < 0 THEN s.n_live_tup ELSE c.reltuples END)::bigint
           AS rows_estimate,
       pg_relation_size(c.oid) AS heap_bytes,
       pg_indexes_size(c.oid) AS index_bytes,
       CASE WHEN c.reltoastrelid = 0 THEN 0
            ELSE pg_total_relation_size(c.reltoastrelid) END AS toast_bytes,
       pg_total_relation_size(c.oid) AS total_bytes,
       s.n_live_tup AS live_tuples, s.n_dead_tup AS dead_tuples,
       s.seq_scan AS seq_scans, coalesce(s.idx_scan, 0) AS index_scans,
       s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze
FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
ORDER BY total_bytes DESC, s.schemaname, s.relname
"""

_INDEXES = """
SELECT s.schemaname AS schema, s.relname AS table, s.indexrelname AS name,
       s.idx_scan AS scans, s.idx_tup_read AS tuples_read,
       pg_relation_size(s.indexrelid) AS size_bytes,
       i.indisunique AS unique, i.indisprimary AS primary
FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid
ORDER BY s.schemaname, s.relname, s.idx_scan DESC, s.indexrelname
"""

_CACHE = """
SELECT d.blks_hit, d.blks_read,
       coalesce(sum(t.heap_blks_hit), 0)::bigint AS heap_hit,
       coalesce(sum(t.heap_blks_read), 0)::bigint AS heap_read,
       coalesce(sum(t.idx_blks_hit), 0)::bigint AS idx_hit,
       coalesce(sum(t.idx_blks_read), 0)::bigint AS idx_read
FROM pg_stat_database d LEFT JOIN pg_statio_user_tables t ON true
WHERE d.datname = current_database()
GROUP BY d.blks_hit, d.blks_read
"""

# Every session on this database but the report's own.
_CONNECTIONS = """
SELECT coalesce(nullif(application_name, ''), '(unnamed)') AS application,
       coalesce(state, '(none)') AS state, count(*)::int AS count
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
GROUP BY 1, 2 ORDER BY 1, 2
"""

_PG_STAT_STATEMENTS = """
SELECT query, calls, total_exec_time AS total_ms, mean_exec_time AS mean_ms,
       max_exec_time AS max_ms
FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY total_exec_time DESC LIMIT $1
"""


async def _pg_stat_statements(driver: Any) -> SlowestStatements | None:
    """The statements the server has seen, when the extension is installed in this database
    and loaded (`shared_preload_libraries`); None otherwise."""
    installed = await driver.fetchval(
        "SELECT true FROM pg_extension WHERE extname = 'pg_stat_statements'"
    )
    if not installed:
        return None
    try:
        # In a transaction of its own: an unloaded module fails the statement only.
        async with driver.transaction():
            rows = await driver.fetch(_PG_STAT_STATEMENTS, SLOWEST)
    except Exception as err:  # not loaded, or an older version's columns
        message = (str(err).strip().splitlines() or [type(err).__name__])[0]
        return SlowestStatements("pg_stat_statements", f"unusable: {message}", [])
    return SlowestStatements(
        "pg_stat_statements",
        "every client of this database since the extension's last reset (times by the "
        "server; the query text with its values as $n)",
        [
            SlowStatement(
                statement_name(r["query"]),
                r["calls"],
                r["total_ms"],
                r["mean_ms"],
                r["max_ms"],
                " ".join(r["query"].split())[:200],
            )
            for r in rows
        ],
    )


_SERVICE_STATEMENTS = """
SELECT name, calls, total_ms, max_ms, updated_at FROM statement_stats
ORDER BY total_ms DESC, name LIMIT $1
"""


async def _service_statements(driver: Any, flush_seconds: float) -> SlowestStatements:
    """What the service's processes measured (`statement_stats_flush`), by total time."""
    if not await driver.fetchval("SELECT to_regclass('statement_stats') IS NOT NULL"):
        note = "no statement_stats table here (run `archivist migrate upgrade`)"
        return SlowestStatements("the service", note, [])
    rows = await driver.fetch(_SERVICE_STATEMENTS, SLOWEST)
    latest = await driver.fetchval("SELECT max(updated_at) FROM statement_stats")
    every = (
        f"flushed every {flush_seconds:g} s and at shutdown by each server process (serve, worker)"
        if flush_seconds > 0
        else "but flushing is off in this configuration (ARCHIVIST_STATEMENT_STATS_FLUSH_SECONDS=0)"
    )
    note = f"kept by the service, {every}; times measured by the application, per statement"
    if not rows:
        note += "; nothing stored yet"
    return SlowestStatements(
        "the service",
        note,
        [
            SlowStatement(
                r["name"],
                r["calls"],
                r["total_ms"],
                r["total_ms"] / r["calls"] if r["calls"] else 0.0,
                r["max_ms"],
            )
            for r in rows
        ],
        latest,
    )
