"""The blob locks' contract, in process (`InMemoryBlobLocks`) and in PostgreSQL
(`AdvisoryBlobLocks`) alike. That the PostgreSQL locks also exclude other processes is shown
in tests/integration/test_blob_race_processes.py."""

from __future__ import annotations

import asyncio

import pytest

from domain.blobs import BlobLocks
from infrastructure.memory.blob_locks import InMemoryBlobLocks
from infrastructure.sqlalchemy.blob_locks import AdvisoryBlobLocks
from infrastructure.sqlalchemy.database import Database

KEY = "ab/cd/abcd"
OTHER = "ef/01/ef01"
A_WHILE = 0.2


@pytest.fixture
def locks(pg: Database | None) -> BlobLocks:
    if pg is None:
        return InMemoryBlobLocks()
    return AdvisoryBlobLocks(pg.lock_engine)


async def _take(locks: BlobLocks, key: str, order: list[str], label: str) -> None:
    async with locks.hold(key):
        order.append(label)


async def test_one_holder_per_key_at_a_time(locks: BlobLocks) -> None:
    order: list[str] = []
    async with locks.hold(KEY):
        waiter = asyncio.create_task(_take(locks, KEY, order, "second"))
        await asyncio.sleep(A_WHILE)
        order.append("first done")
    await asyncio.wait_for(waiter, 10)

    assert order == ["first done", "second"]


async def test_different_keys_do_not_wait_for_each_other(locks: BlobLocks) -> None:
    order: list[str] = []
    async with locks.hold(KEY):
        await asyncio.wait_for(_take(locks, OTHER, order, "other key"), 10)
        order.append("first done")

    assert order == ["other key", "first done"]


async def test_the_lock_is_released_when_the_block_raises(locks: BlobLocks) -> None:
    with pytest.raises(RuntimeError):
        async with locks.hold(KEY):
            raise RuntimeError("the upload failed")

    order: list[str] = []
    await asyncio.wait_for(_take(locks, KEY, order, "next"), 10)
    assert order == ["next"]


async def test_a_cancelled_holder_or_waiter_leaves_the_lock_free(locks: BlobLocks) -> None:
    entered = asyncio.Event()

    async def hold_for_ever() -> None:
        async with locks.hold(KEY):
            entered.set()
            await asyncio.Event().wait()

    holder = asyncio.create_task(hold_for_ever())
    await entered.wait()
    waiter = asyncio.create_task(_take(locks, KEY, [], "never"))
    await asyncio.sleep(A_WHILE)
    for task in (waiter, holder):
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    order: list[str] = []
    await asyncio.wait_for(_take(locks, KEY, order, "next"), 10)
    assert order == ["next"]


async def test_holding_many_excludes_a_holder_of_any_one_of_them(locks: BlobLocks) -> None:
    order: list[str] = []
    async with locks.hold_many([KEY, OTHER]):
        waiter = asyncio.create_task(_take(locks, OTHER, order, "second"))
        await asyncio.sleep(A_WHILE)
        order.append("batch done")
    await asyncio.wait_for(waiter, 10)

    assert order == ["batch done", "second"]


async def test_overlapping_batches_in_opposite_orders_both_finish(locks: BlobLocks) -> None:
    """Both take their keys in one order whatever order they were given in: no deadlock."""
    keys = [f"{n:02x}/00/{n:02x}00" for n in range(12)]
    done: list[str] = []

    async def batch(label: str, given: list[str]) -> None:
        for _ in range(5):
            async with locks.hold_many(given):
                await asyncio.sleep(0.005)
        done.append(label)

    await asyncio.wait_for(
        asyncio.gather(batch("forward", keys), batch("backward", keys[::-1] + keys[:1])), 20
    )
    assert sorted(done) == ["backward", "forward"]


async def test_holding_many_releases_every_lock_when_the_block_raises(locks: BlobLocks) -> None:
    with pytest.raises(RuntimeError):
        async with locks.hold_many([KEY, OTHER]):
            raise RuntimeError("the batch failed")

    order: list[str] = []
    await asyncio.wait_for(_take(locks, KEY, order, "key"), 10)
    await asyncio.wait_for(_take(locks, OTHER, order, "other"), 10)
    assert order == ["key", "other"]
