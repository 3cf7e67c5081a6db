"""The access policy's rules added by issue #9 (SPEC.md §2.7), as plain functions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import policy
from domain.documents import Access, Document
from domain.users import User
from tests.support import factories


def _world() -> tuple[User, User, User, Document]:
    owner = factories.user(access_level=1)
    admin = factories.user(role="admin")
    other = factories.user(department="B", access_level=1)
    doc = factories.document(owner, access_level=3, department="Management")
    return owner, admin, other, doc


@pytest.mark.parametrize("grant", [None, Access.READ, Access.WRITE, Access.DELETE])
def test_only_the_owner_and_admins_may_reclassify_whatever_the_grant(grant: Access | None) -> None:
    owner, admin, other, doc = _world()

    assert policy.can_reclassify(owner, doc)
    assert policy.can_reclassify(admin, doc)
    assert not policy.can_reclassify(other, doc)
    assert policy.can_write(other, doc, grant) == (grant is not None and grant >= Access.WRITE)


def test_an_inactive_owner_cannot_reclassify() -> None:
    owner, _, _, doc = _world()
    owner.is_active = False

    assert not policy.can_reclassify(owner, doc)


@pytest.mark.parametrize(
    ("grant", "reads"),
    [(None, False), (Access.READ, False), (Access.WRITE, False), (Access.DELETE, True)],
)
def test_of_the_grantees_only_a_delete_grant_reaches_the_trash(
    grant: Access | None, reads: bool
) -> None:
    _, _, other, doc = _world()
    doc.deleted_at = doc.created_at + timedelta(seconds=1)

    assert policy.can_read(other, doc, grant) == reads
    assert policy.can_delete(other, doc, grant) == reads


def test_where_events_came_from_is_for_the_owner_and_admins() -> None:
    owner, admin, other, doc = _world()

    assert policy.can_see_audit_details(owner, doc)
    assert policy.can_see_audit_details(admin, doc)
    assert not policy.can_see_audit_details(other, doc)


def test_a_request_context_asks_the_policy_who_may_administer() -> None:
    """`RequestContext.require_admin` is `policy.require_admin` for a user (the system itself
    may); `require_user` refuses the system where a use case acts for someone."""
    from application.context import RequestContext
    from domain.errors import PermissionDenied

    owner, admin, _, _ = _world()
    RequestContext.system().require_admin()
    RequestContext(admin).require_admin()
    inactive = factories.user(role="admin")
    inactive.is_active = False
    for refused in (owner, inactive):
        with pytest.raises(PermissionDenied, match="needs an administrator"):
            RequestContext(refused).require_admin()
    assert RequestContext(owner).require_user() is owner
    with pytest.raises(PermissionDenied, match="searches are made"):
        RequestContext.system().require_user("searches are made on behalf of a user")
