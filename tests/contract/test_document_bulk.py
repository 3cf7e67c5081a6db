"""Bulk edit (`application.document_bulk`, issue #12 item 8) on both storages: over the access
matrix's world every user's bulk action ends, document by document, as the single-document
use case would (`expected_outcome`), writes only what it reports changed, and records one
event per changed document; a listing filter selects as the listing does and carries on by
cursor; edits that cannot apply to any document are refused whole."""

from __future__ import annotations

from collections import Counter
from uuid import UUID, uuid4

import pytest

from application.context import RequestContext
from application.document_bulk import BulkAction, BulkEdit, DocumentBulk, Outcome
from domain import events
from domain.document_ports import DocumentFilter, DocumentSort
from domain.documents import Document
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from domain.events import EventFilter
from domain.pagination import MAX_LIMIT, PageRequest
from domain.taxonomy import TaxonomyNodeNotFound
from domain.users import User
from infrastructure.container import Container
from tests.contract.document_access_world import (
    ALLOWED,
    TAXONOMY_PATH,
    TAXONOMY_VERSION,
    World,
    add_matrix_users,
    build_world,
    expected_outcome,
)

AS_OUTCOME = {
    NotFound: Outcome.NOT_FOUND,
    PermissionDenied: Outcome.FORBIDDEN,
    Conflict: Outcome.CONFLICT,
}


@pytest.fixture
async def world(container: Container) -> World:
    return await build_world(container, await add_matrix_users(container))


def bulk_of(container: Container, *, batch: int = 4, max_documents: int = 1000) -> DocumentBulk:
    """Small batches, so the world's documents span several units of work."""
    return DocumentBulk(
        container.uow_factory(),
        container.clock(),
        container.document_reads(),
        container.taxonomy(),
        batch=batch,
        max_documents=max_documents,
    )


async def current(world: World, doc: Document) -> Document:
    """The document as stored now (read as the admin, who reads everything; no view event)."""
    async with world.container.uow_factory()(autocommit=True) as uow:
        found = await uow.documents.get_readable(doc.id, world.users["admin"])
    assert found is not None
    return found.document


async def events_by_document(container: Container, action: str) -> Counter[str]:
    """How many `action` events each document has (by id, as events carry it)."""
    async with container.uow_factory()(autocommit=True) as uow:
        page = await uow.events.list(EventFilter(action=action), PageRequest(limit=MAX_LIMIT))
    return Counter(str(e.subject_id) for e in page.items if e.subject_id is not None)


def expected_for(operation: str, user: User, doc: Document, world: World) -> Outcome:
    expected = expected_outcome(operation, user, doc, world.grant(user, doc))
    return Outcome.CHANGED if expected == ALLOWED else AS_OUTCOME[expected]


async def test_adding_tags_in_bulk_ends_for_each_document_as_the_single_change_would(
    world: World,
) -> None:
    bulk = bulk_of(world.container)
    stranger = uuid4()
    ids = [d.id for d in world.documents] + [stranger]
    wrong: dict[str, tuple[str, str]] = {}
    for name, user in world.users.items():
        tag = f"bulk-{name}"
        report = await bulk.apply(
            RequestContext(actor=user), BulkEdit(BulkAction.ADD_TAGS, (tag,)), ids
        )
        got = {r.id: r.outcome for r in report.results}
        assert [r.id for r in report.results] == ids  # one result each, in the order sent
        assert got[stranger] is Outcome.NOT_FOUND
        for doc in world.documents:
            want = expected_for("add tags", user, doc, world)
            if got[doc.id] is not want:
                wrong[f"{name} | {doc.title}"] = (got[doc.id].value, want.value)
            tagged = tag in (await current(world, doc)).tags
            assert tagged == (got[doc.id] is Outcome.CHANGED), (name, doc.title)
    assert wrong == {}


async def test_a_change_in_bulk_bumps_the_version_and_records_one_event_per_document(
    world: World,
) -> None:
    bulk = bulk_of(world.container)
    before = {d.id: (await current(world, d)).version for d in world.documents}
    recorded = await events_by_document(world.container, events.DOCUMENT_UPDATED)
    admin = world.admin_ctx
    report = await bulk.apply(
        admin, BulkEdit(BulkAction.ADD_TAGS, ("once",)), [d.id for d in world.documents]
    )
    changed = {r.id: r.version for r in report.results if r.outcome is Outcome.CHANGED}
    assert changed  # the admin may change every live document
    for doc_id, version in changed.items():
        assert version == before[doc_id] + 1
    recorded.update(str(doc_id) for doc_id in changed)
    assert await events_by_document(world.container, events.DOCUMENT_UPDATED) == recorded

    again = await bulk.apply(
        admin, BulkEdit(BulkAction.ADD_TAGS, ("ONCE",)), list(changed)
    )  # tag names compare without case: already there
    assert {r.outcome for r in again.results} == {Outcome.UNCHANGED}
    assert await events_by_document(world.container, events.DOCUMENT_UPDATED) == recorded


