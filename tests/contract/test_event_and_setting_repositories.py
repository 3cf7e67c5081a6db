"""Events and settings repositories, and the unit of work's all-or-nothing commit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import Conflict
from domain.events import EventFilter
from domain.pagination import PageRequest
from domain.ports import UnitOfWorkFactory
from domain.settings import Setting
from tests.support import factories


async def test_events_list_newest_first_with_every_field(uow_factory: UnitOfWorkFactory) -> None:
    actor = factories.user()
    first = factories.event("user.created", "a", actor_id=actor.id, client_ip="192.0.2.1")
    second = factories.event("token.issued", "b", user_agent="curl/8", data={"k": [1, "x"]})
    async with uow_factory() as uow:
        await uow.users.add(actor)
        await uow.events.add(first)
        await uow.events.add(second)
        await uow.commit()
    async with uow_factory(autocommit=True) as uow:
        page = await uow.events.list(EventFilter(), PageRequest())
    got = [
        (e.action, e.subject_id, e.actor_id, e.client_ip, e.user_agent, e.data) for e in page.items
    ]
    assert got == [
        ("token.issued", "b", None, None, "curl/8", {"k": [1, "x"]}),
        ("user.created", "a", actor.id, "192.0.2.1", None, {"n": 1}),
    ]
    assert page.items[0].id is not None and page.items[1].id is not None
    assert page.items[0].id > page.items[1].id
    assert page.items[1].occurred_at == first.occurred_at


async def test_events_filter_and_page_without_gaps(uow_factory: UnitOfWorkFactory) -> None:
    events = [factories.event("a" if i % 2 else "b", str(i)) for i in range(9)]
    async with uow_factory() as uow:
        for e in events:
            await uow.events.add(e)
        await uow.commit()
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        async with uow_factory(autocommit=True) as uow:
            page = await uow.events.list(EventFilter(action="a"), PageRequest(2, cursor))
        seen += [e.subject_id for e in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ["7", "5", "3", "1"]
    since = events[4].occurred_at
    async with uow_factory(autocommit=True) as uow:
        recent = await uow.events.list(
            EventFilter(since=since, until=since + timedelta(seconds=2)), PageRequest()
        )
    assert [e.subject_id for e in recent.items] == ["5", "4"]


async def test_events_are_written_only_on_commit(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.events.add(factories.event())
    async with uow_factory(autocommit=True) as uow:
        assert (await uow.events.list(EventFilter(), PageRequest())).items == []


async def test_settings_upsert_and_list_by_key(uow_factory: UnitOfWorkFactory) -> None:
    now = factories.BASE
    async with uow_factory() as uow:
        await uow.settings.put(Setting.define(key="zeta", value={"a": 1}, type_="json", now=now))
        await uow.settings.put(Setting.define(key="alpha", value="x", type_="string", now=now))
        await uow.commit()
    later = now + timedelta(hours=1)
    async with uow_factory() as uow:
        await uow.settings.put(
            Setting.define(
                key="alpha", value="y", now=later, previous=await uow.settings.get("alpha")
            )
        )
        await uow.commit()
    async with uow_factory(autocommit=True) as uow:
        listed = await uow.settings.list()
        missing = await uow.settings.get("nope")
    assert [(s.key, s.value, s.type.value, s.updated_at) for s in listed] == [
        ("alpha", "y", "string", later),
        ("zeta", {"a": 1}, "json", now),
    ]
    assert missing is None


async def test_a_failed_unit_of_work_leaves_nothing(uow_factory: UnitOfWorkFactory) -> None:
    taken = factories.user(email="taken@example.com")
    async with uow_factory() as uow:
        await uow.users.add(taken)
        await uow.commit()
    newcomer = factories.user()
    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            await uow.users.add(newcomer)
            await uow.events.add(factories.event(subject_id=str(newcomer.id)))
            await uow.users.add(factories.user(email="taken@example.com"))
            await uow.commit()
    async with uow_factory(autocommit=True) as uow:
        assert await uow.users.get(newcomer.id) is None
        assert (await uow.events.list(EventFilter(), PageRequest())).items == []


async def test_an_autocommit_unit_of_work_refuses_to_commit(uow_factory: UnitOfWorkFactory) -> None:
    with pytest.raises(RuntimeError):
        async with uow_factory(autocommit=True) as uow:
            await uow.commit()


async def test_entities_read_are_copies(uow_factory: UnitOfWorkFactory) -> None:
    user = factories.user()
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.commit()
    user.name = "changed after commit"
    async with uow_factory(autocommit=True) as uow:
        got = await uow.users.get(user.id)
        assert got is not None
        got.name = "changed by a reader"
    async with uow_factory(autocommit=True) as uow:
        again = await uow.users.get(user.id)
    assert again is not None and again.name != "changed after commit"
    assert again.name != "changed by a reader"


async def test_events_added_together_read_back_as_if_added_one_by_one(
    uow_factory: UnitOfWorkFactory,
) -> None:
    batch = [factories.event("document.uploaded", f"d{n}", data={"n": n}) for n in range(3)]
    async with uow_factory() as uow:
        await uow.events.add_all(batch)
        await uow.events.add_all([])
        await uow.commit()
    async with uow_factory(autocommit=True) as uow:
        page = await uow.events.list(EventFilter(), PageRequest())

    assert [(e.subject_id, e.data) for e in page.items] == [
        ("d2", {"n": 2}),
        ("d1", {"n": 1}),
        ("d0", {"n": 0}),
    ]
