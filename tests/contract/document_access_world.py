"""The world of the document authorization matrix, and what `domain.policy` says of each cell.

Users {admin, L1-L3 in departments A and B, a guest, the owner, read/write/delete grantees, an
inactive user} x documents {levels 1-3 x department none/A/B, some in the trash} x every
operation on a document. The outcome of a cell is the domain error its use case must raise
(`NotFound` for a document the user may not read: existence does not leak; `PermissionDenied`
for one they may read but not act on; `Conflict` for a change to a document in the trash), or
`ALLOWED`. `tests/contract/test_document_access_matrix.py` runs every cell against the use cases
on both storages; `tests/api/test_document_access_matrix.py` runs a few through HTTP.

The world is written through the store, not through the use cases under test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Final, Literal
from uuid import UUID, uuid4

from application.context import RequestContext
from application.users import CreateUser
from domain import policy
from domain.documents import Access, Document, DocumentType, Permission
from domain.errors import Conflict, DomainError, NotFound, PermissionDenied
from domain.users import User, UserChanges
from domain.values import AccessLevel
from infrastructure.container import Container

SAME_BYTES = b"every document of the world holds these bytes\n"
RECLASSIFY: Final = {"access_level": 1, "department": None}  # the declassification of issue #9
TAXONOMY_VERSION = "matrix"
TAXONOMY_PATH = "Matrix"

# Operations on one document, by what they need.
READS = ("get", "file", "events", "list classifications")
WRITES = ("patch", "replace tags", "add tags", "remove tag")
CLASSIFYING = ("classify", "remove classification", "approve")
TRASH = ("delete", "restore", "purge")
GRANTS = ("list grants", "grant", "revoke")
ON_A_DOCUMENT = (*READS, "similar", *WRITES, "reclassify", *CLASSIFYING, *TRASH, *GRANTS)
# Operations on no one document: creating (at each level and department) and listing.
CREATES = ("upload", "create text")
LISTINGS = ("list", "duplicates")
LEVELS_AND_DEPARTMENTS = [(level, dept) for level in (1, 2, 3) for dept in (None, "A", "B")]

Allowed = Literal["allowed"]
ALLOWED: Final[Allowed] = "allowed"
Outcome = Allowed | type[DomainError]

USER_SPECS: dict[str, dict[str, Any]] = {
    "admin": {"role": "admin", "access_level": 3},
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
    *((level, dept, False) for level, dept in LEVELS_AND_DEPARTMENTS),
    (1, None, True),
    (2, "A", True),
    (3, "B", True),
]


@dataclass
class World:
    container: Container
    users: dict[str, User]
    documents: list[Document] = field(default_factory=list)
    grants: dict[tuple[UUID, UUID], Access] = field(default_factory=dict)
    node_id: UUID = field(default_factory=uuid4)  # the taxonomy node documents are classified in

    @property
    def admin_ctx(self) -> RequestContext:
        return RequestContext(actor=self.users["admin"])

    def grant(self, user: User, doc: Document) -> Access | None:
        return self.grants.get((user.id, doc.id))

    def cells(self) -> list[tuple[str, User, Document]]:
        """Every (user name, user, document) pair of the matrix."""
        return [(name, user, doc) for name, user in self.users.items() for doc in self.documents]


def email_of(name: str) -> str:
    return name.replace(" ", "-").lower() + "@matrix.example.com"


async def add_matrix_users(container: Container) -> dict[str, User]:
    """The users of USER_SPECS, registered by the system (the inactive one deactivated)."""
    system = RequestContext.system()
    users: dict[str, User] = {}
    for name, spec in USER_SPECS.items():
        command = CreateUser(
            email=email_of(name),
            name=name.title(),
            department=spec.get("department"),
            access_level=spec["access_level"],
            role=spec.get("role", "member"),
        )
        user = await container.users().create(system, command)
        if not spec.get("is_active", True):
            user = await container.users().update(
                system, user.id, UserChanges({"is_active": False})
            )
        users[name] = user
    return users


async def insert_document(
    world: World, level: int, department: str | None, trashed: bool
) -> Document:
    """A document owned by `owner`, with grants for the grantees, written through the store."""
    container = world.container

    async def once() -> AsyncIterator[bytes]:
        yield SAME_BYTES

    stored = await container.blobs().put(once(), max_bytes=len(SAME_BYTES))
    now = container.clock().now()
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


async def build_world(container: Container, users: dict[str, User]) -> World:
    """The documents of DOCUMENT_SPECS and a published taxonomy of one node, for `users`
    (which must hold every name of USER_SPECS)."""
    world = World(container, users)
    world.documents = [await insert_document(world, *spec) for spec in DOCUMENT_SPECS]
    taxonomy = container.taxonomy()
    await taxonomy.create_version(world.admin_ctx, TAXONOMY_VERSION)
    node = await taxonomy.add_node(world.admin_ctx, TAXONOMY_VERSION, TAXONOMY_PATH)
    world.node_id = node.node_id
    await taxonomy.publish(world.admin_ctx, TAXONOMY_VERSION)
    return world


# --- what the policy says -----------------------------------------------------------------------


def expected_outcome(operation: str, user: User, doc: Document, grant: Access | None) -> Outcome:
    """What the use case of `operation` must do for `user` on `doc`, from `domain.policy`.

    An inactive user may do nothing: the policy refuses them everything, so they meet the
    same `NotFound` as anyone who cannot read the document (over HTTP their token is refused
    with a 401 before any use case runs)."""
    if not policy.can_read(user, doc, grant):
        return NotFound
    if operation == "similar":  # "more like this" of a live document only
        return NotFound if doc.in_trash else ALLOWED
    if operation in READS:
        return ALLOWED
    if operation in (*WRITES, *CLASSIFYING):
        if not policy.can_write(user, doc, grant):
            return PermissionDenied
        return Conflict if doc.in_trash else ALLOWED
    if operation == "reclassify":
        if not policy.can_write(user, doc, grant):
            return PermissionDenied
        if doc.in_trash:
            return Conflict
        if (doc.access_level, doc.department) == (1, None):
            return ALLOWED  # no change: a write grant may send the current classification
        allowed = policy.can_reclassify(user, doc) and policy.can_create(user, 1, None)
        return ALLOWED if allowed else PermissionDenied
    if operation == "delete":
        return ALLOWED if policy.can_delete(user, doc, grant) else PermissionDenied
    if operation == "restore":
        if not policy.can_delete(user, doc, grant):
            return PermissionDenied
        return ALLOWED if doc.in_trash else Conflict
    if operation == "purge":
        return ALLOWED if policy.can_purge(user, doc) else PermissionDenied
    if operation in GRANTS:
        return ALLOWED if policy.can_manage_grants(user, doc) else PermissionDenied
    raise AssertionError(f"no expectation for {operation}")


def expected_creation(user: User, level: int, department: str | None) -> Outcome:
    return ALLOWED if policy.can_create(user, level, department) else PermissionDenied


def readable(world: World, user: User, *, trashed: bool) -> set[UUID]:
    """The ids of the documents `user` may read, in the trash or out of it."""
    return {
        d.id
        for d in world.documents
        if d.in_trash == trashed and policy.can_read(user, d, world.grant(user, d))
    }


def name_of(outcome: Outcome) -> str:
    return outcome if isinstance(outcome, str) else outcome.__name__
