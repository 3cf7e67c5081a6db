"""The job queue port (`uow.jobs`) on both storages: jobs exist only once their unit of work
commits, a dedupe key keeps a second job out while the first waits, and `queued` lists what
waits in the order workers take it."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta

import pytest

from application.jobs import JobHandlers
from domain.errors import Conflict, NotFound
from domain.jobs import FinishedAs, Job, JobCount, JobState, JobSummary, JsonObject, QueuedJob
from domain.ports import UnitOfWorkFactory
from infrastructure.memory.job_runner import InMemoryJobRunner
from infrastructure.memory.uow import InMemoryUnitOfWorkFactory
from infrastructure.sqlalchemy.database import Database
from infrastructure.sqlalchemy.job_worker import PgJobWorker
from tests.support import factories

# Long enough for PostgreSQL to have received B's insert and made it wait on A's key.
_LET_B_BLOCK = 0.2


async def _queued(uow_factory: UnitOfWorkFactory, kind: str | None = None) -> list[QueuedJob]:
    async with uow_factory(autocommit=True) as uow:
        return list(await uow.jobs.queued(kind))


def _kinds_and_payloads(jobs: list[QueuedJob]) -> list[tuple[str, object]]:
    return [(j.kind, j.payload) for j in jobs]


async def test_a_committed_job_is_queued_with_its_payload(uow_factory: UnitOfWorkFactory) -> None:
    payload = {"document_id": "d1", "pages": [1, 2], "force": True, "note": "스캔", "x": None}
    async with uow_factory() as uow:
        assert await uow.jobs.enqueue("thumbnail", payload, priority=3) is True
        await uow.commit()

    [job] = await _queued(uow_factory)
    assert (job.kind, job.payload, job.priority, job.state) == (
        "thumbnail",
        payload,
        3,
        JobState.QUEUED,
    )
    assert isinstance(job.id, int)


async def test_a_rolled_back_job_leaves_nothing(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.users.add(factories.user())
        await uow.jobs.enqueue("thumbnail", {"n": 1})
        await uow.rollback()
    async with uow_factory() as uow:
        await uow.users.add(factories.user())
        await uow.jobs.enqueue("thumbnail", {"n": 2})  # left without commit()

    assert await _queued(uow_factory) == []


async def test_an_enqueue_as_the_first_statement_then_rollback_leaves_nothing(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """The lazy BEGIN: the SQL unit of work's transaction starts with its first statement,
    and an enqueue sent around SQLAlchemy would have committed on its own."""
    async with uow_factory() as uow:
        await uow.jobs.enqueue("thumbnail", {"n": 1})
        await uow.rollback()
    with pytest.raises(RuntimeError, match="boom"):
        async with uow_factory() as uow:
            await uow.jobs.enqueue("thumbnail", {"n": 2})
            raise RuntimeError("boom")

    assert await _queued(uow_factory) == []


async def test_a_job_is_seen_by_its_own_unit_of_work_and_by_others_only_after_commit(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.jobs.enqueue("ocr", {"n": 1})
        assert _kinds_and_payloads(list(await uow.jobs.queued())) == [("ocr", {"n": 1})]
        assert await _queued(uow_factory) == []
        await uow.commit()

    assert _kinds_and_payloads(await _queued(uow_factory)) == [("ocr", {"n": 1})]


async def test_an_autocommit_unit_of_work_queues_at_once(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory(autocommit=True) as uow:
        assert await uow.jobs.enqueue("purge", {})
    assert _kinds_and_payloads(await _queued(uow_factory)) == [("purge", {})]


async def test_a_dedupe_key_skips_a_second_job_while_the_first_waits(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        assert await uow.jobs.enqueue("thumbnail", {"n": 1}, dedupe_key="thumbnail:d1") is True
        assert await uow.jobs.enqueue("thumbnail", {"n": 2}, dedupe_key="thumbnail:d1") is False
        assert await uow.jobs.enqueue("thumbnail", {"n": 3}, dedupe_key="thumbnail:d2") is True
        assert await uow.jobs.enqueue("thumbnail", {"n": 4}) is True
        assert await uow.jobs.enqueue("thumbnail", {"n": 5}) is True
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.jobs.enqueue("thumbnail", {"n": 6}, dedupe_key="thumbnail:d1") is False
        # One namespace for every kind: keys say their kind.
        assert await uow.jobs.enqueue("ocr", {"n": 7}, dedupe_key="thumbnail:d2") is False
        await uow.commit()

    assert [j.payload["n"] for j in await _queued(uow_factory)] == [1, 3, 4, 5]


async def test_a_rolled_back_job_does_not_hold_its_dedupe_key(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        assert await uow.jobs.enqueue("ocr", {"n": 1}, dedupe_key="ocr:d1") is True
    async with uow_factory() as uow:
        assert await uow.jobs.enqueue("ocr", {"n": 2}, dedupe_key="ocr:d1") is True
        await uow.commit()

    assert _kinds_and_payloads(await _queued(uow_factory)) == [("ocr", {"n": 2})]


@pytest.mark.parametrize("order", ["a commits first", "b enqueues first"])
async def test_two_units_of_work_with_one_dedupe_key_queue_one_job(
    uow_factory: UnitOfWorkFactory, order: str
) -> None:
    """PostgreSQL makes B's insert wait for A's commit and then skip it; the in-memory queue
    never waits and drops B's job at B's commit instead. One job either way: A's."""
    async with uow_factory() as a, uow_factory() as b:
        assert await a.jobs.enqueue("ocr", {"by": "a"}, dedupe_key="ocr:d1") is True
        if order == "a commits first":
            await a.commit()
            assert await b.jobs.enqueue("ocr", {"by": "b"}, dedupe_key="ocr:d1") is False
        else:
            enqueue_b = asyncio.ensure_future(
                b.jobs.enqueue("ocr", {"by": "b"}, dedupe_key="ocr:d1")
            )
            await asyncio.sleep(_LET_B_BLOCK)
            await a.commit()
            await enqueue_b
        await b.commit()

    assert _kinds_and_payloads(await _queued(uow_factory)) == [("ocr", {"by": "a"})]


