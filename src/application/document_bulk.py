"""One action over many documents (SPEC §3 "ingestion": `POST /documents/bulk`): add or
remove tags, set the category, trash, restore or classify, over a list of ids or over the
documents a listing filter selects.

Each document gets the same checks as the single-document route (`document_access`,
`domain.policy`), and a result of its own: a document the caller may not read is
`not_found` (an unreadable document is not admitted to exist), one they may read but not
change is `forbidden`, and so on; one refusal never stops the others. The work is done in
units of work of `BATCH` documents: each batch commits on its own (with an event per changed
document), so a long run holds no lock for long and a failure loses at most one batch. A
document another change got to between the read and the write of its batch is `conflict`
(send it again), never overwritten."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal
from uuid import UUID

from application import document_access
from application.context import RequestContext
from application.document_access import ON_BEHALF
from application.document_lifecycle import write_change, write_move
from application.document_reads import DocumentReads
from application.document_tags import clean_tags, ensure_tags
from application.taxonomy import TaxonomyService
from domain import policy
from domain.clock import Clock
from domain.document_ports import DocumentFilter, DocumentSort
from domain.documents import Document, DocumentChanges
from domain.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from domain.pagination import MAX_LIMIT, PageRequest
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.taxonomy import parse_confidence, parse_path
from domain.users import User

# Documents in one request: ids sent, or documents a filter selects (then `next_cursor`
# carries on where this request stopped).
MAX_DOCUMENTS = 1000
# Documents per unit of work.
BATCH = 100


class BulkAction(enum.StrEnum):
    ADD_TAGS = "add_tags"
    REMOVE_TAGS = "remove_tags"
    SET_CATEGORY = "set_category"
    TRASH = "trash"
    RESTORE = "restore"
    CLASSIFY = "classify"


class Outcome(enum.StrEnum):
    CHANGED = "changed"
    UNCHANGED = "unchanged"  # already so: nothing written, no event
    NOT_FOUND = "not_found"  # no such document, or one the caller may not read
    FORBIDDEN = "forbidden"  # readable, but the caller may not do this to it
    CONFLICT = "conflict"  # in the trash, or changed by someone else meanwhile
    INVALID = "invalid"  # the action does not apply to it (e.g. an unknown taxonomy path)


@dataclass(frozen=True)
class BulkEdit:
    """What to do: `tags` for the tag actions, `category` (None: none) for set_category,
    `path`/`version`/`confidence`/`hitl_required` for classify."""

    action: BulkAction
    tags: tuple[str, ...] = ()
    category: str | None = None
    path: str | None = None
    version: str | None = None
    confidence: float = 1.0
    hitl_required: bool = False


@dataclass(frozen=True)
class ItemResult:
    id: UUID
    outcome: Outcome
    detail: str | None = None
    version: int | None = None  # the document's version after a change


@dataclass(frozen=True)
class BulkReport:
    results: Sequence[ItemResult]
    next_cursor: str | None = None  # filter selections only: where to carry on

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)


class DocumentBulk:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        reads: DocumentReads,
        taxonomy: TaxonomyService,
        *,
        batch: int = BATCH,
        max_documents: int = MAX_DOCUMENTS,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._reads = reads
        self._taxonomy = taxonomy
        self._batch = batch
        self._max = max_documents

    async def apply(self, ctx: RequestContext, edit: BulkEdit, ids: Sequence[UUID]) -> BulkReport:
        """`edit` on each of `ids` (at most `max_documents`, repeats ignored), in order."""
        user = ctx.require_user(ON_BEHALF)
        unique = list(dict.fromkeys(ids))
        if not unique:
            raise ValidationFailed.on("ids", "name at least one document")
        if len(unique) > self._max:
            raise ValidationFailed.on("ids", f"at most {self._max} documents a request")
        wanted = await self._checked(edit)
        return await self._run(ctx, user, edit, wanted, unique)

    async def _run(
        self, ctx: RequestContext, user: User, edit: BulkEdit, wanted: list[str], unique: list[UUID]
    ) -> BulkReport:
        results: list[ItemResult] = []
        for start in range(0, len(unique), self._batch):
            results += await self._apply_batch(
                ctx, user, edit, wanted, unique[start : start + self._batch]
            )
        return BulkReport(results)

    async def apply_to_filter(
        self,
        ctx: RequestContext,
        edit: BulkEdit,
        filters: DocumentFilter,
        cursor: str | None = None,
    ) -> BulkReport:
        """`edit` on the documents the caller may read that `filters` selects, oldest first,
        at most `max_documents` a request: `next_cursor` (when more were selected) carries on
        after the last one, as a listing's cursor does."""
        user = ctx.require_user(ON_BEHALF)
        wanted = await self._checked(edit)
        ids: list[UUID] = []
        next_cursor = cursor
        while len(ids) < self._max:
            limit = min(MAX_LIMIT, self._max - len(ids))
            page = await self._reads.list_documents(
                ctx, filters, DocumentSort.CREATED, PageRequest(limit, next_cursor)
            )
            ids += [d.id for d in page.items]
            next_cursor = page.next_cursor
            if next_cursor is None:
                break
        if not ids:
            return BulkReport([], None)
        report = await self._run(ctx, user, edit, wanted, ids)
        return replace(report, next_cursor=next_cursor)

    async def _checked(self, edit: BulkEdit) -> list[str]:
        """Refuse an edit that cannot apply to any document (for the whole request: a 422, or
        for an unknown taxonomy path the 404 with the nearest paths a single classification
        gets); the tag names it carries, cleaned."""
        wanted = _checked(edit)
        if edit.action is BulkAction.SET_CATEGORY and edit.category is not None:
            async with self._uow(autocommit=True) as uow:
                if await document_access.category_id(uow, edit.category) is None:
                    raise ValidationFailed.on("category", f"no category named {edit.category!r}")
        if edit.action is BulkAction.CLASSIFY:
            assert edit.path is not None  # `_checked`
            async with self._uow(autocommit=True) as uow:
                version = await self._taxonomy.resolver.version_or_latest(uow, edit.version)
                await self._taxonomy.resolver.resolve(uow, version.version, parse_path(edit.path))
        return wanted

    async def _apply_batch(
        self,
        ctx: RequestContext,
        user: User,
        edit: BulkEdit,
        wanted: list[str],
        ids: Sequence[UUID],
    ) -> list[ItemResult]:
        """One unit of work over `ids`. Each document is checked (reads only; a refusal is
        its result) and then written. A write that fails (a constraint another transaction
        won) spoils the transaction on PostgreSQL: the batch is rolled back and done again
        without that document, which gets `conflict`."""
        spoiled: dict[UUID, ItemResult] = {}
        while True:
            now = self._clock.now()
            results: list[ItemResult] = []
            try:
                async with self._uow() as uow:
                    for doc_id in ids:
                        if doc_id in spoiled:
                            results.append(spoiled[doc_id])
                            continue
                        results.append(await self._one(uow, ctx, user, edit, wanted, doc_id, now))
                    await uow.commit()
            except _Spoiled as spoil:
                spoiled[spoil.result.id] = spoil.result
                continue
            return results

    async def _one(
        self,
        uow: UnitOfWork,
        ctx: RequestContext,
        user: User,
        edit: BulkEdit,
        wanted: list[str],
        doc_id: UUID,
        now: datetime,
    ) -> ItemResult:
        try:
            planned = await self._plan(uow, user, edit, wanted, doc_id)
        except DomainError as err:
            return ItemResult(doc_id, _outcome_of(err), err.message)
        if isinstance(planned, ItemResult):
            return planned
        try:
            return await planned(uow, ctx, now)
        except DomainError as err:
            raise _Spoiled(ItemResult(doc_id, Outcome.CONFLICT, err.message)) from err

    async def _plan(
        self, uow: UnitOfWork, user: User, edit: BulkEdit, wanted: list[str], doc_id: UUID
    ) -> ItemResult | Write:
        """Every check of `edit` on one document, by reading only: its result when there is
        nothing to write (refused, or already so), else the write to do."""
        match edit.action:
            case BulkAction.TRASH | BulkAction.RESTORE:
                found = await document_access.readable(uow, user, doc_id)
                doc = found.document
                if not policy.can_delete(user, doc, found.grant):
                    raise PermissionDenied("deleting and restoring need delete rights")
                to_trash = edit.action is BulkAction.TRASH
                if doc.in_trash == to_trash:
                    return _unchanged(doc)

                async def move(uow: UnitOfWork, ctx: RequestContext, now: datetime) -> ItemResult:
                    moved = doc.trash(now) if to_trash else doc.restore(now)
                    return _written(moved, await write_move(uow, ctx, doc, moved))

                return move
            case BulkAction.ADD_TAGS | BulkAction.REMOVE_TAGS:
                doc = await document_access.changeable(uow, user, doc_id)
                mode: Literal["add", "remove"] = (
                    "add" if edit.action is BulkAction.ADD_TAGS else "remove"
                )
                present = {t.lower() for t in doc.tags}
                if mode == "remove" and not present & {t.lower() for t in wanted}:
                    return _unchanged(doc)
                names = doc.tags_after(wanted, mode)
                if {n.lower() for n in names} == present:
                    return _unchanged(doc)

                async def retag(uow: UnitOfWork, ctx: RequestContext, now: datetime) -> ItemResult:
                    tags = await ensure_tags(uow, ctx, names, now)
                    retagged = doc.retag([t.name for t in tags], now)
                    written = await write_change(
                        uow, ctx, doc, retagged, {"tags": retagged.tags}, [t.id for t in tags]
                    )
                    return _written(retagged, written)

                return retag
            case BulkAction.SET_CATEGORY:
                doc = await document_access.changeable(uow, user, doc_id)
                category_id = await document_access.category_id(uow, edit.category)
                changes = DocumentChanges({"category": edit.category})
                if not doc.change(changes, doc.updated_at, category_id=category_id)[1]:
                    return _unchanged(doc)

                async def categorize(
                    uow: UnitOfWork, ctx: RequestContext, now: datetime
                ) -> ItemResult:
                    changed_doc, changed = doc.change(changes, now, category_id=category_id)
                    written = await write_change(uow, ctx, doc, changed_doc, changed)
                    return _written(changed_doc, written)

                return categorize
            case BulkAction.CLASSIFY:
                doc = await document_access.changeable(
                    uow, user, doc_id, refusal="classifying a document needs write rights"
                )
                assert edit.path is not None  # `_checked`
                path = parse_path(edit.path)
                resolver = self._taxonomy.resolver
                version = await resolver.version_or_latest(uow, edit.version)
                node = await resolver.resolve(uow, version.version, path)
                if await uow.classifications.get(doc_id, node.node_id) is not None:
                    return _unchanged(doc)
                confidence = parse_confidence(edit.confidence)

                async def classify(
                    uow: UnitOfWork, ctx: RequestContext, now: datetime
                ) -> ItemResult:
                    await self._taxonomy.classify_in(
                        uow, ctx, doc_id, path, version.version, confidence, edit.hitl_required, now
                    )
                    return ItemResult(doc_id, Outcome.CHANGED, None, doc.version)

                return classify


