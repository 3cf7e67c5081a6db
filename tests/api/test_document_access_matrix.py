"""The authorization matrix of the documents API (issue #3, acceptance 1).

Users {admin, L1-L3 in departments A and B, a guest, the owner, read/write/delete grantees, an
inactive user} x documents {levels 1-3 x department none/A/B, some in the trash} x every
document route. Each HTTP status must be what `domain.policy` says: unreadable -> 404 (never
403: existence does not leak), readable but not allowed -> 403, allowed -> 2xx, a token of an
inactive user -> 401. The route table below enumerates the app's document routes, so a new
route fails `test_every_document_route_is_in_the_matrix` until it is added here.

The world (users, documents, grants) is written through the store, not the API under test.
Operations that change a document are undone after each successful cell (or, for purge, run
on a fresh copy), so every cell sees the same world.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import pytest
from litestar.routes import HTTPRoute

from application.context import RequestContext
from application.taxonomy import Classify
from domain import policy
from domain.documents import Access, Document, DocumentChanges, DocumentType, Permission
from domain.users import User
from domain.values import AccessLevel
from tests.api.conftest import API, Api, Caller, make_user

SAME_BYTES = b"every document of the world holds these bytes\n"
BYSTANDER_GRANT = {"access": "read"}
D = f"{API}/documents"
DOC = f"{D}/{{doc_id:uuid}}"

# Every route under /documents, and the matrix operation(s) that exercise it.
DOCUMENT_ROUTES: dict[tuple[str, str], tuple[str, ...]] = {
    ("POST", D): ("upload",),
    ("POST", f"{D}/text"): ("create text",),
    ("GET", D): ("list",),
    ("GET", f"{D}/duplicates"): ("duplicates",),
    ("GET", DOC): ("get",),
    ("GET", f"{DOC}/file"): ("file",),
    ("GET", f"{DOC}/events"): ("events",),
    ("GET", f"{DOC}/similar"): ("similar",),
    ("PATCH", DOC): ("patch", "reclassify"),
    ("DELETE", DOC): ("delete", "purge"),
    ("POST", f"{DOC}/restore"): ("restore",),
    ("PUT", f"{DOC}/tags"): ("replace tags",),
    ("POST", f"{DOC}/tags"): ("add tags",),
    ("DELETE", f"{DOC}/tags/{{name:str}}"): ("remove tag",),
    ("GET", f"{DOC}/permissions"): ("list grants",),
    ("PUT", f"{DOC}/permissions/{{user_id:uuid}}"): ("grant",),
    ("DELETE", f"{DOC}/permissions/{{user_id:uuid}}"): ("revoke",),
    ("POST", f"{DOC}/classifications"): ("classify",),
    ("GET", f"{DOC}/classifications"): ("list classifications",),
    ("DELETE", f"{DOC}/classifications/{{node_id:uuid}}"): ("remove classification",),
    ("POST", f"{DOC}/classifications/{{node_id:uuid}}/approve"): ("approve",),
}
READS = ("get", "file", "events", "list classifications")
CLASSIFYING = ("classify", "remove classification", "approve")
SUCCESS = {"classify": 201, "remove classification": 204, "approve": 200}
WRITES = ("patch", "replace tags", "add tags", "remove tag")
RECLASSIFY = {"access_level": 1, "department": None}  # the declassification of issue #9
TRASH = ("delete", "restore", "purge")
GRANTS = ("list grants", "grant", "revoke")
CREATES = ("upload", "create text")
LISTINGS = ("list", "duplicates")


# --- the world --------------------------------------------------------------------------------


@dataclass
class World:
    api: Api
    callers: dict[str, Caller]
    users: dict[str, User]
    documents: list[Document]
    grants: dict[tuple[UUID, UUID], Access] = field(default_factory=dict)
    bystander: UUID = field(default_factory=uuid4)
    node_id: UUID = field(default_factory=uuid4)  # the taxonomy node documents are classified in

    @property
    def admin_ctx(self) -> RequestContext:
        return RequestContext(actor=self.users["admin"])

    def grant(self, user: User, doc: Document) -> Access | None:
        return self.grants.get((user.id, doc.id))


USER_SPECS: dict[str, dict[str, Any]] = {
    **{
        f"L{level}{dept}": {"department": dept, "access_level": level}
        for dept in ("A", "B")
        for level in (1, 2, 3)
    },
    "guest": {"role": "guest", "department": "A", "access_level": 3},
    "owner": {"access_level": 1},
    "read grantee": {"department": "B", "access_level": 1},
    "write grantee": {"department": "B", "access_level": 1},
    "delete grantee": {"department": "B", "access_level": 1},
    "inactive": {"department": "A", "access_level": 3, "is_active": False},
}
GRANTEES = {
    "read grantee": Access.READ,
    "write grantee": Access.WRITE,
    "delete grantee": Access.DELETE,
}
DOCUMENT_SPECS = [
    *((level, dept, False) for level in (1, 2, 3) for dept in (None, "A", "B")),
    (1, None, True),
    (2, "A", True),
    (3, "B", True),
]


async def insert_document(
    world: World, level: int, department: str | None, trashed: bool
) -> Document:
    """A document owned by `owner`, with grants for the grantees, written through the store."""
    container = world.api.container

    async def once() -> Any:
        yield SAME_BYTES

    stored = await container.blobs().put(once(), max_bytes=len(SAME_BYTES))
    now = world.api.clock.now()
    doc = Document(
        id=uuid4(),
        title=f"L{level} {department or 'any'}{' trashed' if trashed else ''}",
        content=SAME_BYTES.decode(),
        document_type=DocumentType.TXT,
        source="",
        access_level=AccessLevel(level),
        department=department,
        metadata=None,
        owner_id=world.users["owner"].id,
        category_id=None,
        original_filename="world.txt",
        extension="txt",
        mime_type="text/plain",
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        storage_key=stored.key,
        created_at=now,
        updated_at=now,
        deleted_at=now if trashed else None,
    )
    async with container.uow_factory()() as uow:
        await uow.documents.add(doc)
        for name, access in GRANTEES.items():
            user = world.users[name]
            await uow.permissions.put(Permission(uuid4(), user.id, doc.id, access, None, now))
            world.grants[(user.id, doc.id)] = access
        await uow.commit()
    return doc


@pytest.fixture
async def world(api: Api) -> World:
    callers = {"admin": api.admin}
    for name, spec in USER_SPECS.items():
        email = name.replace(" ", "-").lower() + "@matrix.example.com"
        callers[name] = await make_user(api.container, email, **spec)
    async with api.container.uow_factory()(autocommit=True) as uow:
        users = {name: await uow.users.get(c.user_id) for name, c in callers.items()}
    built = World(api, callers, {n: u for n, u in users.items() if u is not None}, [])
    built.documents = [await insert_document(built, *spec) for spec in DOCUMENT_SPECS]
    taxonomy = api.container.taxonomy()
    await taxonomy.create_version(built.admin_ctx, "matrix")
    built.node_id = (await taxonomy.add_node(built.admin_ctx, "matrix", "Matrix")).node_id
    await taxonomy.publish(built.admin_ctx, "matrix")
    return built


# --- what the policy says -----------------------------------------------------------------------


def expected_status(operation: str, user: User, doc: Document, grant: Access | None) -> int:
    if not user.is_active:
        return 401
    if not policy.can_read(user, doc, grant):
        return 404
    if operation == "similar":  # "more like this" of a live document only
        return 404 if doc.in_trash else 200
    if operation in READS:
        return 200
    if operation in WRITES:
        if not policy.can_write(user, doc, grant):
            return 403
        if doc.in_trash:
            return 409
        return 204 if operation == "remove tag" else 200
    if operation == "reclassify":
        if not policy.can_write(user, doc, grant):
            return 403
        if doc.in_trash:
            return 409
        if (doc.access_level, doc.department) == (1, None):
            return 200  # no change: a write grant may send the current classification
        allowed = policy.can_reclassify(user, doc) and policy.can_create(user, 1, None)
        return 200 if allowed else 403
    if operation in CLASSIFYING:
        if not policy.can_write(user, doc, grant):
            return 403
        return 409 if doc.in_trash else SUCCESS[operation]
    if operation == "delete":
        return 204 if policy.can_delete(user, doc, grant) else 403
    if operation == "restore":
        if not policy.can_delete(user, doc, grant):
            return 403
        return 200 if doc.in_trash else 409
    if operation == "purge":
        return 204 if policy.can_purge(user, doc) else 403
    if operation in GRANTS:
        if not policy.can_manage_grants(user, doc):
            return 403
        return 204 if operation == "revoke" else 200
    raise AssertionError(f"no expectation for {operation}")


# --- running one cell -----------------------------------------------------------------------------

Cell = Callable[[World, Caller, Document, int], Awaitable[int]]


async def _get(world: World, caller: Caller, doc: Document, _: int) -> int:
    return (await world.api.client.get(f"{D}/{doc.id}", headers=caller.headers)).status_code


async def _file(world: World, caller: Caller, doc: Document, _: int) -> int:
    response = await world.api.client.get(f"{D}/{doc.id}/file", headers=caller.headers)
    return response.status_code


async def _events(world: World, caller: Caller, doc: Document, _: int) -> int:
    response = await world.api.client.get(f"{D}/{doc.id}/events", headers=caller.headers)
    return response.status_code


async def _similar(world: World, caller: Caller, doc: Document, _: int) -> int:
    response = await world.api.client.get(f"{D}/{doc.id}/similar", headers=caller.headers)
    return response.status_code


async def _patch(world: World, caller: Caller, doc: Document, _: int) -> int:
    response = await world.api.client.patch(
        f"{D}/{doc.id}", json={"title": "changed"}, headers=caller.headers
    )
    return response.status_code


async def _reclassify(world: World, caller: Caller, doc: Document, _: int) -> int:
    response = await world.api.client.patch(
        f"{D}/{doc.id}", json=RECLASSIFY, headers=caller.headers
    )
    if response.status_code == 200:  # put the world back
        await world.api.container.document_lifecycle().update(
            world.admin_ctx,
            doc.id,
            DocumentChanges({"access_level": doc.access_level, "department": doc.department}),
        )
    return response.status_code


async def _replace_tags(world: World, caller: Caller, doc: Document, _: int) -> int:
    response = await world.api.client.put(
        f"{D}/{doc.id}/tags", json={"tags": ["replaced"]}, headers=caller.headers
    )
    return response.status_code


async def _add_tags(world: World, caller: Caller, doc: Document, _: int) -> int:
    response = await world.api.client.post(
        f"{D}/{doc.id}/tags", json={"tags": ["added"]}, headers=caller.headers
    )
    return response.status_code


async def _remove_tag(world: World, caller: Caller, doc: Document, expected: int) -> int:
    if expected == 204:  # the tag must be there to be taken off
        await world.api.container.document_lifecycle().add_tags(world.admin_ctx, doc.id, ["doomed"])
    response = await world.api.client.delete(f"{D}/{doc.id}/tags/doomed", headers=caller.headers)
    return response.status_code


async def _delete(world: World, caller: Caller, doc: Document, _: int) -> int:
    status = (await world.api.client.delete(f"{D}/{doc.id}", headers=caller.headers)).status_code
    if status == 204 and not doc.in_trash:  # put the world back
        await world.api.container.document_lifecycle().restore(world.admin_ctx, doc.id)
    return status


async def _restore(world: World, caller: Caller, doc: Document, _: int) -> int:
    response = await world.api.client.post(f"{D}/{doc.id}/restore", headers=caller.headers)
    if response.status_code == 200 and doc.in_trash:
        await world.api.container.document_lifecycle().delete(world.admin_ctx, doc.id)
    return response.status_code


async def _purge(world: World, caller: Caller, doc: Document, expected: int) -> int:
    if expected == 204:  # a purge that should work runs on a fresh copy
        doc = await insert_document(world, doc.access_level, doc.department, doc.in_trash)
    response = await world.api.client.delete(
        f"{D}/{doc.id}", params={"purge": "true"}, headers=caller.headers
    )
    return response.status_code


async def _list_grants(world: World, caller: Caller, doc: Document, _: int) -> int:
    response = await world.api.client.get(f"{D}/{doc.id}/permissions", headers=caller.headers)
    return response.status_code


async def _grant(world: World, caller: Caller, doc: Document, _: int) -> int:
    # The grant goes to a user outside the matrix, so it changes nobody's rights here.
    response = await world.api.client.put(
        f"{D}/{doc.id}/permissions/{world.users['L1A'].id}",
        json=BYSTANDER_GRANT,
        headers=caller.headers,
    )
    status = response.status_code
    if status == 200:
        await world.api.container.grants().revoke(world.admin_ctx, doc.id, world.users["L1A"].id)
    return status


async def _revoke(world: World, caller: Caller, doc: Document, expected: int) -> int:
    target = world.users["L1B"].id
    if expected == 204:  # there must be a grant to take away
        await world.api.container.grants().grant(world.admin_ctx, doc.id, target, "read")
    response = await world.api.client.delete(
        f"{D}/{doc.id}/permissions/{target}", headers=caller.headers
    )
    return response.status_code


async def _classify(world: World, caller: Caller, doc: Document, _: int) -> int:
    response = await world.api.client.post(
        f"{D}/{doc.id}/classifications",
        json={"path": "Matrix", "confidence": 0.5},
        headers=caller.headers,
    )
    if response.status_code == 201:  # put the world back
        await world.api.container.taxonomy().remove(world.admin_ctx, doc.id, world.node_id)
    return response.status_code


async def _list_classifications(world: World, caller: Caller, doc: Document, _: int) -> int:
    response = await world.api.client.get(f"{D}/{doc.id}/classifications", headers=caller.headers)
    return response.status_code


async def _remove_classification(world: World, caller: Caller, doc: Document, expected: int) -> int:
    if expected == 204:  # there must be one to remove
        await world.api.container.taxonomy().classify(
            world.admin_ctx, doc.id, Classify("Matrix", 0.5)
        )
    response = await world.api.client.delete(
        f"{D}/{doc.id}/classifications/{world.node_id}", headers=caller.headers
    )
    return response.status_code


async def _approve(world: World, caller: Caller, doc: Document, expected: int) -> int:
    if expected == 200:  # there must be one to approve
        await world.api.container.taxonomy().classify(
            world.admin_ctx, doc.id, Classify("Matrix", 0.5, hitl_required=True)
        )
    response = await world.api.client.post(
        f"{D}/{doc.id}/classifications/{world.node_id}/approve", headers=caller.headers
    )
    if expected == 200:
        await world.api.container.taxonomy().remove(world.admin_ctx, doc.id, world.node_id)
    return response.status_code


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


async def mismatches(world: World, operations: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    """Every cell whose status differs from the policy's, as {cell: (got, expected)}."""
    wrong: dict[str, tuple[int, int]] = {}
    for operation in operations:
        for name, caller in world.callers.items():
            user = world.users[name]
            for doc in world.documents:
                expected = expected_status(operation, user, doc, world.grant(user, doc))
                got = await CELLS[operation](world, caller, doc, expected)
                if got != expected:
                    wrong[f"{operation} | {name} | {doc.title}"] = (got, expected)
    return wrong