async def test_queued_lists_highest_priority_first_then_oldest_and_filters_by_kind(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.jobs.enqueue("ocr", {"n": 1})
        await uow.jobs.enqueue("thumbnail", {"n": 2}, priority=5)
        await uow.jobs.enqueue("ocr", {"n": 3}, priority=-1)
        await uow.jobs.enqueue("thumbnail", {"n": 4})
        await uow.jobs.enqueue("ocr", {"n": 5}, priority=5)
        await uow.commit()

    everything = await _queued(uow_factory)
    assert [(j.payload["n"], j.priority) for j in everything] == [
        (2, 5),
        (5, 5),
        (1, 0),
        (4, 0),
        (3, -1),
    ]
    assert [j.id for j in everything[:2]] == sorted(j.id for j in everything[:2])
    assert [j.payload["n"] for j in await _queued(uow_factory, "ocr")] == [5, 1, 3]
    assert [j.payload["n"] for j in await _queued(uow_factory, "thumbnail")] == [2, 4]
    assert await _queued(uow_factory, "purge") == []


@pytest.mark.parametrize(
    ("kind", "payload", "priority"),
    [
        pytest.param("ocr", ["not", "an", "object"], 0, id="payload-not-an-object"),
        pytest.param("ocr", {"at": object()}, 0, id="payload-not-json"),
        pytest.param("ocr", {"x": math.nan}, 0, id="payload-nan"),
        pytest.param("", {}, 0, id="empty-kind"),
        pytest.param("ocr", {}, 2**31, id="priority-beyond-integer"),
    ],
)
async def test_a_job_that_cannot_be_stored_is_refused(
    uow_factory: UnitOfWorkFactory, kind: str, payload: object, priority: int
) -> None:
    async with uow_factory() as uow:
        with pytest.raises(ValueError, match="job"):
            await uow.jobs.enqueue(kind, payload, priority=priority)  # type: ignore[arg-type]
        await uow.jobs.enqueue("ocr", {"still": "usable"})
        await uow.commit()

    assert _kinds_and_payloads(await _queued(uow_factory)) == [("ocr", {"still": "usable"})]


# --- what admins read and retry (issue #12 item 4) --------------------------------------------


async def _run_jobs(
    uow_factory: UnitOfWorkFactory, pg: Database | None, handlers: JobHandlers
) -> None:
    """Run every runnable job with the storage's own worker until none waits."""
    if pg is None:
        assert isinstance(uow_factory, InMemoryUnitOfWorkFactory)
        await InMemoryJobRunner(uow_factory.store, handlers).run_pending()
        return
    worker = PgJobWorker(pg.url, handlers, concurrency=1)
    await worker.start()
    try:
        async with asyncio.timeout(30):
            while True:  # polled: a worker's progress has no event to wait on
                if not await _queued(uow_factory):
                    break
                await asyncio.sleep(0.05)
    finally:
        await worker.stop()


def _handlers(*, failing: bool = True) -> JobHandlers:
    async def thumbnail(payload: JsonObject) -> None:
        if failing:
            raise NotFound("document", payload["document_id"])  # fails for good at once

    async def ok(payload: JsonObject) -> None:
        return None

    handlers = JobHandlers()
    handlers.register("thumbnail", thumbnail)
    handlers.register("ok", ok)
    return handlers


async def _failed_pair(uow_factory: UnitOfWorkFactory, pg: Database | None) -> tuple[int, int, int]:
    """Two thumbnail jobs failed for good, one after the other, and one job done."""
    ids = []
    for n in (1, 2):
        async with uow_factory() as uow:
            await uow.jobs.enqueue("thumbnail", {"document_id": f"d{n}"}, dedupe_key=f"t:d{n}")
            if n == 2:
                await uow.jobs.enqueue("ok", {})
            await uow.commit()
        ids += sorted(j.id for j in await _queued(uow_factory))
        await _run_jobs(uow_factory, pg, _handlers())
    first, second, done = ids
    return first, second, done


async def test_failed_jobs_are_listed_newest_first_with_their_error_and_counted(
    uow_factory: UnitOfWorkFactory, pg: Database | None
) -> None:
    first, second, done = await _failed_pair(uow_factory, pg)

    async with uow_factory(autocommit=True) as uow:
        failures = list(await uow.jobs.failures(10))
        only_one = list(await uow.jobs.failures(1))
        summary = await uow.jobs.summary(timedelta(hours=1))
        got = await uow.jobs.get(first)
        gone, unknown = await uow.jobs.get(done), await uow.jobs.get(10**9)

    assert [(f.id, f.kind, f.payload, f.attempts, f.error) for f in failures] == [
        (second, "thumbnail", {"document_id": "d2"}, 1, "NotFound: document d2 was not found"),
        (first, "thumbnail", {"document_id": "d1"}, 1, "NotFound: document d1 was not found"),
    ]
    assert failures[0].failed_at > failures[1].failed_at
    assert [f.id for f in only_one] == [second]
    assert summary == JobSummary(
        waiting=[JobCount("thumbnail", JobState.FAILED, 2)],
        finished=[
            JobCount("ok", FinishedAs.DONE, 1),
            JobCount("thumbnail", FinishedAs.FAILED, 2),
        ],
    )
    assert got == Job(first, "thumbnail", {"document_id": "d1"}, JobState.FAILED, 1)
    assert (gone, unknown) == (None, None)


async def test_a_retry_queues_a_failed_job_again_with_its_attempts_reset(
    uow_factory: UnitOfWorkFactory, pg: Database | None
) -> None:
    first, second, done = await _failed_pair(uow_factory, pg)

    async with uow_factory() as uow:
        assert await uow.jobs.retry(first) is True
        await uow.rollback()  # a rolled-back retry changes nothing
    async with uow_factory() as uow:
        assert await uow.jobs.retry(first) is True
        assert await uow.jobs.retry(first) is False  # queued now, not failed
        assert await uow.jobs.retry(done) is False  # done: not in the queue
        await uow.commit()
    async with uow_factory(autocommit=True) as uow:
        again = await uow.jobs.get(first)
        failures = [f.id for f in await uow.jobs.failures(10)]
    await _run_jobs(uow_factory, pg, _handlers(failing=False))
    async with uow_factory(autocommit=True) as uow:
        summary = await uow.jobs.summary(timedelta(hours=1))

    assert again == Job(first, "thumbnail", {"document_id": "d1"}, JobState.QUEUED, 0)
    assert failures == [second]
    assert JobCount("thumbnail", FinishedAs.DONE, 1) in summary.finished
    assert summary.waiting == [JobCount("thumbnail", JobState.FAILED, 1)]


async def test_a_retry_whose_dedupe_key_another_job_holds_is_a_conflict(
    uow_factory: UnitOfWorkFactory, pg: Database | None
) -> None:
    first, second, _ = await _failed_pair(uow_factory, pg)
    async with uow_factory() as uow:  # a failed job no longer holds its key
        assert await uow.jobs.enqueue("thumbnail", {"document_id": "d2"}, dedupe_key="t:d2")
        await uow.commit()

    with pytest.raises(Conflict, match="dedupe key"):
        async with uow_factory() as uow:
            await uow.jobs.retry(second)
            await uow.commit()
    async with uow_factory(autocommit=True) as uow:
        assert [f.id for f in await uow.jobs.failures(10)] == [second, first]


async def test_the_log_of_finished_jobs_is_pruned_but_a_failed_job_keeps_its_own(
    uow_factory: UnitOfWorkFactory, pg: Database | None
) -> None:
    await _failed_pair(uow_factory, pg)
    earlier = datetime.now(UTC) - timedelta(hours=1)
    later = datetime.now(UTC) + timedelta(hours=1)

    async with uow_factory(autocommit=True) as uow:
        nothing_that_old = await uow.jobs.prune_log(earlier, 100)
        would = await uow.jobs.prune_log(later, 100, dry_run=True)
        dry_left = await uow.jobs.summary(timedelta(hours=2))
    async with uow_factory() as uow:
        one = await uow.jobs.prune_log(later, 1)
        rest = await uow.jobs.prune_log(later, 100)
        await uow.commit()
    async with uow_factory(autocommit=True) as uow:
        summary = await uow.jobs.summary(timedelta(hours=2))
        errors = [f.error for f in await uow.jobs.failures(10)]

    assert nothing_that_old == 0
    assert would == one + rest and one == 1  # pgqueuer logs a job's every status: no fixed count
    assert JobCount("ok", FinishedAs.DONE, 1) in dry_left.finished  # a dry run changes nothing
    # The done job's log went; the jobs held as failed keep theirs, and their errors.
    assert summary.finished == [JobCount("thumbnail", FinishedAs.FAILED, 2)]
    assert errors == ["NotFound: document d2 was not found", "NotFound: document d1 was not found"]


async def test_jobs_queued_together_skip_each_held_dedupe_key(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.jobs.enqueue("thumbnail", {"document_id": "d1"}, dedupe_key="t:d1")
        await uow.commit()
    payloads = [{"document_id": d} for d in ("d1", "d2", "d3", "d2")]
    async with uow_factory() as uow:
        with pytest.raises(ValueError, match="one dedupe key"):
            await uow.jobs.enqueue_all("thumbnail", payloads, dedupe_keys=["t:d1"])
        queued = await uow.jobs.enqueue_all(
            "thumbnail", payloads, dedupe_keys=["t:d1", "t:d2", None, "t:d2"]
        )
        assert await uow.jobs.enqueue_all("thumbnail", []) == []
        await uow.commit()

    assert queued == [False, True, True, False]
    assert [j.payload for j in await _queued(uow_factory)] == [
        {"document_id": "d1"},
        {"document_id": "d2"},
        {"document_id": "d3"},
    ]
