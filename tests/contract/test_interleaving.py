"""Two units of work interleaved by hand, on memory and PostgreSQL alike (issue #11 item 4).

Orders used: "a commits first" (B read before A committed, writes after: PostgreSQL's
`UPDATE ... WHERE version = <read>` matches no row) and "b writes first" (B writes while A
holds the row: PostgreSQL makes B's statement wait for A's commit, so it runs in a task).
In the second order the in-memory units never wait; they re-check at commit instead, so B
learns of the collision at `commit()` (`Conflict`) rather than from `update()` (False).
Either way B's change never lands and A's stays."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from domain.documents import Document, Tag
from domain.errors import Conflict
from domain.events import EventFilter
from domain.pagination import PageRequest
from domain.ports import UnitOfWorkFactory
from domain.users import User
from infrastructure.memory.uow import InMemoryUnitOfWorkFactory
from infrastructure.sqlalchemy import tables as t
from infrastructure.sqlalchemy.database import Database
from tests.support import factories

# Long enough for PostgreSQL to have received B's statement and made it wait on A's lock.
_LET_B_BLOCK = 0.2


async def _world(uow_factory: UnitOfWorkFactory) -> tuple[User, Document]:
    admin = factories.user(role="admin", access_level=3)
    doc = factories.document(admin)
    async with uow_factory() as uow:
        await uow.users.add(admin)
        await uow.documents.add(doc)
        await uow.commit()
    return admin, doc


def _tag(name: str) -> Tag:
    return Tag(uuid.uuid4(), name, "#007bff", "", True, factories.BASE)


def _changed(doc: Document, change: str, who: str) -> Document:
    """`doc` one version on: retitled by `who`, or moved to the trash."""
    at = doc.updated_at.replace(microsecond=1 if who == "a" else 2)
    if change == "trash":
        return dataclasses.replace(doc, deleted_at=at, version=doc.version + 1, updated_at=at)
    return dataclasses.replace(doc, title=f"by {who}", version=doc.version + 1, updated_at=at)


async def _stored(uow_factory: UnitOfWorkFactory, admin: User, doc_id: uuid.UUID) -> Document:
    async with uow_factory(autocommit=True) as uow:
        found = await uow.documents.get_readable(doc_id, admin)
    assert found is not None
    return found.document


async def _actions(uow_factory: UnitOfWorkFactory) -> list[str]:
    async with uow_factory(autocommit=True) as uow:
        page = await uow.events.list(EventFilter(), PageRequest(limit=50))
    return [e.action for e in page.items]


@pytest.mark.parametrize(
    ("a_change", "b_change"), [("title", "title"), ("trash", "title"), ("title", "trash")]
)
@pytest.mark.parametrize("order", ["a commits first", "b writes first"])
async def test_two_units_changing_one_version_land_only_the_first(
    uow_factory: UnitOfWorkFactory, storage: str, order: str, a_change: str, b_change: str
) -> None:
    admin, doc = await _world(uow_factory)
    async with uow_factory() as a, uow_factory() as b:
        read_a = await a.documents.get_readable(doc.id, admin)
        read_b = await b.documents.get_readable(doc.id, admin)
        assert read_a is not None and read_b is not None
        assert read_a.document.version == read_b.document.version == 1
        mine, theirs = (
            _changed(read_a.document, a_change, "a"),
            _changed(read_b.document, b_change, "b"),
        )
        assert await a.documents.update(mine, 1)
        await a.events.add(factories.event("a.wrote"))
        if order == "a commits first":
            await a.commit()
            landed = await b.documents.update(theirs, 1)
            assert landed is False  # both storages: the row is at version 2 now
        else:
            b_writes = asyncio.create_task(b.documents.update(theirs, 1))
            await asyncio.sleep(_LET_B_BLOCK)
            assert b_writes.done() is (storage == "memory")  # PostgreSQL: B waits on A's lock
            await a.commit()
            landed = await b_writes
            # PostgreSQL: B waited for A, then matched no row; memory: B never waits.
            assert landed is (storage == "memory")
        if landed:
            # B goes on as a service would after a successful write; none of it may land.
            new = await b.tags.ensure(_tag("from-b"))
            await b.documents.set_tags(doc.id, [new.id])
            await b.events.add(factories.event("b.wrote"))
            with pytest.raises(Conflict):
                await b.commit()
        else:
            await b.commit()  # nothing of B's to write
    stored = await _stored(uow_factory, admin, doc.id)
    assert (stored.title, stored.deleted_at, stored.version, stored.tags) == (
        mine.title,
        mine.deleted_at,
        2,
        [],
    )
    async with uow_factory(autocommit=True) as uow:
        assert await uow.tags.list() == []
    assert await _actions(uow_factory) == ["a.wrote"]


async def test_a_unit_that_changed_a_document_twice_commits(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """The check at commit is against what others committed, not against this unit's own
    earlier change of the same row (nor a row it inserted itself)."""
    admin, doc = await _world(uow_factory)
    fresh = factories.document(admin)
    async with uow_factory() as uow:
        await uow.documents.add(fresh)
        assert await uow.documents.update(_changed(fresh, "title", "a"), 1)
        v2 = _changed(doc, "title", "a")
        assert await uow.documents.update(v2, 1)
        assert not await uow.documents.update(_changed(doc, "title", "b"), 1)
        assert await uow.documents.update(_changed(v2, "trash", "b"), 2)
        await uow.commit()
    stored = await _stored(uow_factory, admin, doc.id)
    assert (stored.title, stored.version, stored.in_trash) == ("by a", 3, True)
    assert (await _stored(uow_factory, admin, fresh.id)).version == 2


async def test_a_unit_updating_a_document_another_purged_writes_nothing(
    uow_factory: UnitOfWorkFactory, storage: str
) -> None:
    admin, doc = await _world(uow_factory)
    async with uow_factory() as a, uow_factory() as b:
        read_b = await b.documents.get_readable(doc.id, admin)
        assert read_b is not None
        await a.documents.purge(doc.id)
        b_writes = asyncio.create_task(
            b.documents.update(_changed(read_b.document, "title", "b"), 1)
        )
        await asyncio.sleep(_LET_B_BLOCK)
        assert b_writes.done() is (storage == "memory")
        await a.commit()
        if await b_writes:
            assert storage == "memory"
            with pytest.raises(Conflict):
                await b.commit()
        else:
            assert storage == "postgres"
            await b.commit()
    async with uow_factory(autocommit=True) as uow:
        assert await uow.documents.get_readable(doc.id, admin) is None


@pytest.mark.parametrize("order", ["a commits first", "b writes first"])
async def test_two_units_ensuring_one_new_tag_both_commit_one_tag(
    uow_factory: UnitOfWorkFactory, storage: str, order: str
) -> None:
    admin, doc = await _world(uow_factory)
    other = factories.document(admin)
    async with uow_factory() as uow:
        await uow.documents.add(other)
        await uow.commit()
    async with uow_factory() as a, uow_factory() as b:
        tag_a = await a.tags.ensure(_tag("Report"))
        await a.documents.set_tags(doc.id, [tag_a.id])
        if order == "a commits first":
            await a.commit()
            tag_b = await b.tags.ensure(_tag("report"))
            assert tag_b.id == tag_a.id
        else:
            b_ensures = asyncio.create_task(b.tags.ensure(_tag("report")))
            await asyncio.sleep(_LET_B_BLOCK)
            assert b_ensures.done() is (storage == "memory")
            await a.commit()
            tag_b = await b_ensures
            # PostgreSQL: B waited for A and read A's tag back; memory: B never waits and
            # holds its own until commit, which then takes A's instead.
            assert (tag_b.id == tag_a.id) is (storage == "postgres")
        await b.documents.set_tags(other.id, [tag_b.id])
        await b.commit()
    async with uow_factory(autocommit=True) as uow:
        tags = await uow.tags.list()
        popular = await uow.tags.popular(admin, 10)
    assert [(tag.id, tag.name) for tag in tags] == [(tag_a.id, "Report")]
    assert [(tag.id, uses) for tag, uses in popular] == [(tag_a.id, 2)]
    assert (await _stored(uow_factory, admin, other.id)).tags == ["Report"]


async def _tag_stamps(uow_factory: object, pg: Database | None) -> list[Any]:
    if isinstance(uow_factory, InMemoryUnitOfWorkFactory):
        return list(uow_factory.store.doc_tags.values())
    assert pg is not None
    async with pg.engine.connect() as conn:
        return list((await conn.execute(select(t.document_tags.c.created_at))).scalars())


async def test_set_tags_stamps_rows_with_the_time_the_unit_began(
    uow_factory: UnitOfWorkFactory, pg: Database | None
) -> None:
    """As PostgreSQL's now() (the column's default): the transaction's start, one instant
    for every row the unit writes, in UTC."""
    admin, doc = await _world(uow_factory)
    other = factories.document(admin)
    red = _tag("red")
    before = datetime.now(UTC)
    async with uow_factory() as uow:
        await uow.tags.add(red)
        await uow.documents.add(other)
        await uow.documents.set_tags(doc.id, [red.id])
        await asyncio.sleep(0.05)
        await uow.documents.set_tags(other.id, [red.id])
        await uow.commit()
    after = datetime.now(UTC)
    first, second = await _tag_stamps(uow_factory, pg)
    assert first == second
    assert before <= first <= after
    assert first.utcoffset().total_seconds() == 0
