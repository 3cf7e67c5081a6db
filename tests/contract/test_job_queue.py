"""The job queue port (`uow.jobs`) on both storages: jobs exist only once their unit of work
commits, a dedupe key keeps a second job out while the first waits, and `queued` lists what
waits in the order workers take it."""

from __future__ import annotations

import asyncio
import math

import pytest

from domain.jobs import JobState, QueuedJob
from domain.ports import UnitOfWorkFactory
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
