"""Documents: upload, create from text, read, download, list, change, tag, trash, purge.

Every use case reads what the caller may read through the repository's access-filtered
queries, decides with `domain.policy`, and writes the change and its event in one unit of
work. A file's bytes are in the blob store before the row that references them commits."""

from __future__ import annotations

import asyncio
import enum
import hashlib
import random
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal
from uuid import UUID, uuid4

from application import document_access
from application.blob_release import BlobReleaser
from application.context import RequestContext
from application.taxonomy import TaxonomyService
from domain import events, policy
from domain.blobs import BlobLocks, BlobStore, StoredBlob, TextExtractor
from domain.clock import Clock
from domain.document_ports import DocumentFilter, DocumentSort, DuplicateGroup, Readable
from domain.documents import (
    MAX_TAGS,
    TYPE_OF_EXTENSION,
    Document,
    DocumentChanges,
    DocumentType,
    FileType,
    Tag,
    category_found,
    check_metadata,
    extension_of,
    safe_filename,
    tag_color,
    tag_name,
)
from domain.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    TooLarge,
    UnsupportedType,
    ValidationFailed,
)
from domain.events import EventFilter
from domain.pagination import Page, PageRequest
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.taxonomy import parse_confidence, parse_path
from domain.users import User
from domain.values import AccessLevel

SPOOL_IN_MEMORY = 1024 * 1024  # bytes held in memory before an upload spills to a temp file
TEXT_EXTENSIONS = {DocumentType.TXT: "txt", DocumentType.MARKDOWN: "md"}
# A change without If-Match that loses a race to another change is re-applied to the new
# version: this many attempts in all, sleeping up to BACKOFF * 2**n (at most BACKOFF_MAX)
# seconds, at random, between them.
CHANGE_ATTEMPTS = 20
CHANGE_BACKOFF = 0.002
CHANGE_BACKOFF_MAX = 0.1

_ON_BEHALF = "documents are handled on behalf of a user"


@dataclass(frozen=True, slots=True)
class DocumentFields:
    """The optional fields of an upload (and of a document created from text)."""

    title: str | None = None
    access_level: int = 1
    department: str | None = None
    category: str | None = None  # a category name
    tags: tuple[str, ...] = ()
    metadata: dict[str, Any] | None = None
    source: str | None = None
    on_duplicate: Literal["reject", "allow"] = "reject"
    taxonomy_path: str | None = None  # classify at upload, in the same unit of work
    taxonomy_version: str | None = None  # default: the latest published version
    taxonomy_confidence: float = 1.0


@dataclass(frozen=True, slots=True)
class Download:
    document: Document
    chunks: AsyncIterator[bytes]


