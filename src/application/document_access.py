"""What every use case touching one document asks first, in one place: may the caller read it
(else `NotFound`: an unreadable document is not admitted to exist), and for a change, may they
write it, is it out of the trash and at the version they saw. Also the category a document
names, looked up the same way when it is created and when it is changed."""

from __future__ import annotations

from uuid import UUID

from domain import policy
from domain.document_ports import Readable
from domain.documents import Document
from domain.errors import NotFound, PermissionDenied
from domain.ports import UnitOfWork
from domain.users import User

CANNOT_CHANGE = "you may read this document but not change it"
# Why a document use case refuses a context without a user (`RequestContext.require_user`).
ON_BEHALF = "documents are handled on behalf of a user"


async def readable(uow: UnitOfWork, user: User, doc_id: UUID) -> Readable:
    """The document and the user's grant on it; `NotFound` unless the user may read it."""
    found = await uow.documents.get_readable(doc_id, user)
    if found is None:
        raise NotFound("document", doc_id)
    return found


async def changeable(
    uow: UnitOfWork,
    user: User,
    doc_id: UUID,
    expected_version: int | None = None,
    *,
    refusal: str = CANNOT_CHANGE,
) -> Document:
    """The document `user` may change: readable (else `NotFound`), writable (else
    `PermissionDenied(refusal)`), not in the trash (`Conflict`) and at `expected_version` when
    one is given (`PreconditionFailed`)."""
    found = await readable(uow, user, doc_id)
    if not policy.can_write(user, found.document, found.grant):
        raise PermissionDenied(refusal)
    found.document.check_changeable(expected_version)
    return found.document


async def category_id(uow: UnitOfWork, name: str | None) -> UUID | None:
    """The id of the category named `name`; None for no name or no such category."""
    if name is None:
        return None
    category = await uow.categories.get_by_name(name)
    return None if category is None else category.id
