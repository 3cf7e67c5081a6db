"""The documents API answers the authorization matrix with the right statuses (issue #3,
acceptance 1), on both storages.

The matrix itself (every user x every document x every operation, as `domain.policy` says) is
proven at the use cases: `tests/contract/test_document_access_matrix.py`. Here every document
route is called for a few cells of the same world: one of each outcome the route has (the use
case completes: 2xx; `PermissionDenied`: 403; `NotFound`: 404, never 403, so existence does not
leak; `Conflict`: 409), and a token of the inactive user, refused with 401 before any use case
runs. The route table enumerates the app's document routes, so a new route fails
`test_every_document_route_is_in_the_matrix` until it is added here and to the contract matrix.

Operations that change a document are undone after each successful cell (or, for purge, run on
a fresh copy), so every cell sees the same world.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from litestar.routes import HTTPRoute

from application.context import RequestContext
from application.taxonomy import Classify
from domain.documents import Document, DocumentChanges
from domain.errors import Conflict, DomainError, NotFound, PermissionDenied
from tests.api.conftest import API, Api, Caller, make_user
from tests.contract.document_access_world import (
    ALLOWED,
    CREATES,
    LEVELS_AND_DEPARTMENTS,
    LISTINGS,
    ON_A_DOCUMENT,
    RECLASSIFY,
    TAXONOMY_PATH,
    USER_SPECS,
    Outcome,
    World,
    build_world,
    email_of,
    expected_creation,
    expected_outcome,
    insert_document,
    readable,
)

D = f"{API}/documents"
DOC = f"{D}/{{doc_id:uuid}}"

# Every route under /documents, and the matrix operation(s) that exercise it.
DOCUMENT_ROUTES: dict[tuple[str, str], tuple[str, ...]] = {
    ("POST", D): ("upload",),
    ("POST", f"{D}/text"): ("create text",),
    ("GET", D): ("list",),
    ("GET", f"{D}/duplicates"): ("duplicates",),
    # Each document of a bulk request ends as its own route would (one result per document,
    # proven cell by cell in tests/contract/test_document_bulk.py).
    ("POST", f"{D}/bulk"): ("add tags", "remove tag", "delete", "restore", "classify"),
    ("GET", DOC): ("get",),
    ("GET", f"{DOC}/file"): ("file",),
    ("GET", f"{DOC}/thumbnail"): ("get",),  # the document's read rule (then: not made yet)
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
# The status of a refusal, whatever the route (SPEC.md §3).
STATUS_OF_REFUSAL: dict[type[DomainError], int] = {
    NotFound: 404,
    PermissionDenied: 403,
    Conflict: 409,
}
# The status of a cell whose use case completes.
SUCCESS = {
    **dict.fromkeys(ON_A_DOCUMENT, 200),
    **dict.fromkeys(("remove tag", "delete", "purge", "revoke", "remove classification"), 204),
    "classify": 201,
    **dict.fromkeys(CREATES, 201),
}
INACTIVE = 401


def status_of(operation: str, outcome: Outcome) -> int:
    return SUCCESS[operation] if outcome == ALLOWED else STATUS_OF_REFUSAL[outcome]


@dataclass
class HttpWorld:
    """The matrix's world, and a token for each of its users."""

    api: Api
    world: World
    callers: dict[str, Caller]

    @property
    def admin_ctx(self) -> RequestContext:
        return self.world.admin_ctx


@pytest.fixture
async def http_world(api: Api) -> HttpWorld:
    callers = {"admin": api.admin}
    for name, spec in USER_SPECS.items():
        if name != "admin":
            callers[name] = await make_user(api.container, email_of(name), **spec)
    system = RequestContext.system()
    users = {n: await api.container.users().get(system, c.user_id) for n, c in callers.items()}
    return HttpWorld(api, await build_world(api.container, users), callers)


# --- running one cell -----------------------------------------------------------------------------

Cell = Callable[[HttpWorld, Caller, Document, Outcome], Awaitable[int]]


async def _get(w: HttpWorld, caller: Caller, doc: Document, _: Outcome) -> int:
    return (await w.api.client.get(f"{D}/{doc.id}", headers=caller.headers)).status_code


async def _file(w: HttpWorld, caller: Caller, doc: Document, _: Outcome) -> int:
    response = await w.api.client.get(f"{D}/{doc.id}/file", headers=caller.headers)
    return response.status_code


async def _events(w: HttpWorld, caller: Caller, doc: Document, _: Outcome) -> int:
    response = await w.api.client.get(f"{D}/{doc.id}/events", headers=caller.headers)
    return response.status_code


async def _similar(w: HttpWorld, caller: Caller, doc: Document, _: Outcome) -> int:
    response = await w.api.client.get(f"{D}/{doc.id}/similar", headers=caller.headers)
    return response.status_code


async def _patch(w: HttpWorld, caller: Caller, doc: Document, _: Outcome) -> int:
    response = await w.api.client.patch(
        f"{D}/{doc.id}", json={"title": "changed"}, headers=caller.headers
    )
    return response.status_code