# The writes a checked document needs, in the batch's unit of work.
Write = Callable[[UnitOfWork, RequestContext, datetime], Awaitable[ItemResult]]


class _Spoiled(Exception):
    """A write failed: the batch's transaction is spoiled (on PostgreSQL); `result` is the
    failed document's."""

    def __init__(self, result: ItemResult) -> None:
        super().__init__(result.detail)
        self.result = result


def _checked(edit: BulkEdit) -> list[str]:
    """The checks of `DocumentBulk._checked` that need no storage."""
    wanted: list[str] = []
    if edit.action in (BulkAction.ADD_TAGS, BulkAction.REMOVE_TAGS):
        wanted = clean_tags(edit.tags)
        if not wanted:
            raise ValidationFailed.on("tags", "name at least one tag")
    elif edit.tags:
        raise ValidationFailed.on("tags", f"not used by {edit.action.value}")
    if edit.action is BulkAction.CLASSIFY:
        if edit.path is None:
            raise ValidationFailed.on("path", "classify needs a taxonomy path")
        parse_path(edit.path)
        parse_confidence(edit.confidence)
    elif edit.path is not None or edit.version is not None:
        raise ValidationFailed.on("path", f"not used by {edit.action.value}")
    if edit.action is not BulkAction.SET_CATEGORY and edit.category is not None:
        raise ValidationFailed.on("category", f"not used by {edit.action.value}")
    return wanted


def _unchanged(doc: Document) -> ItemResult:
    return ItemResult(doc.id, Outcome.UNCHANGED, None, doc.version)


def _written(doc: Document, written: bool) -> ItemResult:
    if not written:
        return ItemResult(
            doc.id, Outcome.CONFLICT, "the document was changed by someone else meanwhile"
        )
    return ItemResult(doc.id, Outcome.CHANGED, None, doc.version)


def _outcome_of(err: DomainError) -> Outcome:
    if isinstance(err, NotFound):
        return Outcome.NOT_FOUND if err.resource == "document" else Outcome.INVALID
    if isinstance(err, PermissionDenied):
        return Outcome.FORBIDDEN
    if isinstance(err, Conflict):
        return Outcome.CONFLICT
    return Outcome.INVALID
