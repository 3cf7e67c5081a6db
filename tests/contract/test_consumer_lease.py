"""`ConsumerLease` on both storages: one holder at a time, taken again once released; on
PostgreSQL a holder whose session ends has lost it, and another takes it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import text

from application.consume import ConsumerLease
from infrastructure.memory.consumer_lease import ConsumerClaims, InMemoryConsumerLease
from infrastructure.sqlalchemy.consumer_lease import AdvisoryConsumerLease
from infrastructure.sqlalchemy.database import Database


@pytest.fixture
async def new_lease(pg: Database | None) -> AsyncIterator[Callable[[], ConsumerLease]]:
    """Leases competing for one consumer: in one store, or on one database."""
    claims = ConsumerClaims()
    made: list[ConsumerLease] = []

    def make() -> ConsumerLease:
        lease: ConsumerLease = (
            InMemoryConsumerLease(claims) if pg is None else AdvisoryConsumerLease(pg.url)
        )
        made.append(lease)
        return lease

    yield make
    for lease in made:
        await lease.release()


async def test_one_holder_at_a_time(new_lease: Callable[[], ConsumerLease]) -> None:
    first, second = new_lease(), new_lease()

    assert await first.acquire()
    assert await first.acquire()  # held already
    assert not await second.acquire()
    assert await first.still_held()
    assert not await second.still_held()


async def test_a_released_lease_is_taken_by_another(
    new_lease: Callable[[], ConsumerLease],
) -> None:
    first, second = new_lease(), new_lease()
    assert await first.acquire()

    await first.release()

    assert not await first.still_held()
    assert await second.acquire()
    assert not await first.acquire()


@pytest.mark.postgres
async def test_a_holder_whose_session_ended_has_lost_the_lease(pg_database: Database) -> None:
    first, second = AdvisoryConsumerLease(pg_database.url), AdvisoryConsumerLease(pg_database.url)
    try:
        assert await first.acquire()
        async with pg_database.engine.begin() as conn:  # a database restart, as the holder sees it
            await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'archivist-consume' "
                    "AND datname = current_database()"
                )
            )

        assert not await first.still_held()
        assert await second.acquire()
    finally:
        await first.release()
        await second.release()
