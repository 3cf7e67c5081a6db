"""Changing documents: fields, tags, the trash, purging for good.

A change reads the document, checks the policy, asks the document for its next version
(`Document.change`, `retag`, `trash`, `restore`) and writes that over the version it read,
with its event, in one unit of work; `_retrying` runs it again when another change got there
first. Purging deletes the row, then the blob once no row references it. Creating and reading
documents are `document_uploads` and `document_reads`."""

from __future__ import annotations

import asyncio
import enum
import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from application import document_access
from application.blob_release import BlobReleaser
from application.context import RequestContext
from application.document_access import ON_BEHALF
from application.document_tags import clean_tags, ensure_tags
from domain import events, policy
from domain.blobs import BlobLocks, BlobStore
from domain.clock import Clock
from domain.documents import Document, DocumentChanges
from domain.errors import Conflict, PermissionDenied, PreconditionFailed
from domain.events import Event
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.users import User

# A change without If-Match that loses a race to another change is re-applied to the new
# version: this many attempts in all, sleeping up to BACKOFF * 2**n (at most BACKOFF_MAX)
# seconds, at random, between them.
CHANGE_ATTEMPTS = 20
CHANGE_BACKOFF = 0.002
CHANGE_BACKOFF_MAX = 0.1


class DocumentLifecycle:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        blobs: BlobStore,
        blob_locks: BlobLocks,
        change_backoff: float = CHANGE_BACKOFF,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._change_backoff = change_backoff  # seconds before the first retry, doubling
        # Under the blob's lock, shared by every server process, so a purge never deletes a
        # blob an upload of the same bytes is about to reference (docs/decisions.md, "Blobs").
        self._releaser = BlobReleaser(uow_factory, blobs, blob_locks)

    # --- changing ---------------------------------------------------------------------------

    async def update(
        self,
        ctx: RequestContext,
        doc_id: UUID,
        changes: DocumentChanges,
        expected_version: int | None = None,
    ) -> Document:
        """Change title, access level, department, category, metadata or source.

        `NotFound` if unreadable, `PermissionDenied` without write rights (or, for level and
        department, without `policy.can_reclassify`), `Conflict` for a document in the trash,
        `PreconditionFailed` if `expected_version` (If-Match) is not the current version.
        Without one the change applies to the current version (`_retrying`)."""
        user = ctx.require_user(ON_BEHALF)
        return await self._retrying(
            expected_version,
            lambda: self._update_once(ctx, user, doc_id, changes, expected_version),
        )

    async def _update_once(
        self,
        ctx: RequestContext,
        user: User,
        doc_id: UUID,
        changes: DocumentChanges,
        expected_version: int | None,
    ) -> Document | None:
        """One attempt of `update`; None if the version moved on before the write."""
        now = self._clock.now()
        async with self._uow() as uow:
            doc = await document_access.changeable(uow, user, doc_id, expected_version)
            category_id = await document_access.category_id(uow, changes.values.get("category"))
            changed_doc, changed = doc.change(changes, now, category_id=category_id)
            if not changed:
                return doc
            # Sending the current level or department is no change and needs no right.
            if "access_level" in changed or "department" in changed:
                if not policy.can_reclassify(user, changed_doc):
                    raise PermissionDenied(
                        "only the owner or an administrator may change a document's "
                        "access level or department"
                    )
                if not policy.can_create(user, changed_doc.access_level, changed_doc.department):
                    raise PermissionDenied(
                        "you cannot classify a document above your own clearance"
                    )
            return await self._save(uow, ctx, doc, changed_doc, changed)

    async def replace_tags(
        self,
        ctx: RequestContext,
        doc_id: UUID,
        names: Sequence[str],
        expected_version: int | None = None,
    ) -> Document:
        return await self._retag(ctx, doc_id, names, "replace", expected_version)

    async def add_tags(
        self,
        ctx: RequestContext,
        doc_id: UUID,
        names: Sequence[str],
        expected_version: int | None = None,
    ) -> Document:
        return await self._retag(ctx, doc_id, names, "add", expected_version)

    async def remove_tag(
        self, ctx: RequestContext, doc_id: UUID, name: str, expected_version: int | None = None
    ) -> Document:
        return await self._retag(ctx, doc_id, [name], "remove", expected_version)

    async def _retag(
        self,
        ctx: RequestContext,
        doc_id: UUID,
        names: Sequence[str],
        mode: Literal["replace", "add", "remove"],
        expected_version: int | None,
    ) -> Document:
        wanted = clean_tags(names)
        user = ctx.require_user(ON_BEHALF)
        return await self._retrying(
            expected_version,
            lambda: self._retag_once(ctx, user, doc_id, wanted, mode, expected_version),
        )

    async def _retag_once(
        self,
        ctx: RequestContext,
        user: User,
        doc_id: UUID,
        wanted: list[str],
        mode: Literal["replace", "add", "remove"],
        expected_version: int | None,
    ) -> Document | None:
        """One attempt of `_retag`; None if the version moved on before the write."""
        now = self._clock.now()
        async with self._uow() as uow:
            doc = await document_access.changeable(uow, user, doc_id, expected_version)
            tags = await ensure_tags(uow, ctx, doc.tags_after(wanted, mode), now)
            retagged = doc.retag([t.name for t in tags], now)
            if retagged is doc:
                return doc
            return await self._save(
                uow, ctx, doc, retagged, {"tags": retagged.tags}, [t.id for t in tags]
            )

    async def _save(
        self,
        uow: UnitOfWork,
        ctx: RequestContext,
        read: Document,
        changed_doc: Document,
        changed: dict[str, Any],
        tag_ids: list[UUID] | None = None,
    ) -> Document | None:
        """`write_change`, committed; None if the version read is no longer the current one."""
        if not await write_change(uow, ctx, read, changed_doc, changed, tag_ids):
            return None
        await uow.commit()
        return changed_doc

    # --- trash --------------------------------------------------------------------------------

    async def delete(
        self, ctx: RequestContext, doc_id: UUID, expected_version: int | None = None
    ) -> None:
        """Move to the trash (idempotent for a document already there)."""
        await self._trash(ctx, doc_id, expected_version, to_trash=True)

    async def restore(
        self, ctx: RequestContext, doc_id: UUID, expected_version: int | None = None
    ) -> Document:
        """Take out of the trash. `Conflict` if it is not in the trash."""
        return await self._trash(ctx, doc_id, expected_version, to_trash=False)

    async def _trash(
        self, ctx: RequestContext, doc_id: UUID, expected_version: int | None, *, to_trash: bool
    ) -> Document:
        user = ctx.require_user(ON_BEHALF)
        return await self._retrying(
            expected_version,
            lambda: self._trash_once(ctx, user, doc_id, expected_version, to_trash=to_trash),
        )

    async def _trash_once(
        self,
        ctx: RequestContext,
        user: User,
        doc_id: UUID,
        expected_version: int | None,
        *,
        to_trash: bool,
    ) -> Document | None:
        """One attempt of `_trash`; None if the version moved on before the write."""
        now = self._clock.now()
        async with self._uow() as uow:
            found = await document_access.readable(uow, user, doc_id)
            doc = found.document
            if not policy.can_delete(user, doc, found.grant):
                raise PermissionDenied("deleting and restoring need delete rights")
            doc.check_version(expected_version)
            moved = doc.trash(now) if to_trash else doc.restore(now)
            if moved is doc:
                return doc
            if not await write_move(uow, ctx, doc, moved):
                return None
            await uow.commit()
        return moved

    async def _retrying(
        self, expected_version: int | None, attempt: Callable[[], Awaitable[Document | None]]
    ) -> Document:
        """Run `attempt` (read, check the policy, apply, write) until it writes. An attempt
        answers None when another change committed between its read and its write. With an
        If-Match (`expected_version`) that is a 412; without one there is no precondition to
        fail (RFC 9110 §13.1.1), so the change is re-read, re-checked and re-applied to the
        current version, with a short random backoff, at most `CHANGE_ATTEMPTS` times; then
        a `Conflict` (409): the document is changing faster than this change can land."""
        for n in range(CHANGE_ATTEMPTS):
            done = await attempt()
            if done is not None:
                return done
            if expected_version is not None:
                raise PreconditionFailed("the document was changed by someone else meanwhile")
            pause = min(CHANGE_BACKOFF_MAX, self._change_backoff * 2**n)
            await asyncio.sleep(random.uniform(0, pause))  # noqa: S311 (jitter, not a secret)
        raise Conflict(
            f"the document changed {CHANGE_ATTEMPTS} times while this change was being "
            "applied; send it again"
        )

    # --- purge --------------------------------------------------------------------------------

    async def purge(
        self, ctx: RequestContext, doc_id: UUID, expected_version: int | None = None
    ) -> None:
        """Delete for good (owner or admin), then remove the blob if no row references it."""
        user = ctx.require_user(ON_BEHALF)
        now = self._clock.now()
        async with self._uow() as uow:
            doc = (await document_access.readable(uow, user, doc_id)).document
            if not policy.can_purge(user, doc):
                raise PermissionDenied("only the owner or an administrator may purge")
            doc.check_version(expected_version)
            await uow.documents.purge(doc.id)
            await uow.events.add(purged_event(ctx, doc, now))
            await uow.commit()
        await self.release_blob(doc.storage_key)
        if doc.thumbnail_key is not None:
            await self.release_blob(doc.thumbnail_key)

    async def release_blob(self, key: str) -> bool:
        """Delete a blob once no row references it; True if it was deleted."""
        return await self._releaser.release(key)


