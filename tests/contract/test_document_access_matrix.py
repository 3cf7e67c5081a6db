"""The authorization matrix of documents (issue #3, acceptance 1), at the use cases, on both
storages: every user x every document x every operation (`document_access_world`) must end as
`domain.policy` says, raising `NotFound`, `PermissionDenied` or `Conflict` or completing.

The HTTP layer maps these outcomes to statuses (404, 403, 409, 2xx; a 401 for an inactive
user's token); `tests/api/test_document_access_matrix.py` checks that mapping on a few cells of
every route. Operations that change a document are undone after each allowed cell (or, for
purge, run on a fresh copy), so every cell sees the same world.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any
from uuid import UUID

import pytest

from application.context import RequestContext
from application.document_store import DocumentFields
from application.taxonomy import Classify
from domain.document_ports import DocumentFilter, DocumentSort
from domain.documents import Document, DocumentChanges, DocumentType
from domain.errors import Conflict, DomainError, NotFound, PermissionDenied
from domain.pagination import MAX_LIMIT, PageRequest
from infrastructure.container import Container
from tests.contract.document_access_world import (
    ALLOWED,
    CLASSIFYING,
    GRANTS,
    LEVELS_AND_DEPARTMENTS,
    ON_A_DOCUMENT,
    READS,
    RECLASSIFY,
    TAXONOMY_PATH,
    TRASH,
    WRITES,
    Outcome,
    World,
    add_matrix_users,
    build_world,
    expected_creation,
    expected_outcome,
    insert_document,
    name_of,
    readable,
)

Cell = Callable[[World, RequestContext, Document, Outcome], Awaitable[Any]]


@pytest.fixture
async def world(container: Container) -> World:
    return await build_world(container, await add_matrix_users(container))


async def outcome_of(call: Awaitable[Any]) -> Outcome:
    """The domain error `call` raised, or ALLOWED."""
    try:
        await call
    except DomainError as error:
        return type(error)
    return ALLOWED


# --- one cell per operation: the use case, and putting the world back after it --------------------


async def _get(world: World, ctx: RequestContext, doc: Document, _: Outcome) -> None:
    await world.container.document_reads().get(ctx, doc.id)


async def _file(world: World, ctx: RequestContext, doc: Document, _: Outcome) -> None:
    download = await world.container.document_reads().download(ctx, doc.id)
    assert b"".join([chunk async for chunk in download.chunks]) != b""


async def _events(world: World, ctx: RequestContext, doc: Document, _: Outcome) -> None:
    await world.container.document_reads().events(ctx, doc.id, PageRequest())


async def _similar(world: World, ctx: RequestContext, doc: Document, _: Outcome) -> None:
    await world.container.search().similar(ctx, doc.id)


async def _patch(world: World, ctx: RequestContext, doc: Document, _: Outcome) -> None:
    changes = DocumentChanges({"title": "changed"})
    await world.container.document_lifecycle().update(ctx, doc.id, changes)


async def _reclassify(world: World, ctx: RequestContext, doc: Document, _: Outcome) -> None:
    lifecycle = world.container.document_lifecycle()
    await lifecycle.update(ctx, doc.id, DocumentChanges(dict(RECLASSIFY)))
    back = {"access_level": doc.access_level, "department": doc.department}
    await lifecycle.update(world.admin_ctx, doc.id, DocumentChanges(back))


async def _replace_tags(world: World, ctx: RequestContext, doc: Document, _: Outcome) -> None:
    await world.container.document_lifecycle().replace_tags(ctx, doc.id, ["replaced"])


async def _add_tags(world: World, ctx: RequestContext, doc: Document, _: Outcome) -> None:
    await world.container.document_lifecycle().add_tags(ctx, doc.id, ["added"])


async def _remove_tag(world: World, ctx: RequestContext, doc: Document, expected: Outcome) -> None:
    lifecycle = world.container.document_lifecycle()
    if expected == ALLOWED:  # the tag must be there to be taken off
        await lifecycle.add_tags(world.admin_ctx, doc.id, ["doomed"])
    await lifecycle.remove_tag(ctx, doc.id, "doomed")


async def _delete(world: World, ctx: RequestContext, doc: Document, _: Outcome) -> None:
    lifecycle = world.container.document_lifecycle()
    await lifecycle.delete(ctx, doc.id)
    if not doc.in_trash:
        await lifecycle.restore(world.admin_ctx, doc.id)


async def _restore(world: World, ctx: RequestContext, doc: Document, _: Outcome) -> None:
    lifecycle = world.container.document_lifecycle()
    await lifecycle.restore(ctx, doc.id)
    await lifecycle.delete(world.admin_ctx, doc.id)


async def _purge(world: World, ctx: RequestContext, doc: Document, expected: Outcome) -> None:
    if expected == ALLOWED:  # a purge that should work runs on a fresh copy
        doc = await insert_document(world, doc.access_level, doc.department, doc.in_trash)
    await world.container.document_lifecycle().purge(ctx, doc.id)


async def _list_grants(world: World, ctx: RequestContext, doc: Document, _: Outcome) -> None:
    await world.container.grants().list(ctx, doc.id)


async def _grant(world: World, ctx: RequestContext, doc: Document, _: Outcome) -> None:
    # To L1A, taken back at once, so it changes nobody's rights in the matrix.
    grants, bystander = world.container.grants(), world.users["L1A"].id
    await grants.grant(ctx, doc.id, bystander, "read")
    await grants.revoke(world.admin_ctx, doc.id, bystander)


async def _revoke(world: World, ctx: RequestContext, doc: Document, expected: Outcome) -> None:
    grants, target = world.container.grants(), world.users["L1B"].id
    if expected == ALLOWED:  # there must be a grant to take away
        await grants.grant(world.admin_ctx, doc.id, target, "read")
    await grants.revoke(ctx, doc.id, target)


async def _classify(world: World, ctx: RequestContext, doc: Document, _: Outcome) -> None:
    taxonomy = world.container.taxonomy()
    await taxonomy.classify(ctx, doc.id, Classify(TAXONOMY_PATH, 0.5))
    await taxonomy.remove(world.admin_ctx, doc.id, world.node_id)


async def _list_classifications(
    world: World, ctx: RequestContext, doc: Document, _: Outcome
) -> None:
    await world.container.taxonomy().classifications(ctx, doc.id)


async def _remove_classification(
    world: World, ctx: RequestContext, doc: Document, expected: Outcome
) -> None:
    taxonomy = world.container.taxonomy()
    if expected == ALLOWED:  # there must be one to remove
        await taxonomy.classify(world.admin_ctx, doc.id, Classify(TAXONOMY_PATH, 0.5))
    await taxonomy.remove(ctx, doc.id, world.node_id)


async def _approve(world: World, ctx: RequestContext, doc: Document, expected: Outcome) -> None:
    taxonomy = world.container.taxonomy()
    if expected == ALLOWED:  # there must be one to approve
        command = Classify(TAXONOMY_PATH, 0.5, hitl_required=True)
        await taxonomy.classify(world.admin_ctx, doc.id, command)
    try:
        await taxonomy.approve(ctx, doc.id, world.node_id)
    finally:
        if expected == ALLOWED:
            await taxonomy.remove(world.admin_ctx, doc.id, world.node_id)


CELLS: dict[str, Cell] = {
    "get": _get,
    "file": _file,
    "events": _events,
    "similar": _similar,
    "patch": _patch,
    "reclassify": _reclassify,
    "replace tags": _replace_tags,
    "add tags": _add_tags,
    "remove tag": _remove_tag,
    "delete": _delete,
    "restore": _restore,
    "purge": _purge,
    "list grants": _list_grants,
    "grant": _grant,
    "revoke": _revoke,
    "classify": _classify,
    "list classifications": _list_classifications,
    "remove classification": _remove_classification,
    "approve": _approve,
}


async def mismatches(world: World, operations: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    """Every cell whose outcome differs from the policy's, as {cell: (got, expected)}.

    The documents' columns run at once (no cell reaches a document but its own, and each
    puts its document back); the cells of one document run one after the other."""
    wrong: dict[str, tuple[str, str]] = {}

    async def column(operation: str, doc: Document) -> None:
        for name, user in world.users.items():
            expected = expected_outcome(operation, user, doc, world.grant(user, doc))
            ctx = RequestContext(actor=user)
            got = await outcome_of(CELLS[operation](world, ctx, doc, expected))
            if got != expected:
                wrong[f"{operation} | {name} | {doc.title}"] = (name_of(got), name_of(expected))

    for operation in operations:
        await asyncio.gather(*(column(operation, doc) for doc in world.documents))
    return dict(sorted(wrong.items()))


# --- the tests ------------------------------------------------------------------------------------


def test_every_operation_on_a_document_has_a_cell() -> None:
    assert sorted(CELLS) == sorted(ON_A_DOCUMENT)


# How many cells of the world end each way, by operation: (allowed, NotFound,
# PermissionDenied, Conflict) of 13 users x 12 documents.
CENSUS: dict[str, tuple[int, int, int, int]] = {
    **dict.fromkeys(READS, (84, 72, 0, 0)),
    "similar": (75, 81, 0, 0),
    **dict.fromkeys((*WRITES, *CLASSIFYING), (36, 72, 39, 9)),
    "reclassify": (20, 72, 55, 9),
    "delete": (36, 72, 48, 0),
    "restore": (9, 72, 48, 27),
    "purge": (24, 72, 60, 0),
    **dict.fromkeys(GRANTS, (24, 72, 60, 0)),
}


@pytest.mark.parametrize("storage", ["memory"])  # the policy alone: one storage will do
async def test_the_policy_over_the_world_is_the_one_specified(world: World) -> None:
    """The matrix holds the use cases to `domain.policy`, so a rule changed in the policy
    would change both sides alike. This census pins the policy itself over the world: a
    changed rule (a guest who may write, a delete grant that may purge) changes a count,
    and must be changed here on purpose (`tests/unit/test_policy.py` states the rules)."""
    census: dict[str, tuple[int, int, int, int]] = {}
    for operation in ON_A_DOCUMENT:
        counted = Counter(
            expected_outcome(operation, user, doc, world.grant(user, doc))
            for _, user, doc in world.cells()
        )
        census[operation] = (
            counted[ALLOWED],
            counted[NotFound],
            counted[PermissionDenied],
            counted[Conflict],
        )
    creations = Counter(
        expected_creation(user, level, department)
        for user in world.users.values()
        for level, department in LEVELS_AND_DEPARTMENTS
    )

    assert census == CENSUS
    assert (creations[ALLOWED], creations[PermissionDenied]) == (40, 77)


async def test_reading_a_document_follows_the_policy(world: World) -> None:
    assert await mismatches(world, (*READS, "similar")) == {}


async def test_changing_a_document_and_its_tags_follows_the_policy(world: World) -> None:
    assert await mismatches(world, WRITES) == {}


async def test_changing_level_and_department_follows_the_policy(world: World) -> None:
    assert await mismatches(world, ("reclassify",)) == {}


async def test_trashing_restoring_and_purging_follow_the_policy(world: World) -> None:
    assert await mismatches(world, TRASH) == {}


async def test_managing_grants_follows_the_policy(world: World) -> None:
    assert await mismatches(world, GRANTS) == {}


async def test_classifying_a_document_follows_the_policy(world: World) -> None:
    assert await mismatches(world, CLASSIFYING) == {}


async def test_listings_show_exactly_the_readable_documents(world: World) -> None:
    reads = world.container.document_reads()
    wrong: dict[str, tuple[set[UUID], set[UUID]]] = {}
    for name, user in world.users.items():
        for trashed in (False, True):
            page = await reads.list_documents(
                RequestContext(actor=user),
                DocumentFilter(deleted=trashed),
                DocumentSort.CREATED,
                PageRequest(limit=MAX_LIMIT),
            )
            got = {d.id for d in page.items}
            want = readable(world, user, trashed=trashed)
            if got != want:
                wrong[f"{name} deleted={trashed}"] = (got, want)
    assert wrong == {}


async def test_duplicates_group_only_the_readable_documents(world: World) -> None:
    # Every live document of the world holds the same bytes: a user's one group is the live
    # documents they can read, when there are at least two.
    reads = world.container.document_reads()
    wrong: dict[str, tuple[list[set[UUID]], list[set[UUID]]]] = {}
    for name, user in world.users.items():
        groups = await reads.duplicates(RequestContext(actor=user))
        got = [{d.id for d in group.documents} for group in groups]
        live = readable(world, user, trashed=False)
        want = [live] if len(live) >= 2 else []
        if got != want:
            wrong[name] = (got, want)
    assert wrong == {}


async def test_creating_follows_the_policy(world: World) -> None:
    uploads = world.container.document_uploads()
    wrong: dict[str, tuple[str, str]] = {}
    for name, user in world.users.items():
        ctx = RequestContext(actor=user)
        for level, department in LEVELS_AND_DEPARTMENTS:
            expected = expected_creation(user, level, department)
            fields = DocumentFields(title="new", access_level=level, department=department)
            text = f"created by {name} at L{level} {department}"

            async def chunks(data: bytes = text.encode()) -> AsyncIterator[bytes]:
                yield data

            uploaded = await outcome_of(uploads.upload(ctx, "new.txt", chunks(), fields))
            created = await outcome_of(
                uploads.create_text(ctx, text + " (text)", DocumentType.TXT, fields)
            )
            for operation, got in (("upload", uploaded), ("create text", created)):
                if got != expected:
                    cell = f"{operation} | {name} | L{level} {department or 'any'}"
                    wrong[cell] = (name_of(got), name_of(expected))
    assert wrong == {}


@pytest.mark.parametrize("storage", ["memory"])  # the policy alone: one storage will do
async def test_the_inactive_user_would_read_most_of_the_world_if_active(world: World) -> None:
    """The use cases take an inactive actor (`RequestContext.require_user` does not look at
    `is_active`); the policy refuses them everything. Their clearance (L3, department A)
    would read most of the world, so the matrix's `NotFound`s for them are that refusal, not
    a user who could read nothing anyway."""
    inactive = world.users["inactive"]

    assert RequestContext(actor=inactive).require_user() is inactive
    assert readable(world, replace(inactive, is_active=True), trashed=False)
    assert readable(world, inactive, trashed=False) == set()
