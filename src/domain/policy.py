"""The access policy: who may do what (SPEC.md §2.7). One place.

The SQL adapter expresses `can_read` as a predicate composed into every read query; the
in-memory adapter calls these functions; `tests/contract` proves the two agree.
"""

from __future__ import annotations

from domain.documents import Access, Document
from domain.errors import PermissionDenied
from domain.users import User
from domain.values import Role


def can_administer(user: User) -> bool:
    """Manage users, settings and other users' tokens: active admins only."""
    return user.is_active_admin


def require_admin(user: User) -> None:
    if not can_administer(user):
        raise PermissionDenied("this action needs an administrator")


def can_manage_token_of(actor: User, owner_id: object) -> bool:
    """A user manages their own tokens; an admin manages anyone's."""
    return actor.is_active and (actor.id == owner_id or actor.is_admin)


def can_manage_sessions_of(actor: User, user_id: object) -> bool:
    """A user lists and ends their own sessions; an admin anyone's."""
    return actor.is_active and (actor.id == user_id or actor.is_admin)


def can_read(user: User, doc: Document, grant: Access | None) -> bool:
    """Read a document: see it, its file, its tags and its events.

    The trash is visible to the owner, admins and holders of a delete grant on the document
    (who may restore it). Otherwise: admin, owner, any grant, or clearance at least the
    document's level within its department (or any department when the document has none)."""
    if not user.is_active:
        return False
    privileged = user.is_admin or doc.owner_id == user.id
    if doc.in_trash:
        return privileged or (grant is not None and grant >= Access.DELETE)
    return (
        privileged
        or grant is not None
        or (
            user.access_level >= doc.access_level
            and (doc.department is None or doc.department == user.department)
        )
    )


def can_write(user: User, doc: Document, grant: Access | None) -> bool:
    """Change a document's fields and tags: admin, owner, or a write/delete grant. Its level
    and department need `can_reclassify` as well."""
    return user.is_active and (
        user.is_admin or doc.owner_id == user.id or (grant is not None and grant >= Access.WRITE)
    )


def can_reclassify(user: User, doc: Document) -> bool:
    """Change a document's `access_level` or `department`, up or down: admin or owner only.

    Who may see a document is a classification decision, like managing its grants, so a
    write (or delete) grant does not reach it. The new level and department are further held
    to `can_create`'s rule, so an owner cannot classify above their own clearance either."""
    return user.is_active and (user.is_admin or doc.owner_id == user.id)


def can_see_audit_details(user: User, doc: Document) -> bool:
    """See where a document's events came from (`client_ip`, `user_agent`), including other
    readers': admin or owner. Any reader sees the events themselves."""
    return user.is_active and (user.is_admin or doc.owner_id == user.id)


def can_delete(user: User, doc: Document, grant: Access | None) -> bool:
    """Move to the trash and restore: admin, owner, or a delete grant."""
    return user.is_active and (
        user.is_admin or doc.owner_id == user.id or (grant is not None and grant >= Access.DELETE)
    )


def can_purge(user: User, doc: Document) -> bool:
    """Delete for good: admin or owner."""
    return user.is_active and (user.is_admin or doc.owner_id == user.id)


def can_manage_grants(user: User, doc: Document) -> bool:
    """Grant and revoke access to a document: admin or owner."""
    return can_purge(user, doc)


def can_create(user: User, access_level: int, department: str | None) -> bool:
    """Create a document: members and admins; a member only up to their own clearance and
    for their own department (or none)."""
    if not user.is_active or user.role is Role.GUEST:
        return False
    if user.is_admin:
        return True
    return access_level <= user.access_level and (
        department is None or department == user.department
    )
