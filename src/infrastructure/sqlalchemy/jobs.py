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
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Self

from pgqueuer import Queries
from pgqueuer.adapters.persistence.qb import (
    QueryBuilderEnvironment,
    QueryQueueBuilder,
    QuerySchedulerBuilder,
)
from pgqueuer.core.tm import TaskManager
from pgqueuer.domain.settings import DBSettings, Durability
from pgqueuer.ports.driver import Driver, NotifyCallback
from sqlalchemy import (
    DateTime,
    Integer,
    LargeBinary,
    String,
    column,
    delete,
    exists,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import ENUM, JSONB
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import TableClause

from domain.errors import Conflict
from domain.jobs import (
    FailedJob,
    FinishedAs,
    Job,
    JobCount,
    JobState,
    JobSummary,
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

_STATUS = ENUM(
    *("queued", "picked", "successful", "exception", "canceled", "deleted", "failed"),
    name=JOB_SETTINGS.queue_status_type,
    schema=JOBS_SCHEMA,
    create_type=False,
)

# pgqueuer's tables, for reading them with Core (`queued`) and for emptying them in tests.
JOB_QUEUE = table(
    JOB_SETTINGS.queue_table,
    column("id", Integer),
    column("entrypoint", String),
    column("payload", LargeBinary),
    column("priority", Integer),
    column("status", _STATUS),
    column("attempts", Integer),
    column("updated", DateTime(timezone=True)),
    schema=JOBS_SCHEMA,
)
# Every status change of every job (pgqueuer writes it), with a failed run's traceback.
JOB_LOG = table(
    JOB_SETTINGS.queue_table_log,
    column("id", Integer),
    column("created", DateTime(timezone=True)),
    column("job_id", Integer),
    column("status", _STATUS),
    column("entrypoint", String),
    column("traceback", JSONB),
    schema=JOBS_SCHEMA,
)
JOB_TABLES: tuple[TableClause, ...] = (
    JOB_QUEUE,
    JOB_LOG,
    *(
        table(name, schema=JOBS_SCHEMA)
        for name in (JOB_SETTINGS.statistics_table, JOB_SETTINGS.schedules_table)
    ),
)

# pgqueuer's status of a job in the queue table -> what the port calls it. Successful jobs
# leave the table; failed ones stay ("failed", the dead letter) and are not waiting.
_STATES = {"queued": JobState.QUEUED, "picked": JobState.RUNNING}
_ALL_STATES = {**_STATES, "failed": JobState.FAILED}
# pgqueuer's log statuses of a job that finished: done, or failed for good ("failed" when
# held, as our workers hold them; "exception" when a job is deleted on failure).
_FINISHED = {
    "successful": FinishedAs.DONE,
    "failed": FinishedAs.FAILED,
    "exception": FinishedAs.FAILED,
}

# A "table changed" notification as pgqueuer's trigger sends it: pgqueuer's statement
# trigger notifies no UPDATE, so whatever queues a job by UPDATE (a retry) sends this.
NOTIFY_CHANGED = """SELECT pg_notify($1, json_build_object(
    'channel', $1::text, 'operation', 'update', 'sent_at', NOW(), 'table', $2::text,
    'type', 'table_changed_event')::text)"""

# A held job queued again, due now, its attempts reset, with the log entry pgqueuer's own
# `requeue_jobs` writes. The names are the pinned constants above, never input.
_REQUEUE = text(
    f"""WITH requeued AS (
    UPDATE {JOBS_SCHEMA}.{JOB_SETTINGS.queue_table}
    SET status = 'queued', execute_after = NOW(), updated = NOW(), attempts = 0,
        queue_manager_id = NULL
    WHERE id = :id AND status = 'failed'
    RETURNING id, entrypoint, priority
), logged AS (
    INSERT INTO {JOBS_SCHEMA}.{JOB_SETTINGS.queue_table_log}
        (job_id, status, entrypoint, priority)
    SELECT id, 'queued', entrypoint, priority FROM requeued
)
SELECT count(*) FROM requeued"""  # noqa: S608
)


def runs(status: str, attempts: int) -> int:
    """The runs a job has had, the first included, from pgqueuer's `attempts` (the retries
    so far): one more once it has been taken (running, or held as failed)."""
    return attempts + (0 if status == "queued" else 1)


def error_of(traceback: Any) -> str | None:
    """A run's error from pgqueuer's traceback record, as `describe_error` words it."""
    if isinstance(traceback, str):
        traceback = json.loads(traceback)
    if not isinstance(traceback, dict):
        return None
    name = str(traceback.get("exception_type") or "")
    message = str(traceback.get("exception_message") or "").strip()
    if not name:
        return message or None
    return f"{name}: {message}" if message else name


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

    async def enqueue_all(
        self,
        kind: str,
        payloads: Sequence[JsonObject],
        *,
        dedupe_keys: Sequence[str | None] | None = None,
        priority: int = 0,
    ) -> list[bool]:
        keys: list[str | None] = (
            list(dedupe_keys) if dedupe_keys is not None else [None] * len(payloads)
        )
        if len(keys) != len(payloads):
            raise ValueError("one dedupe key (or None) per payload")
        for key in keys:
            check_job(kind, key, priority)
        encoded: list[bytes | None] = [encode_payload(p) for p in payloads]
        if not encoded:
            return []
        if self._queries is None:
            self._queries = job_queries(UnitOfWorkDriver(self._conn))
        ids = await self._queries.enqueue(
            [kind] * len(encoded),
            encoded,
            [priority] * len(encoded),
            dedupe_key=keys,
            on_conflict="skip",
        )
        return [job_id is not None for job_id in ids]

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

    async def get(self, job_id: int) -> Job | None:
        q = JOB_QUEUE.c
        row = (
            await self._conn.execute(
                select(q.id, q.entrypoint, q.payload, q.status, q.attempts).where(
                    q.id == job_id, q.status.in_(list(_ALL_STATES))
                )
            )
        ).first()
        if row is None:
            return None
        return Job(
            id=row.id,
            kind=row.entrypoint,
            payload=decode_payload(row.payload),
            state=_ALL_STATES[row.status],
            attempts=runs(row.status, row.attempts),
        )

    async def summary(self, finished_within: timedelta) -> JobSummary:
        q, lg = JOB_QUEUE.c, JOB_LOG.c
        waiting_rows = await self._conn.execute(
            select(q.entrypoint, q.status, func.count())
            .where(q.status.in_(list(_ALL_STATES)))
            .group_by(q.entrypoint, q.status)
        )
        waiting = [JobCount(kind, _ALL_STATES[status], n) for kind, status, n in waiting_rows]
        # The log's index on `created` finds the window.
        finished_rows = await self._conn.execute(
            select(lg.entrypoint, lg.status, func.count())
            .where(
                lg.created > func.now() - finished_within,
                lg.status.in_(list(_FINISHED)),
            )
            .group_by(lg.entrypoint, lg.status)
        )
        finished: dict[tuple[str, FinishedAs], int] = {}
        for kind, status, n in finished_rows:
            key = (kind, _FINISHED[status])
            finished[key] = finished.get(key, 0) + n
        return JobSummary(
            waiting=sorted(waiting, key=lambda c: (c.kind, c.state)),
            finished=[JobCount(k, s, n) for (k, s), n in sorted(finished.items())],
        )

    async def prune_log(self, before: datetime, limit: int, *, dry_run: bool = False) -> int:
        q, lg = JOB_QUEUE.c, JOB_LOG.c
        # The log's index on `created` finds the old entries; a job still in the queue
        # (waiting, or held as failed) keeps its entries.
        old = (
            select(lg.id)
            .where(lg.created < before, ~exists().where(q.id == lg.job_id))
            .limit(limit)
        )
        if dry_run:
            counted = await self._conn.execute(select(func.count()).select_from(old.subquery()))
            return int(counted.scalar_one())
        gone = await self._conn.execute(delete(JOB_LOG).where(lg.id.in_(old.scalar_subquery())))
        return int(gone.rowcount)

    async def failures(self, limit: int) -> Sequence[FailedJob]:
        q, lg = JOB_QUEUE.c, JOB_LOG.c
        # The last failed run's traceback, through the log's index on (job_id, created).
        last_error = (
            select(lg.traceback)
            .where(lg.job_id == q.id, lg.traceback.is_not(None))
            .order_by(lg.created.desc(), lg.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        rows = await self._conn.execute(
            select(q.id, q.entrypoint, q.payload, q.attempts, q.updated, last_error)
            .where(q.status == literal_column("'failed'"))
            .order_by(q.updated.desc(), q.id.desc())
            .limit(limit)
        )
        return [
            FailedJob(
                id=r.id,
                kind=r.entrypoint,
                payload=decode_payload(r.payload),
                attempts=runs("failed", r.attempts),
                error=error_of(r[5]),
                failed_at=r.updated,
            )
            for r in rows
        ]

    async def retry(self, job_id: int) -> bool:
        try:
            requeued = (await self._conn.execute(_REQUEUE, {"id": job_id})).scalar_one()
        except IntegrityError as err:  # pgqueuer's unique index on waiting dedupe keys
            raise Conflict(
                "another job with this job's dedupe key is queued or running; "
                "retry once it has finished"
            ) from err
        if not requeued:
            return False
        # Sent at commit, with the change: workers look again at once.
        await self._conn.exec_driver_sql(
            NOTIFY_CHANGED, (JOB_SETTINGS.channel, JOB_SETTINGS.queue_table)
        )
        return True
