"""The plans of the application's hot statements for `archivist db-report` (issue #13 item
1): the token lookup, the e-mail lookup, the document view, the listing and the search, run
through the real adapters for a sample reader, captured with their parameters and run again
under `EXPLAIN (ANALYZE, BUFFERS)`, in one transaction that is rolled back; sequential scans
of large tables are flagged."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.document_ports import DocumentFilter, DocumentSort
from domain.events import DOCUMENT_VIEWED, Event
from domain.pagination import PageRequest
from domain.search import parse_query
from infrastructure.sqlalchemy.documents import (
    SqlAlchemyDocumentRepository,
    SqlAlchemyDocumentViews,
)
from infrastructure.sqlalchemy.engine import statement_name
from infrastructure.sqlalchemy.repositories import (
    SqlAlchemyApiTokenRepository,
    SqlAlchemyUserRepository,
)
from infrastructure.sqlalchemy.search_repository import SqlAlchemySearchRepository
from infrastructure.tuning import Tuning

LARGE_TABLE_ROWS = 10_000
"""A sequential scan of a table estimated above this many rows is flagged."""
STATEMENT_TIMEOUT = "60s"
"""Bound on each statement the report runs for the plans."""


@dataclass(frozen=True, slots=True)
class Scan:
    """A plan node reading a table or an index."""

    node_type: str
    relation: str | None
    index: str | None
    actual_rows: float
    loops: int


@dataclass(frozen=True, slots=True)
class StatementPlan:
    name: str
    execution_ms: float
    planning_ms: float
    shared_hit_blocks: int
    shared_read_blocks: int
    scans: list[Scan]
    large_seq_scans: list[str]  # tables > LARGE_TABLE_ROWS read by a Seq Scan
    plan: Any  # EXPLAIN's JSON


@dataclass(frozen=True, slots=True)
class OperationPlans:
    operation: str
    statements: list[StatementPlan]


@dataclass(frozen=True, slots=True)
class Sample:
    user_id: UUID
    user_role: str
    access_level: int
    document_id: UUID
    search_query: str
    token: str  # "the reader's", "another user's" or "none (a hash that matches none)"


@dataclass(frozen=True, slots=True)
class Plans:
    sample: Sample | None
    note: str
    operations: list[OperationPlans] = field(default_factory=list)


# --- the plans of the hot statements --------------------------------------------------------

# The newest live document of an active user, a member's before an admin's (an admin's reads
# skip the access predicate): its owner is the sample reader.
_SAMPLE = """
SELECT d.id AS document_id, d.title, u.id AS user_id
FROM documents d JOIN users u ON u.id = d.owner_id
WHERE d.deleted_at IS NULL AND u.is_active
ORDER BY u.role = 'admin', d.created_at DESC, d.id
LIMIT 1
"""
_SAMPLE_HASH = """
SELECT token_hash, user_id = $1 AS own FROM api_tokens
WHERE revoked_at IS NULL
ORDER BY user_id = $1 DESC, created_at DESC
LIMIT 1
"""
_WORD = re.compile(r"[^\W\d_]{3,}")


async def hot_plans(conn: AsyncConnection, rows: dict[str, int]) -> Plans:
    """The plans of the hot statements for a sample reader."""
    if "documents" not in rows or "api_tokens" not in rows:
        note = "skipped: no Archivist schema here (run `archivist migrate upgrade`)"
        return Plans(None, note)
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None
    picked = await driver.fetchrow(_SAMPLE)
    if picked is None:
        return Plans(None, "skipped: no document in the database to read")
    try:
        async with conn.begin() as tx:
            # Through SQLAlchemy: this starts the transaction the driver statements join.
            await conn.execute(text(f"SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}'"))
            operations, sample = await _run_hot_statements(conn, driver, picked, rows)
            await tx.rollback()
    except (DBAPIError, asyncpg.PostgresError) as err:
        cause = getattr(err, "orig", None) or err
        message = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        return Plans(None, f"failed: {message}")
    return Plans(
        sample,
        "each statement as the application runs it for the sample reader, then again under "
        "EXPLAIN (ANALYZE, BUFFERS) (so warm); in one transaction, rolled back",
        operations,
    )


async def _run_hot_statements(
    conn: AsyncConnection, driver: Any, picked: Any, rows: dict[str, int]
) -> tuple[list[OperationPlans], Sample]:
    tuning = Tuning()
    reader = await SqlAlchemyUserRepository(conn).get(picked["user_id"])
    assert reader is not None
    token = await driver.fetchrow(_SAMPLE_HASH, reader.id)
    token_hash = token["token_hash"] if token is not None else "0" * 64
    words = sorted(_WORD.findall(picked["title"]), key=len, reverse=True)
    query = words[0].lower() if words else "document"
    viewed = Event(
        datetime.now(UTC), reader.id, DOCUMENT_VIEWED, "document", str(picked["document_id"])
    )
    documents = SqlAlchemyDocumentRepository(conn, tuning)
    search = SqlAlchemySearchRepository(conn, tuning)
    hot: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("token lookup", lambda: SqlAlchemyApiTokenRepository(conn).find_with_user(token_hash)),
        ("email lookup", lambda: SqlAlchemyUserRepository(conn).get_by_email(reader.email)),
        (
            "document view",
            lambda: SqlAlchemyDocumentViews(conn).open(picked["document_id"], reader, viewed),
        ),
        (
            "listing",
            lambda: documents.list_readable(
                reader, DocumentFilter(), DocumentSort.CREATED_DESC, PageRequest()
            ),
        ),
        (
            "search",
            lambda: search.search(reader, parse_query(query), DocumentFilter(), 10),
        ),
    ]
    operations = []
    for operation, run in hot:
        operations.append(OperationPlans(operation, await explain_statements(conn, run, rows)))
    sample = Sample(
        reader.id,
        reader.role.value,
        int(reader.access_level),
        picked["document_id"],
        query,
        "none (a hash that matches none)"
        if token is None
        else ("the reader's" if token["own"] else "another user's"),
    )
    return operations, sample


async def explain_statements(
    conn: AsyncConnection, run: Callable[[], Awaitable[object]], rows: dict[str, int]
) -> list[StatementPlan]:
    """Run `run`, then each statement it sent on `conn` again under EXPLAIN (ANALYZE,
    BUFFERS) with the same parameters; a Seq Scan of a table `rows` estimates above
    `LARGE_TABLE_ROWS` is flagged. ANALYZE executes the statements: run it in a
    transaction that is rolled back when they write."""
    driver = (await conn.get_raw_connection()).driver_connection
    return [await _explain(driver, sql, params, rows) for sql, params in await _captured(conn, run)]


async def _captured(
    conn: AsyncConnection, run: Callable[[], Awaitable[object]]
) -> list[tuple[str, tuple[Any, ...]]]:
    """The statements (SQL and driver parameters) `run` sends on `conn`, as it sends them."""
    sync = conn.sync_connection
    seen: list[tuple[str, tuple[Any, ...]]] = []

    def record(c: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        if c is sync and not many:
            seen.append((statement, tuple(params or ())))

    event.listen(conn.sync_engine, "before_cursor_execute", record)
    try:
        await run()
    finally:
        event.remove(conn.sync_engine, "before_cursor_execute", record)
    return seen


async def _explain(
    driver: Any, sql: str, params: tuple[Any, ...], rows: dict[str, int]
) -> StatementPlan:
    raw = await driver.fetchval(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", *params)
    document = json.loads(raw) if isinstance(raw, str) else raw
    top = document[0]
    root = top["Plan"]
    scans = [
        Scan(
            n["Node Type"],
            n.get("Relation Name"),
            n.get("Index Name"),
            n.get("Actual Rows", 0),
            n.get("Actual Loops", 1),
        )
        for n in _nodes(root)
        if "Relation Name" in n or "Index Name" in n
    ]
    large = sorted(
        {
            s.relation
            for s in scans
            if s.node_type == "Seq Scan"
            and s.relation is not None
            and rows.get(s.relation, 0) > LARGE_TABLE_ROWS
        }
    )
    return StatementPlan(
        statement_name(sql),
        top.get("Execution Time", 0.0),
        top.get("Planning Time", 0.0),
        root.get("Shared Hit Blocks", 0),
        root.get("Shared Read Blocks", 0),
        scans,
        large,
        document,
    )


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _nodes(child)
