"""The job queue on PostgreSQL: pgqueuer's tables in the schema `jobs` (migration 0009).

Jobs are enqueued with pgqueuer's own `Queries.enqueue` on a small pgqueuer `Driver` that runs
its SQL through the unit of work's `AsyncConnection` (`exec_driver_sql`: the asyncpg
dialect's `$n` parameters are pgqueuer's). Two things follow, and both matter:

- SQLAlchemy opens the transaction. Its asyncpg adapter sends BEGIN only with the first
  statement SQLAlchemy runs, so an enqueue sent on the raw asyncpg connection as a unit of
  work's first statement would commit on its own and outlive a rollback (measured; the same
  trap as `prepared.py`). Through SQLAlchemy it is part of the transaction like any write.
- The engine's cursor hooks see the statement: the slow-query log and the statement counter
  of the tests count an enqueue like any other statement.

The worker (`PgQueuer` on a pool of its own) takes the jobs once the transaction commits:
the queue's trigger notifies it at commit, never for a rolled-back insert.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Self

from pgqueuer import Queries
from pgqueuer.adapters.persistence.qb import (
    QueryBuilderEnvironment,
    QueryQueueBuilder,
    QuerySchedulerBuilder,
)
from pgqueuer.core.tm import TaskManager
from pgqueuer.domain.settings import DBSettings, Durability
from pgqueuer.ports.driver import Driver, NotifyCallback
from sqlalchemy import Integer, LargeBinary, String, column, select, table
from sqlalchemy.dialects.postgresql import ENUM
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import TableClause

from domain.jobs import (
    JobState,
    JsonObject,
    QueuedJob,
    check_job,
    decode_payload,
    encode_payload,
)

JOBS_SCHEMA = "jobs"

# Every name pinned: left out, pydantic-settings would read it from PGQUEUER_* (or bare,
# legacy QUEUE_TABLE-like) environment variables, and migration 0009 fixed these names.
JOB_SETTINGS = DBSettings(
    db_schema=JOBS_SCHEMA,
    prefix="",
    channel="ch_pgqueuer",
    function="fn_pgqueuer_changed",
    statistics_table="pgqueuer_statistics",
    queue_status_type="pgqueuer_status",
    queue_table="pgqueuer",
    queue_table_log="pgqueuer_log",
    trigger="tg_pgqueuer_changed",
    schedules_table="pgqueuer_schedules",
    durability=Durability.durable,
)

# pgqueuer's tables, for reading them with Core (`queued`) and for emptying them in tests.
JOB_QUEUE = table(
    JOB_SETTINGS.queue_table,
    column("id", Integer),
    column("entrypoint", String),
    column("payload", LargeBinary),
    column("priority", Integer),
    column(
        "status",
        ENUM(
            *("queued", "picked", "successful", "exception", "canceled", "deleted", "failed"),
            name=JOB_SETTINGS.queue_status_type,
            schema=JOBS_SCHEMA,
            create_type=False,
        ),
    ),
    schema=JOBS_SCHEMA,
)
JOB_TABLES: tuple[TableClause, ...] = (
    JOB_QUEUE,
    *(
        table(name, schema=JOBS_SCHEMA)
        for name in (
            JOB_SETTINGS.queue_table_log,
            JOB_SETTINGS.statistics_table,
            JOB_SETTINGS.schedules_table,
        )
    ),
)

# pgqueuer's status of a job in the queue table -> what the port calls it. Successful jobs
# leave the table; failed ones stay ("failed", the dead letter) and are not waiting.
_STATES = {"queued": JobState.QUEUED, "picked": JobState.RUNNING}


# Stateless renderers of pgqueuer's SQL for these settings, shared by every `Queries`.
_QBE = QueryBuilderEnvironment(JOB_SETTINGS)
_QBQ = QueryQueueBuilder(JOB_SETTINGS)
_QBS = QuerySchedulerBuilder(JOB_SETTINGS)


def job_queries(driver: Driver) -> Queries:
    """pgqueuer's queries on `driver`, on the schema and names of migration 0009."""
    return Queries(driver, qbe=_QBE, qbq=_QBQ, qbs=_QBS)


class UnitOfWorkDriver:
    """A pgqueuer `Driver` for statements only, on the unit of work's connection. LISTEN and
    NOTIFY belong to the worker's own connections."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._shutdown = asyncio.Event()
        self._tm = TaskManager()

    async def fetch(self, query: str, *args: object) -> list[dict[str, object]]:
        result = await self._conn.exec_driver_sql(query, tuple(args))
        return [dict(row._mapping) for row in result]

    async def execute(self, query: str, *args: object) -> str:
        await self._conn.exec_driver_sql(query, tuple(args))
        return ""

    async def add_listener(self, channel: str, callback: NotifyCallback) -> None:
        raise NotImplementedError("the unit of work's connection runs statements only")

    async def notify(self, channel: str, payload: str) -> None:
        raise NotImplementedError("the unit of work's connection runs statements only")

    @property
    def shutdown(self) -> asyncio.Event:
        return self._shutdown

    @property
    def tm(self) -> TaskManager:
        return self._tm

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None


class SqlAlchemyJobQueue:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        # Built at the first enqueue: most units of work (every request's) enqueue nothing.
        self._queries: Queries | None = None

    async def enqueue(
        self,
        kind: str,
        payload: JsonObject,
        *,
        dedupe_key: str | None = None,
        priority: int = 0,
    ) -> bool:
        check_job(kind, dedupe_key, priority)
        if self._queries is None:
            self._queries = job_queries(UnitOfWorkDriver(self._conn))
        ids = await self._queries.enqueue(
            kind,
            encode_payload(payload),
            priority,
            dedupe_key=dedupe_key,
            on_conflict="skip",
        )
        return ids[0] is not None

    async def queued(self, kind: str | None = None) -> Sequence[QueuedJob]:
        q = JOB_QUEUE.c
        query = select(q.id, q.entrypoint, q.payload, q.priority, q.status).where(
            q.status.in_(list(_STATES))
        )
        if kind is not None:
            query = query.where(q.entrypoint == kind)
        rows = await self._conn.execute(query.order_by(q.priority.desc(), q.id))
        return [
            QueuedJob(
                id=r.id,
                kind=r.entrypoint,
                payload=decode_payload(r.payload),
                priority=r.priority,
                state=_STATES[r.status],
            )
            for r in rows
        ]