async def test_removing_tags_in_bulk_leaves_documents_without_them_unchanged(
    world: World,
) -> None:
    bulk = bulk_of(world.container)
    live = [d for d in world.documents if not d.in_trash]
    tagged, untagged = live[: len(live) // 2], live[len(live) // 2 :]
    await bulk.apply(
        world.admin_ctx, BulkEdit(BulkAction.ADD_TAGS, ("doomed",)), [d.id for d in tagged]
    )

    report = await bulk.apply(
        world.admin_ctx, BulkEdit(BulkAction.REMOVE_TAGS, ("Doomed",)), [d.id for d in live]
    )

    got = {r.id: r.outcome for r in report.results}
    assert {got[d.id] for d in tagged} == {Outcome.CHANGED}
    assert {got[d.id] for d in untagged} == {Outcome.UNCHANGED}
    for doc in live:
        assert "doomed" not in (await current(world, doc)).tags


async def test_trashing_and_restoring_in_bulk_follow_the_delete_rights(world: World) -> None:
    bulk = bulk_of(world.container)
    ids = [d.id for d in world.documents]
    for name, user in world.users.items():
        ctx = RequestContext(actor=user)
        trashed = await bulk.apply(ctx, BulkEdit(BulkAction.TRASH), ids)
        for doc, result in zip(world.documents, trashed.results, strict=True):
            want = expected_for("delete", user, doc, world)
            if want is Outcome.CHANGED and doc.in_trash:
                want = Outcome.UNCHANGED  # there already
            assert result.outcome is want, (name, doc.title, result)
        # Put the world back: restore, as this user, what they moved to the trash.
        moved = [r.id for r in trashed.results if r.outcome is Outcome.CHANGED]
        if moved:
            restored = await bulk.apply(ctx, BulkEdit(BulkAction.RESTORE), moved)
            assert {r.outcome for r in restored.results} == {Outcome.CHANGED}, name
    for doc in world.documents:
        assert (await current(world, doc)).in_trash == doc.in_trash


async def test_setting_the_category_in_bulk_and_an_unknown_category_is_refused_whole(
    world: World,
) -> None:
    catalog = world.container.catalog()
    await catalog.create_category(world.admin_ctx, "Contracts", None)
    bulk = bulk_of(world.container)
    live = [d.id for d in world.documents if not d.in_trash]

    report = await bulk.apply(
        world.admin_ctx, BulkEdit(BulkAction.SET_CATEGORY, category="Contracts"), live
    )
    assert {r.outcome for r in report.results} == {Outcome.CHANGED}
    with pytest.raises(ValidationFailed):
        await bulk.apply(world.admin_ctx, BulkEdit(BulkAction.SET_CATEGORY, category="Nope"), live)
    cleared = await bulk.apply(world.admin_ctx, BulkEdit(BulkAction.SET_CATEGORY), live)
    assert {r.outcome for r in cleared.results} == {Outcome.CHANGED}
    again = await bulk.apply(world.admin_ctx, BulkEdit(BulkAction.SET_CATEGORY), live)
    assert {r.outcome for r in again.results} == {Outcome.UNCHANGED}


async def test_classifying_in_bulk_follows_the_write_rights_and_an_unknown_path_is_a_404(
    world: World,
) -> None:
    bulk = bulk_of(world.container)
    ids = [d.id for d in world.documents]
    edit = BulkEdit(BulkAction.CLASSIFY, path=TAXONOMY_PATH, version=TAXONOMY_VERSION)
    # Documents the world classified already are left as they are (`unchanged`).
    member = world.users["write grantee"]
    report = await bulk.apply(RequestContext(actor=member), edit, ids)
    for doc, result in zip(world.documents, report.results, strict=True):
        want = expected_for("classify", member, doc, world)
        assert result.outcome in (
            {want, Outcome.UNCHANGED} if want is Outcome.CHANGED else {want}
        ), (doc.title, result)

    with pytest.raises(TaxonomyNodeNotFound):
        await bulk.apply(world.admin_ctx, BulkEdit(BulkAction.CLASSIFY, path="Matrixx"), ids)


async def test_a_filter_selects_what_the_listing_shows_and_carries_on_by_cursor(
    world: World,
) -> None:
    bulk = bulk_of(world.container, batch=2, max_documents=3)
    reader = world.users["L2A"]
    ctx = RequestContext(actor=reader)
    listed = await world.container.document_reads().list_documents(
        ctx, DocumentFilter(), DocumentSort.CREATED, PageRequest(limit=MAX_LIMIT)
    )
    seen: list[UUID] = []
    cursor: str | None = None
    while True:
        report = await bulk.apply_to_filter(
            ctx, BulkEdit(BulkAction.ADD_TAGS, ("swept",)), DocumentFilter(), cursor
        )
        assert len(report.results) <= 3
        seen += [r.id for r in report.results]
        cursor = report.next_cursor
        if cursor is None:
            break
    assert seen == [d.id for d in listed.items]  # each once, oldest first


async def test_edits_that_apply_to_no_document_are_refused_before_any_is_touched(
    world: World,
) -> None:
    bulk = bulk_of(world.container, max_documents=5)
    ids = [d.id for d in world.documents]
    refused = [
        (BulkEdit(BulkAction.ADD_TAGS), ids[:1]),  # no tag
        (BulkEdit(BulkAction.TRASH, tags=("x",)), ids[:1]),  # a tag trash does not use
        (BulkEdit(BulkAction.TRASH, category="x"), ids[:1]),
        (BulkEdit(BulkAction.CLASSIFY), ids[:1]),  # no path
        (BulkEdit(BulkAction.CLASSIFY, path=TAXONOMY_PATH, confidence=1.5), ids[:1]),
        (BulkEdit(BulkAction.TRASH), []),
        (BulkEdit(BulkAction.TRASH), ids[:6]),  # over max_documents
    ]
    for edit, chosen in refused:
        with pytest.raises(ValidationFailed):
            await bulk.apply(world.admin_ctx, edit, chosen)
    assert await events_by_document(world.container, events.DOCUMENT_DELETED) == Counter()