# --- the tests ------------------------------------------------------------------------------------


async def test_every_document_route_is_in_the_matrix(api: Api) -> None:
    served = {
        (method, route.path)
        for route in api.app.routes
        if isinstance(route, HTTPRoute) and route.path.startswith(D)
        for handler in route.route_handlers
        for method in handler.http_methods
        if method != "OPTIONS"
    }
    covered = {op for ops in DOCUMENT_ROUTES.values() for op in ops}

    assert sorted(served ^ DOCUMENT_ROUTES.keys()) == []
    assert covered == {*CELLS, *CREATES, *LISTINGS}


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


async def test_listings_show_exactly_the_readable_documents(world: World) -> None:
    wrong: dict[str, Any] = {}
    for name, caller in world.callers.items():
        user = world.users[name]
        readable = {
            str(d.id) for d in world.documents if policy.can_read(user, d, world.grant(user, d))
        }
        live = {str(d.id) for d in world.documents if not d.in_trash} & readable
        trash = readable - live
        for params, want in (({}, live), ({"deleted": "true"}, trash)):
            response = await world.api.client.get(
                D, params={**params, "limit": 200}, headers=caller.headers
            )
            if not user.is_active:
                got: Any = response.status_code
                want = 401
            else:
                got = {item["id"] for item in response.json()["items"]}
            if got != want:
                wrong[f"{name} {params}"] = (got, want)
    assert wrong == {}