class DocumentService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        blobs: BlobStore,
        extractor: TextExtractor,
        taxonomy: TaxonomyService,
        blob_locks: BlobLocks,
        change_backoff: float = CHANGE_BACKOFF,
    ) -> None:
        self._taxonomy = taxonomy
        self._change_backoff = change_backoff  # seconds before the first retry, doubling
        self._uow = uow_factory
        self._clock = clock
        self._blobs = blobs
        self._extractor = extractor
        # Shared by every server process, so a purge never deletes a blob an upload of the
        # same bytes is about to reference (docs/decisions.md, "Blobs").
        self._blob_locks = blob_locks
        self._releaser = BlobReleaser(uow_factory, blobs, blob_locks)

    # --- creating ---------------------------------------------------------------------------

    async def upload_policy(self, filename: str) -> FileType:
        """The file type an upload of `filename` falls under. Raises `ValidationFailed` for a
        bad name, `UnsupportedType` for an unknown, disallowed or unreadable extension."""
        extension = extension_of(safe_filename(filename))
        async with self._uow(read_only=True) as uow:
            file_type = await uow.file_types.get(extension)
        if file_type is None or not file_type.is_allowed:
            raise UnsupportedType(f".{extension} files are not accepted")
        if extension not in TYPE_OF_EXTENSION:
            raise UnsupportedType(f".{extension} files cannot be read for text")
        return file_type

    async def upload(
        self,
        ctx: RequestContext,
        filename: str,
        chunks: AsyncIterator[bytes],
        fields: DocumentFields,
    ) -> Document:
        """Store an uploaded file as a new document.

        Size is enforced while the bytes stream in (`TooLarge`), before anything is stored;
        the bytes must be what the extension claims (`ContentMismatch`) and readable
        (`ValidationFailed`); a duplicate of a document the caller can read is a `Conflict`
        unless `on_duplicate="allow"`. On any error nothing is left behind."""
        user = ctx.require_user(_ON_BEHALF)
        self._check_create(user, fields)
        name = safe_filename(filename)
        file_type = await self.upload_policy(name)
        document_type = TYPE_OF_EXTENSION[file_type.extension]
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
            size = 0
            async for chunk in chunks:
                size += len(chunk)
                if size > file_type.max_size_bytes:
                    raise TooLarge(
                        f".{file_type.extension} files may be at most "
                        f"{file_type.max_size_bytes} bytes"
                    )
                spool.write(chunk)
            if size == 0:
                raise ValidationFailed.on("file", "is empty")
            spool.seek(0)
            data = spool.read()
        content = await asyncio.to_thread(self._extractor.extract, data, document_type)
        return await self._create(ctx, user, data, content, name, file_type, fields)

    async def create_text(
        self, ctx: RequestContext, content: str, document_type: DocumentType, fields: DocumentFields
    ) -> Document:
        """A document whose file is the given text (TXT or MARKDOWN), stored as UTF-8."""
        user = ctx.require_user(_ON_BEHALF)
        if document_type not in TEXT_EXTENSIONS:
            raise ValidationFailed.on("document_type", "must be TXT or MARKDOWN")
        if fields.title is None:
            raise ValidationFailed.on("title", "is required")
        self._check_create(user, fields)
        data = content.encode()
        if not data.strip():
            raise ValidationFailed.on("content", "must not be empty")
        extension = TEXT_EXTENSIONS[document_type]
        file_type = await self.upload_policy(f"x.{extension}")
        if len(data) > file_type.max_size_bytes:
            raise TooLarge(f"text may be at most {file_type.max_size_bytes} bytes")
        text = await asyncio.to_thread(self._extractor.extract, data, document_type)
        filename = f"{Document.clean_title(fields.title)[:200]}.{extension}".replace("/", "_")
        filename = safe_filename(filename.replace("\\", "_"))
        return await self._create(ctx, user, data, text, filename, file_type, fields)

    def _check_create(self, user: User, fields: DocumentFields) -> None:
        level = AccessLevel.parse(fields.access_level)
        department = Document.clean_department(fields.department)
        if not policy.can_create(user, level, department):
            raise PermissionDenied(
                "guests cannot create documents, and members only up to their own clearance "
                "and for their own department"
            )

    async def _create(
        self,
        ctx: RequestContext,
        user: User,
        data: bytes,
        content: str,
        filename: str,
        file_type: FileType,
        fields: DocumentFields,
    ) -> Document:
        # Checked before any byte is stored, so bad input leaves nothing behind
        # (`Document.create` holds these rules and checks them again).
        check_metadata(fields.metadata)
        tag_names = self._clean_tags(fields.tags)
        path = None
        if fields.taxonomy_path is not None:
            path = parse_path(fields.taxonomy_path, "taxonomy_path")
            parse_confidence(fields.taxonomy_confidence)
            await self._taxonomy.resolve(fields.taxonomy_path, fields.taxonomy_version)
        Document.title_for(fields.title, filename)
        Document.clean_source(fields.source)
        Document.clean_department(fields.department)

        async def once() -> AsyncIterator[bytes]:
            yield data

        # Same bytes, same lock: a purge or a failed upload never deletes a blob that an
        # upload of the same bytes has stored but not yet committed a row for.
        async with self._blob_locks.hold(self._blobs.key_for(hashlib.sha256(data).hexdigest())):
            stored = await self._blobs.put(once(), max_bytes=len(data))
            try:
                doc = await self._insert(
                    ctx, user, stored, content, filename, file_type, fields, tag_names, path
                )
            except BaseException:
                await self._releaser.release_held(stored.key)
                raise
        return doc

    async def _insert(
        self,
        ctx: RequestContext,
        user: User,
        stored: StoredBlob,
        content: str,
        filename: str,
        file_type: FileType,
        fields: DocumentFields,
        tag_names: list[str],
        path: tuple[str, ...] | None,
    ) -> Document:
        now = self._clock.now()
        async with self._uow() as uow:
            if fields.on_duplicate == "reject":
                same = await uow.documents.readable_with_sha256(stored.sha256, user)
                if same:
                    raise Conflict(
                        f"the same file is already document {same[0].id} "
                        f"({same[0].title!r}); send on_duplicate=allow to keep both"
                    )
            category_id = category_found(
                fields.category, await self._category_id(uow, fields.category)
            )
            tags = await self._ensure_tags(uow, ctx, tag_names, now)
            doc = Document.create(
                owner_id=user.id,
                title=fields.title,
                content=content,
                filename=filename,
                file_type=file_type,
                blob=stored,
                now=now,
                access_level=fields.access_level,
                department=fields.department,
                metadata=fields.metadata,
                source=fields.source,
                category_id=category_id,
                tags=[t.name for t in tags],
            )
            await uow.documents.add(doc)
            await uow.documents.set_tags(doc.id, [t.id for t in tags])
            if path is not None:
                await self._taxonomy.classify_in(
                    uow,
                    ctx,
                    doc.id,
                    path,
                    fields.taxonomy_version,
                    parse_confidence(fields.taxonomy_confidence),
                    False,
                    now,
                )
            await uow.events.add(
                ctx.event(
                    events.DOCUMENT_UPLOADED,
                    "document",
                    doc.id,
                    now,
                    {"title": doc.title, "sha256": doc.sha256, "size_bytes": doc.size_bytes},
                )
            )
            await uow.commit()
        return doc

    # --- reading ----------------------------------------------------------------------------

    async def get(self, ctx: RequestContext, doc_id: UUID) -> Readable:
        """A document the caller may read (trash included for owner and admins); records
        `document.viewed`. Raises `NotFound` otherwise."""
        user = ctx.require_user(_ON_BEHALF)
        viewed = ctx.event(events.DOCUMENT_VIEWED, "document", doc_id, self._clock.now())
        async with self._uow(read_only=True) as uow:  # one atomic statement, no transaction
            found = await uow.documents.view_readable(doc_id, user, viewed)
        if found is None:
            raise NotFound("document", doc_id)
        return found

    async def download(self, ctx: RequestContext, doc_id: UUID) -> Download:
        """The original bytes, streamed; records `document.downloaded`."""
        user = ctx.require_user(_ON_BEHALF)
        now = self._clock.now()
        async with self._uow() as uow:
            found = await self._readable(uow, user, doc_id)
            chunks = await self._blobs.open(found.document.storage_key)
            await uow.events.add(ctx.event(events.DOCUMENT_DOWNLOADED, "document", doc_id, now))
            await uow.commit()
        return Download(found.document, chunks)

    async def list_documents(
        self,
        ctx: RequestContext,
        filters: DocumentFilter,
        sort: DocumentSort,
        page: PageRequest,
    ) -> Page[Document]:
        """A keyset page of the documents the caller may read that match `filters`
        (`filters.deleted`: the caller's trash)."""
        user = ctx.require_user(_ON_BEHALF)
        for name in filters.tags:
            tag_name(name)
        async with self._uow(read_only=True) as uow:
            if filters.taxonomy_path is not None:
                version = await self._taxonomy.resolver.version_or_latest(
                    uow, filters.taxonomy_version
                )
                filters = replace(filters, taxonomy_version=version.version)
            return await uow.documents.list_readable(user, filters, sort, page)

    async def duplicates(self, ctx: RequestContext, limit: int = 50) -> Sequence[DuplicateGroup]:
        """Groups of readable live documents sharing the same bytes."""
        user = ctx.require_user(_ON_BEHALF)
        async with self._uow(read_only=True) as uow:
            return await uow.documents.duplicate_groups(user, limit)

    async def events(
        self, ctx: RequestContext, doc_id: UUID, page: PageRequest
    ) -> Page[events.Event]:
        """The audit trail of a document the caller may read, newest first. Where each
        event came from (`client_ip`, `user_agent`) is shown only to those who
        `policy.can_see_audit_details`; other readers get None for both."""
        user = ctx.require_user(_ON_BEHALF)
        async with self._uow(read_only=True) as uow:
            found = await self._readable(uow, user, doc_id)
            trail = await uow.events.list(
                EventFilter(subject_type="document", subject_id=str(doc_id)), page
            )
        if policy.can_see_audit_details(user, found.document):
            return trail
        anonymous = [replace(e, client_ip=None, user_agent=None) for e in trail.items]
        return Page(anonymous, trail.next_cursor)

    # --- changing ---------------------------------------------------------------------------
    #
    # A change reads the document, checks the policy, asks the document for its next version
    # (`Document.change`, `retag`, `trash`, `restore`) and writes that over the version it
    # read; `_retrying` runs it again when another change got there first.

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
        user = ctx.require_user(_ON_BEHALF)
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
            doc = await self._writable(uow, user, doc_id, expected_version)
            category_id = await self._category_id(uow, changes.values.get("category"))
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
        wanted = self._clean_tags(names)
        user = ctx.require_user(_ON_BEHALF)
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
            doc = await self._writable(uow, user, doc_id, expected_version)
            tags = await self._ensure_tags(uow, ctx, doc.tags_after(wanted, mode), now)
            retagged = doc.retag([t.name for t in tags], now)
            if retagged is doc:
                return doc
            return await self._save(
                uow, ctx, doc, retagged, {"tags": retagged.tags}, [t.id for t in tags]
            )

    async def _writable(
        self, uow: UnitOfWork, user: User, doc_id: UUID, expected_version: int | None
    ) -> Document:
        """The document `user` may change, at `expected_version` and not in the trash."""
        return await document_access.changeable(uow, user, doc_id, expected_version)

    async def _save(
        self,
        uow: UnitOfWork,
        ctx: RequestContext,
        read: Document,
        changed_doc: Document,
        changed: dict[str, Any],
        tag_ids: list[UUID] | None = None,
    ) -> Document | None:
        """Write `changed_doc` over the version `read` and record `document.updated`; None if
        that version is no longer the current one. The tags (`tag_ids`) are written after the
        row, so concurrent changes wait on the row instead of colliding on the tags."""
        if not await uow.documents.update(changed_doc, read.version):
            return None
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
        user = ctx.require_user(_ON_BEHALF)
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
            found = await self._readable(uow, user, doc_id)
            doc = found.document
            if not policy.can_delete(user, doc, found.grant):
                raise PermissionDenied("deleting and restoring need delete rights")
            doc.check_version(expected_version)
            moved = doc.trash(now) if to_trash else doc.restore(now)
            if moved is doc:
                return doc
            if not await uow.documents.update(moved, doc.version):
                return None
            action = events.DOCUMENT_DELETED if to_trash else events.DOCUMENT_RESTORED
            await uow.events.add(ctx.event(action, "document", doc.id, now))
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

    async def purge(
        self, ctx: RequestContext, doc_id: UUID, expected_version: int | None = None
    ) -> None:
        """Delete for good (owner or admin), then remove the blob if no row references it."""
        user = ctx.require_user(_ON_BEHALF)
        now = self._clock.now()
        async with self._uow() as uow:
            doc = (await self._readable(uow, user, doc_id)).document
            if not policy.can_purge(user, doc):
                raise PermissionDenied("only the owner or an administrator may purge")
            doc.check_version(expected_version)
            await uow.documents.purge(doc.id)
            await uow.events.add(
                ctx.event(
                    events.DOCUMENT_PURGED,
                    "document",
                    doc.id,
                    now,
                    {"title": doc.title, "sha256": doc.sha256},
                )
            )
            await uow.commit()
        await self.release_blob(doc.storage_key)

    async def release_blob(self, key: str) -> bool:
        """Delete a blob once no row references it; True if it was deleted."""
        return await self._releaser.release(key)

    # --- helpers ------------------------------------------------------------------------------

    def _clean_tags(self, names: Sequence[str]) -> list[str]:
        cleaned: dict[str, str] = {}
        for raw in names:
            name = tag_name(raw)
            cleaned.setdefault(name.lower(), name)
        if len(cleaned) > MAX_TAGS:
            raise ValidationFailed.on("tags", f"at most {MAX_TAGS} tags")
        return list(cleaned.values())

    async def _ensure_tags(
        self, uow: UnitOfWork, ctx: RequestContext, names: Sequence[str], now: datetime
    ) -> list[Tag]:
        """The tags with these names, creating the unknown ones (SPEC.md §2.4)."""
        if not names:
            return []
        existing = {t.name.lower(): t for t in await uow.tags.get_by_names(names)}
        out = []
        for name in names:
            tag = existing.get(name.lower())
            if tag is None:
                wanted = Tag(uuid4(), name, tag_color(None), "", True, now)
                tag = await uow.tags.ensure(wanted)
                existing[name.lower()] = tag
                if tag.id == wanted.id:
                    await uow.events.add(
                        ctx.event(events.TAG_CREATED, "tag", tag.id, now, {"name": name})
                    )
            out.append(tag)
        return out

    async def _readable(self, uow: UnitOfWork, user: User, doc_id: UUID) -> Readable:
        return await document_access.readable(uow, user, doc_id)

    async def _category_id(self, uow: UnitOfWork, name: str | None) -> UUID | None:
        """The id of the category named `name`; None for no name or no such category."""
        if name is None:
            return None
        category = await uow.categories.get_by_name(name)
        return None if category is None else category.id


def _jsonable(changes: dict[str, Any]) -> dict[str, Any]:
    """Changed values as an event records them: levels as numbers, ids as strings."""
    return {
        k: v.value if isinstance(v, enum.Enum) else str(v) if isinstance(v, UUID) else v
        for k, v in changes.items()
    }
