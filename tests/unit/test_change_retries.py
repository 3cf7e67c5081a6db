"""A change without If-Match that loses a race is re-read, re-checked and re-applied to the
current version; with If-Match it is a 412 (RFC 9110 §13.1.1; issue #9, item 6). In-memory
storage, with the race forced: another unit of work commits a change to the same document just
before this one writes, as a concurrent request would."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any
from uuid import UUID

import pytest
from dependency_injector import providers

from application import document_lifecycle
from application.context import RequestContext
from application.document_store import DocumentFields
from application.users import CreateUser
from domain.documents import Document, DocumentChanges, DocumentType
from domain.errors import Conflict, NotFound, PreconditionFailed
from domain.events import EventFilter
from domain.pagination import PageRequest
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.users import User
from domain.values import AccessLevel
from infrastructure.config import AppSettings
from infrastructure.container import Container, build_container
from tests.support.clock import SteppingClock

SYSTEM = RequestContext.system()
Race = Callable[[UnitOfWork, UUID], Awaitable[None]]


class RacingUnitOfWorkFactory:
    """Units of work whose document writes each lose a race first, `races` times in all:
    just before the write, `race` runs in a unit of work of its own and commits."""

    def __init__(self, inner: UnitOfWorkFactory, race: Race, races: int) -> None:
        self.inner = inner
        self.race = race
        self.races = races

    def __call__(self, *, autocommit: bool = False) -> Any:
        return _RacingUnitOfWork(self, self.inner(autocommit=autocommit))


class _RacingUnitOfWork:
    def __init__(self, factory: RacingUnitOfWorkFactory, inner: Any) -> None:
        self._factory = factory
        self._inner = inner

    async def __aenter__(self) -> Any:
        uow = await self._inner.__aenter__()
        write = uow.documents.update
        factory = self._factory

        async def update(doc: Document, expected_version: int) -> bool:
            if factory.races > 0:
                factory.races -= 1
                async with factory.inner() as other:
                    await factory.race(other, doc.id)
                    await other.commit()
            result: bool = await write(doc, expected_version)
            return result

        uow.documents.update = update
        return uow

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._inner.__aexit__(exc_type, exc, tb)


def _renaming(admin: User) -> Race:
    """The concurrent change: another title, one version up."""
    count = 0

    async def race(uow: UnitOfWork, doc_id: UUID) -> None:
        nonlocal count
        count += 1
        found = await uow.documents.get_readable(doc_id, admin)
        assert found is not None
        base = found.document
        raced = dataclasses.replace(base, title=f"Raced {count}", version=base.version + 1)
        assert await uow.documents.update(raced, base.version)

    return race


@pytest.fixture
def app() -> Container:
    container = build_container(AppSettings(storage="memory"))
    container.clock.override(providers.Object(SteppingClock()))
    return container


async def _racing(app: Container, races: int) -> tuple[RequestContext, RacingUnitOfWorkFactory]:
    """The owner's context, with the use cases (built after this) racing `races` times."""
    admin = await app.users().create(
        SYSTEM, CreateUser(email="adm@example.com", name="Adm", role="admin", access_level=3)
    )
    owner = await app.users().create(SYSTEM, CreateUser(email="own@example.com", name="Own"))
    racing = RacingUnitOfWorkFactory(app.uow_factory(), _renaming(admin), races)
    app.uow_factory.override(providers.Object(racing))
    return RequestContext(actor=owner), racing


async def _doc(app: Container, ctx: RequestContext) -> Document:
    return await app.document_uploads().create_text(
        ctx, "text", DocumentType.TXT, DocumentFields(title="Original")
    )


async def _updates(app: Container, doc_id: UUID) -> int:
    async with app.uow_factory()(autocommit=True) as uow:
        page = await uow.events.list(
            EventFilter(action="document.updated", subject_id=str(doc_id)), PageRequest(200)
        )
    return len(page.items)


async def test_without_if_match_a_change_that_lost_races_lands_on_the_current_version(
    app: Container,
) -> None:
    ctx, racing = await _racing(app, 0)
    doc = await _doc(app, ctx)
    racing.races = 3

    changed = await app.document_lifecycle().update(ctx, doc.id, DocumentChanges({"title": "Mine"}))
    stored = await app.document_reads().get(ctx, doc.id)

    assert (changed.title, changed.version) == ("Mine", 5)
    assert (stored.document.title, stored.document.version) == ("Mine", 5)
    assert await _updates(app, doc.id) == 1  # the races wrote no event; ours is the one
    assert racing.races == 0


async def test_with_if_match_a_change_that_lost_a_race_is_a_412_and_writes_nothing(
    app: Container,
) -> None:
    ctx, racing = await _racing(app, 0)
    doc = await _doc(app, ctx)
    racing.races = 1

    with pytest.raises(PreconditionFailed):
        await app.document_lifecycle().update(ctx, doc.id, DocumentChanges({"title": "Mine"}), 1)
    stored = await app.document_reads().get(ctx, doc.id)

    assert (stored.document.title, stored.document.version) == ("Raced 1", 2)


async def test_tags_trash_and_restore_without_if_match_retry_too(app: Container) -> None:
    ctx, racing = await _racing(app, 0)
    doc = await _doc(app, ctx)

    racing.races = 2
    tagged = await app.document_lifecycle().add_tags(ctx, doc.id, ["kept"])
    racing.races = 2
    await app.document_lifecycle().delete(ctx, doc.id)
    racing.races = 2
    restored = await app.document_lifecycle().restore(ctx, doc.id)

    assert (tagged.tags, tagged.version) == (["kept"], 4)
    assert restored.version == 4 + 2 + 1 + 2 + 1
    assert restored.tags == ["kept"] and restored.deleted_at is None


async def test_a_retry_checks_the_policy_again(app: Container) -> None:
    ctx, racing = await _racing(app, 0)
    doc = await _doc(app, ctx)
    intruder = await app.users().create(SYSTEM, CreateUser(email="i@example.com", name="I"))
    owner = ctx.actor
    assert owner is not None

    async def take_over(uow: UnitOfWork, doc_id: UUID) -> None:
        stored = await uow.documents.get_readable(doc_id, owner)
        assert stored is not None
        base = stored.document
        moved = dataclasses.replace(
            base, owner_id=intruder.id, access_level=AccessLevel.L3, version=base.version + 1
        )
        assert await uow.documents.update(moved, base.version)

    racing.race = take_over
    racing.races = 1

    with pytest.raises(NotFound):  # no longer readable: the retry does not write
        await app.document_lifecycle().update(ctx, doc.id, DocumentChanges({"title": "Mine"}))


async def test_a_change_that_keeps_losing_gives_up_with_a_conflict_not_a_412(
    app: Container,
) -> None:
    app.document_lifecycle.add_kwargs(change_backoff=0.0)  # before the service is first made
    ctx, racing = await _racing(app, 0)
    doc = await _doc(app, ctx)
    racing.races = 10_000

    with pytest.raises(Conflict) as raised:
        await app.document_lifecycle().update(ctx, doc.id, DocumentChanges({"title": "Mine"}))

    assert not isinstance(raised.value, PreconditionFailed)
    assert racing.races == 10_000 - document_lifecycle.CHANGE_ATTEMPTS