async def test_duplicates_group_only_the_readable_documents(world: World) -> None:
    # Every live document of the world holds the same bytes: a caller's one group is the live
    # documents they can read, when there are at least two.
    wrong: dict[str, Any] = {}
    for name, caller in world.callers.items():
        user = world.users[name]
        response = await world.api.client.get(f"{D}/duplicates", headers=caller.headers)
        readable = {
            str(d.id)
            for d in world.documents
            if not d.in_trash and policy.can_read(user, d, world.grant(user, d))
        }
        if not user.is_active:
            got: Any = response.status_code
            want: Any = 401
        else:
            got = [{d["id"] for d in group["documents"]} for group in response.json()["items"]]
            want = [readable] if len(readable) >= 2 else []
        if got != want:
            wrong[name] = (got, want)
    assert wrong == {}


async def test_creating_follows_the_policy(world: World) -> None:
    wrong: dict[str, tuple[int, int]] = {}
    serial = 0
    for name, caller in world.callers.items():
        user = world.users[name]
        for level in (1, 2, 3):
            for department in (None, "A", "B"):
                if not user.is_active:
                    expected = 401
                else:
                    expected = 201 if policy.can_create(user, level, department) else 403
                fields: dict[str, Any] = {"access_level": level}
                if department is not None:
                    fields["department"] = department
                serial += 1
                text = f"created by {name}, number {serial}"
                uploaded = await world.api.client.post(
                    D,
                    files={"file": ("new.txt", text.encode(), "text/plain")},
                    data={k: str(v) for k, v in fields.items()},
                    headers=caller.headers,
                )
                created = await world.api.client.post(
                    f"{D}/text",
                    json={"title": "new", "content": text + " (text)", **fields},
                    headers=caller.headers,
                )
                for route, response in (("upload", uploaded), ("create text", created)):
                    if response.status_code != expected:
                        cell = f"{route} | {name} | L{level} {department or 'any'}"
                        wrong[cell] = (response.status_code, expected)
    assert wrong == {}


async def test_classifying_a_document_follows_the_policy(world: World) -> None:
    assert await mismatches(world, CLASSIFYING) == {}