async def _reclassify(w: HttpWorld, caller: Caller, doc: Document, _: Outcome) -> int:
    response = await w.api.client.patch(f"{D}/{doc.id}", json=RECLASSIFY, headers=caller.headers)
    if response.status_code == 200:  # put the world back
        await w.api.container.document_lifecycle().update(
            w.admin_ctx,
            doc.id,
            DocumentChanges({"access_level": doc.access_level, "department": doc.department}),
        )
    return response.status_code


async def _replace_tags(w: HttpWorld, caller: Caller, doc: Document, _: Outcome) -> int:
    response = await w.api.client.put(
        f"{D}/{doc.id}/tags", json={"tags": ["replaced"]}, headers=caller.headers
    )
    return response.status_code


async def _add_tags(w: HttpWorld, caller: Caller, doc: Document, _: Outcome) -> int:
    response = await w.api.client.post(
        f"{D}/{doc.id}/tags", json={"tags": ["added"]}, headers=caller.headers
    )
    return response.status_code


async def _remove_tag(w: HttpWorld, caller: Caller, doc: Document, expected: Outcome) -> int:
    if expected == ALLOWED:  # the tag must be there to be taken off
        await w.api.container.document_lifecycle().add_tags(w.admin_ctx, doc.id, ["doomed"])
    response = await w.api.client.delete(f"{D}/{doc.id}/tags/doomed", headers=caller.headers)
    return response.status_code


async def _delete(w: HttpWorld, caller: Caller, doc: Document, _: Outcome) -> int:
    status = (await w.api.client.delete(f"{D}/{doc.id}", headers=caller.headers)).status_code
    if status == 204 and not doc.in_trash:  # put the world back
        await w.api.container.document_lifecycle().restore(w.admin_ctx, doc.id)
    return status


async def _restore(w: HttpWorld, caller: Caller, doc: Document, _: Outcome) -> int:
    response = await w.api.client.post(f"{D}/{doc.id}/restore", headers=caller.headers)
    if response.status_code == 200 and doc.in_trash:
        await w.api.container.document_lifecycle().delete(w.admin_ctx, doc.id)
    return response.status_code


async def _purge(w: HttpWorld, caller: Caller, doc: Document, expected: Outcome) -> int:
    if expected == ALLOWED:  # a purge that should work runs on a fresh copy
        doc = await insert_document(w.world, doc.access_level, doc.department, doc.in_trash)
    response = await w.api.client.delete(
        f"{D}/{doc.id}", params={"purge": "true"}, headers=caller.headers
    )
    return response.status_code


async def _list_grants(w: HttpWorld, caller: Caller, doc: Document, _: Outcome) -> int:
    response = await w.api.client.get(f"{D}/{doc.id}/permissions", headers=caller.headers)
    return response.status_code


async def _grant(w: HttpWorld, caller: Caller, doc: Document, _: Outcome) -> int:
    # To L1A, taken back at once, so it changes nobody's rights in the matrix.
    bystander = w.world.users["L1A"].id
    response = await w.api.client.put(
        f"{D}/{doc.id}/permissions/{bystander}", json={"access": "read"}, headers=caller.headers
    )
    if response.status_code == 200:
        await w.api.container.grants().revoke(w.admin_ctx, doc.id, bystander)
    return response.status_code


async def _revoke(w: HttpWorld, caller: Caller, doc: Document, expected: Outcome) -> int:
    target = w.world.users["L1B"].id
    if expected == ALLOWED:  # there must be a grant to take away
        await w.api.container.grants().grant(w.admin_ctx, doc.id, target, "read")
    response = await w.api.client.delete(
        f"{D}/{doc.id}/permissions/{target}", headers=caller.headers
    )
    return response.status_code


async def _classify(w: HttpWorld, caller: Caller, doc: Document, _: Outcome) -> int:
    response = await w.api.client.post(
        f"{D}/{doc.id}/classifications",
        json={"path": TAXONOMY_PATH, "confidence": 0.5},
        headers=caller.headers,
    )
    if response.status_code == 201:  # put the world back
        await w.api.container.taxonomy().remove(w.admin_ctx, doc.id, w.world.node_id)
    return response.status_code


async def _list_classifications(w: HttpWorld, caller: Caller, doc: Document, _: Outcome) -> int:
    response = await w.api.client.get(f"{D}/{doc.id}/classifications", headers=caller.headers)
    return response.status_code


async def _remove_classification(
    w: HttpWorld, caller: Caller, doc: Document, expected: Outcome
) -> int:
    if expected == ALLOWED:  # there must be one to remove
        await w.api.container.taxonomy().classify(w.admin_ctx, doc.id, Classify(TAXONOMY_PATH, 0.5))
    response = await w.api.client.delete(
        f"{D}/{doc.id}/classifications/{w.world.node_id}", headers=caller.headers
    )
    return response.status_code


