"""`EventRepository.delete_before` on both storages: the oldest events of the given actions
before the cutoff go, at most `limit` a call, committed with their unit of work (and a dry
run deletes nothing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from application.context import RequestContext
from domain import events
from domain.events import EventFilter
from domain.pagination import MAX_LIMIT, PageRequest
from infrastructure.memory.uow import InMemoryUnitOfWorkFactory
from infrastructure.sqlalchemy.uow import SqlAlchemyUnitOfWorkFactory

T0 = datetime(2025, 1, 1, tzinfo=UTC)
CUTOFF = T0 + timedelta(days=10)


async def _actions(
    uow_factory: InMemoryUnitOfWorkFactory | SqlAlchemyUnitOfWorkFactory,
) -> list[tuple[str, str]]:
    async with uow_factory(autocommit=True) as uow:
        page = await uow.events.list(EventFilter(), PageRequest(limit=MAX_LIMIT))
    return sorted((e.action, e.subject_id) for e in page.items)


async def test_the_oldest_expiring_events_go_in_batches_and_the_rest_stay(
    uow_factory: InMemoryUnitOfWorkFactory | SqlAlchemyUnitOfWorkFactory,
) -> None:
    system = RequestContext.system()
    async with uow_factory() as uow:
        for day in range(5):  # 5 old views, day 0..4
            await uow.events.add(
                system.event(
                    events.DOCUMENT_VIEWED, "document", f"v{day}", T0 + timedelta(days=day)
                )
            )
        await uow.events.add(system.event(events.DOCUMENT_UPDATED, "document", "u", T0))
        await uow.events.add(system.event(events.DOCUMENT_VIEWED, "document", "new", CUTOFF))
        await uow.commit()

    async with uow_factory(autocommit=True) as uow:
        would = await uow.events.delete_before(events.EXPIRING, CUTOFF, 100, dry_run=True)
    async with uow_factory() as uow:
        assert await uow.events.delete_before(events.EXPIRING, CUTOFF, 2) == 2
    # Not committed: nothing went.
    assert len(await _actions(uow_factory)) == 7
    async with uow_factory() as uow:
        first = await uow.events.delete_before(events.EXPIRING, CUTOFF, 2)
        await uow.commit()
    after_first = await _actions(uow_factory)
    async with uow_factory() as uow:
        rest = await uow.events.delete_before(events.EXPIRING, CUTOFF, 100)
        await uow.commit()

    assert (would, first, rest) == (5, 2, 3)
    assert ("document.viewed", "v0") not in after_first  # the oldest first
    assert ("document.viewed", "v4") in after_first
    assert await _actions(uow_factory) == [("document.updated", "u"), ("document.viewed", "new")]
