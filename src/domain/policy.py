"""The access policy: who may do what. One place; the SQL adapters mirror it as predicates.

Issue #2 covers user administration; the document rules of SPEC.md §2.7 join this module.
"""

from __future__ import annotations

from domain.errors import PermissionDenied
from domain.users import User


def can_administer(user: User) -> bool:
    """Manage users, settings and other users' tokens: active admins only."""
    return user.is_active_admin


def require_admin(user: User) -> None:
    if not can_administer(user):
        raise PermissionDenied("this action needs an administrator")


def can_manage_token_of(actor: User, owner_id: object) -> bool:
    """A user manages their own tokens; an admin manages anyone's."""
    return actor.is_active and (actor.id == owner_id or actor.is_admin)