async def _approve(w: HttpWorld, caller: Caller, doc: Document, expected: Outcome) -> int:
    taxonomy = w.api.container.taxonomy()
    if expected == ALLOWED:  # there must be one to approve
        command = Classify(TAXONOMY_PATH, 0.5, hitl_required=True)
        await taxonomy.classify(w.admin_ctx, doc.id, command)
    response = await w.api.client.post(
        f"{D}/{doc.id}/classifications/{w.world.node_id}/approve", headers=caller.headers
    )
    if expected == ALLOWED:
        await taxonomy.remove(w.admin_ctx, doc.id, w.world.node_id)
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


def representatives(world: World, operation: str) -> dict[Outcome, tuple[str, Document]]:
    """The first cell (active user, document) of each outcome `operation` has in the world."""
    found: dict[Outcome, tuple[str, Document]] = {}
    for name, user, doc in world.cells():
        if user.is_active:
            found.setdefault(
                expected_outcome(operation, user, doc, world.grant(user, doc)), (name, doc)
            )
    return found


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
    assert covered == {*ON_A_DOCUMENT, *CREATES, *LISTINGS}
    assert CELLS.keys() == set(ON_A_DOCUMENT)


async def test_each_outcome_on_a_document_has_its_status_on_every_route(
    http_world: HttpWorld,
) -> None:
    world, inactive = http_world.world, http_world.callers["inactive"]
    wrong: dict[str, tuple[int, int]] = {}
    seen: dict[str, set[int]] = {}
    for operation in ON_A_DOCUMENT:
        cells = representatives(world, operation)
        for outcome, (name, doc) in cells.items():
            expected = status_of(operation, outcome)
            seen.setdefault(operation, set()).add(expected)
            got = await CELLS[operation](http_world, http_world.callers[name], doc, outcome)
            if got != expected:
                wrong[f"{operation} | {name} | {doc.title}"] = (got, expected)
        # The inactive user's token, on a document their clearance would read.
        got = await CELLS[operation](http_world, inactive, world.documents[0], NotFound)
        if got != INACTIVE:
            wrong[f"{operation} | inactive"] = (got, INACTIVE)

    assert wrong == {}
    # Every route met a success and a 404 (403 and 409 where the policy has them).
    assert {op for op, statuses in seen.items() if 404 not in statuses} == set()
    assert {op for op, statuses in seen.items() if not statuses & {200, 201, 204}} == set()


async def test_creating_answers_201_403_and_401(http_world: HttpWorld) -> None:
    wrong: dict[str, tuple[int, int]] = {}
    cells: dict[Outcome, tuple[str, int, str | None]] = {}
    for name, user in http_world.world.users.items():
        for level, department in LEVELS_AND_DEPARTMENTS:
            if user.is_active:
                outcome = expected_creation(user, level, department)
                cells.setdefault(outcome, (name, level, department))
    chosen = [
        (name, level, dept, status_of("upload", o)) for o, (name, level, dept) in cells.items()
    ]
    chosen.append(("inactive", 1, None, INACTIVE))
    for serial, (name, level, department, expected) in enumerate(chosen):
        caller = http_world.callers[name]
        fields: dict[str, Any] = {"access_level": level}
        if department is not None:
            fields["department"] = department
        text = f"created by {name}, number {serial}"
        uploaded = await http_world.api.client.post(
            D,
            files={"file": ("new.txt", text.encode(), "text/plain")},
            data={k: str(v) for k, v in fields.items()},
            headers=caller.headers,
        )
        created = await http_world.api.client.post(
            f"{D}/text",
            json={"title": "new", "content": text + " (text)", **fields},
            headers=caller.headers,
        )
        for route, response in (("upload", uploaded), ("create text", created)):
            if response.status_code != expected:
                cell = f"{route} | {name} | L{level} {department or 'any'}"
                wrong[cell] = (response.status_code, expected)

    assert sorted(expected for *_, expected in chosen) == [201, 401, 403]
    assert wrong == {}


async def test_listings_show_the_readable_documents_and_refuse_the_inactive(
    http_world: HttpWorld,
) -> None:
    world, client = http_world.world, http_world.api.client
    wrong: dict[str, Any] = {}
    for name in ("admin", "L2A", "delete grantee"):
        headers, user = http_world.callers[name].headers, world.users[name]
        live = readable(world, user, trashed=False)
        trash = readable(world, user, trashed=True)

        listed = await client.get(D, headers=headers)
        trashed = await client.get(D, params={"deleted": "true"}, headers=headers)
        duplicates = await client.get(f"{D}/duplicates", headers=headers)

        got = (
            {d["id"] for d in listed.json()["items"]},
            {d["id"] for d in trashed.json()["items"]},
            [{d["id"] for d in group["documents"]} for group in duplicates.json()["items"]],
        )
        want = ({str(i) for i in live}, {str(i) for i in trash}, [{str(i) for i in live}])
        if got != want:
            wrong[name] = (got, want)
    inactive = http_world.callers["inactive"].headers
    for path in (D, f"{D}/duplicates"):
        status = (await client.get(path, headers=inactive)).status_code
        if status != INACTIVE:
            wrong[f"inactive {path}"] = (status, INACTIVE)
    assert wrong == {}