async def write_change(
    uow: UnitOfWork,
    ctx: RequestContext,
    read: Document,
    changed_doc: Document,
    changed: dict[str, Any],
    tag_ids: list[UUID] | None = None,
) -> bool:
    """Write `changed_doc` over the version `read` with its `document.updated` event, in
    `uow` (not committed); False if that version is no longer the current one. The tags
    (`tag_ids`) are written after the row, so concurrent changes wait on the row instead of
    colliding on the tags."""
    if not await uow.documents.update(changed_doc, read.version):
        return False
    if tag_ids is not None:
        await uow.documents.set_tags(changed_doc.id, tag_ids)
    await uow.events.add(
        ctx.event(
            events.DOCUMENT_UPDATED,
            "document",
            changed_doc.id,
            changed_doc.updated_at,
            {"changes": _jsonable(changed), "version": changed_doc.version},
        )
    )
    return True


async def write_move(uow: UnitOfWork, ctx: RequestContext, read: Document, moved: Document) -> bool:
    """Write `moved` (`read` taken to or out of the trash) over the version `read` with its
    event, in `uow` (not committed); False if that version is no longer the current one."""
    if not await uow.documents.update(moved, read.version):
        return False
    action = events.DOCUMENT_DELETED if moved.in_trash else events.DOCUMENT_RESTORED
    await uow.events.add(ctx.event(action, "document", read.id, moved.updated_at))
    return True


def purged_event(
    ctx: RequestContext, doc: Document, now: datetime, reason: str | None = None
) -> Event:
    """The `document.purged` event, by whoever purges (a user, or the system's trash
    retention): what is left of the document afterwards, its title and digest, and `reason`
    when given."""
    data: dict[str, Any] = {"title": doc.title, "sha256": doc.sha256}
    if reason is not None:
        data["reason"] = reason
    return ctx.event(events.DOCUMENT_PURGED, "document", doc.id, now, data)


def _jsonable(changes: dict[str, Any]) -> dict[str, Any]:
    """Changed values as an event records them: levels as numbers, ids as strings."""
    return {
        k: v.value if isinstance(v, enum.Enum) else str(v) if isinstance(v, UUID) else v
        for k, v in changes.items()
    }
