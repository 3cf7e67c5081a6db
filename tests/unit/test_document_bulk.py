"""Bulk edit when a write fails mid-batch (`application.document_bulk`): on PostgreSQL a failed
statement spoils the whole transaction, so the batch is rolled back and done again without the
failed document. Here the memory storage stands in, with one document's write made to fail as
a write that lost a constraint to another transaction fails."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import TracebackType
from uuid import UUID

import pytest
from dependency_injector import providers

from application.context import RequestContext
from application.document_bulk import BulkAction, BulkEdit, DocumentBulk, Outcome
from application.document_store import DocumentFields
from application.users import CreateUser
from domain.documents import Document
from domain.errors import Conflict
from domain.events import EventFilter
from domain.pagination import PageRequest
from domain.ports import UnitOfWork, UnitOfWorkFactory
from infrastructure.config import AppSettings
from infrastructure.container import Container, build_container
from tests.support.clock import SteppingClock


@dataclass
class Trap:
    """Fails the next write of document `doc_id` (then disarms), and then, as PostgreSQL
    does after a failed statement, every later write and the commit of that transaction."""

    doc_id: UUID
    armed: bool = True


class TrappedUnitOfWork:
    def __init__(self, inner: UnitOfWork, trap: Trap) -> None:
        self._inner = inner
        self._trap = trap

    async def __aenter__(self) -> UnitOfWork:
        uow = await self._inner.__aenter__()
        update, commit = uow.documents.update, uow.commit
        trap, spoiled = self._trap, False

        async def trapped(doc: Document, expected_version: int) -> bool:
            nonlocal spoiled
            if spoiled:
                raise Conflict("current transaction is aborted")
            if doc.id == trap.doc_id and trap.armed:
                trap.armed, spoiled = False, True
                raise Conflict("a constraint another transaction won")
            return await update(doc, expected_version)

        async def checked_commit() -> None:
            if spoiled:
                raise RuntimeError("current transaction is aborted: the commit rolls back")
            await commit()

        uow.documents.update = trapped  # type: ignore[method-assign]
        uow.commit = checked_commit  # type: ignore[method-assign]
        return uow

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._inner.__aexit__(kind, error, tb)


def trapped_factory(inner: UnitOfWorkFactory, trap: Trap) -> UnitOfWorkFactory:
    def factory(*, autocommit: bool = False) -> UnitOfWork:
        return TrappedUnitOfWork(inner(autocommit=autocommit), trap)  # type: ignore[return-value]

    return factory  # type: ignore[return-value]


@pytest.fixture
def app() -> Container:
    container = build_container(AppSettings(storage="memory"))
    container.clock.override(providers.Object(SteppingClock()))
    return container


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def test_a_write_that_fails_mid_batch_costs_only_its_own_document(app: Container) -> None:
    user = await app.users().create(
        RequestContext.system(), CreateUser(email="ann@example.com", name="Ann")
    )
    ctx = RequestContext(actor=user)
    docs = [
        await app.document_uploads().upload(
            ctx, f"{n}.txt", _chunks(f"document {n}".encode()), DocumentFields()
        )
        for n in range(5)
    ]
    trap = Trap(docs[2].id)
    bulk = DocumentBulk(
        trapped_factory(app.uow_factory(), trap),
        app.clock(),
        app.document_reads(),
        app.taxonomy(),
        batch=5,
    )

    report = await bulk.apply(ctx, BulkEdit(BulkAction.ADD_TAGS, ("x",)), [d.id for d in docs])

    assert [r.outcome for r in report.results] == [
        Outcome.CHANGED,
        Outcome.CHANGED,
        Outcome.CONFLICT,
        Outcome.CHANGED,
        Outcome.CHANGED,
    ]
    assert not trap.armed
    async with app.uow_factory()(autocommit=True) as uow:
        updated = EventFilter(action="document.updated")
        events = (await uow.events.list(updated, PageRequest(200))).items
        stored = [await uow.documents.get_readable(d.id, user) for d in docs]
    # The first two were written, rolled back with the batch and written again: once each.
    assert Counter(e.subject_id for e in events) == Counter(
        str(d.id) for d in docs if d is not docs[2]
    )
    assert [s.document.version if s else None for s in stored] == [2, 2, 1, 2, 2]
    assert ["x" in (s.document.tags if s else []) for s in stored] == [
        True,
        True,
        False,
        True,
        True,
    ]
