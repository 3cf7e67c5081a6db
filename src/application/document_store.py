"""Storing documents: the bytes of checked files under their blob locks, then their rows.

`DocumentUploads` receives a file, checks it and reads its text (`PreparedFile`); this stores
it: the bytes go to the blob store under the blob's lock (so a purge never deletes a blob an
upload of the same bytes is about to reference), then the rows that reference them commit in
one unit of work: each document with its tags, category, classification, event, jobs and
processing state. One upload is a batch of one; `archivist import` stores small files in
batches (docs/decisions.md, "Importing a folder"), a statement for each kind of row."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from application import document_access
from application.blob_release import BlobReleaser
from application.context import RequestContext
from application.document_access import ON_BEHALF
from application.document_ocr import enqueue_ocr
from application.document_tags import clean_tags, ensure_tags
from application.document_thumbnails import enqueue_thumbnails
from application.taxonomy import TaxonomyService
from domain import events, policy
from domain.blobs import BlobLocks, BlobStore, StoredBlob
from domain.clock import Clock
from domain.documents import Document, FileType, category_found, check_metadata
from domain.errors import DuplicateDocument, PermissionDenied
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.taxonomy import parse_confidence, parse_path, parse_version
from domain.users import User
from domain.values import AccessLevel


@dataclass(frozen=True, slots=True)
class PreparedFile:
    """A received file, checked and read, not yet stored."""

    data: bytes
    sha256: str
    content: str  # its text
    filename: str
    file_type: FileType
    # PDF pages without a text layer (scans): an `ocr` job reads them once the file is stored.
    pages_without_text: tuple[int, ...] = ()


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


def check_create(user: User, fields: DocumentFields) -> None:
    """May `user` create a document with these fields (level, department)?
    `PermissionDenied` if not."""
    level = AccessLevel.parse(fields.access_level)
    department = Document.clean_department(fields.department)
    if not policy.can_create(user, level, department):
        raise PermissionDenied(
            "guests cannot create documents, and members only up to their own clearance "
            "and for their own department"
        )


class DocumentStore:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        blobs: BlobStore,
        taxonomy: TaxonomyService,
        blob_locks: BlobLocks,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._blobs = blobs
        self._taxonomy = taxonomy
        # Shared by every server process (docs/decisions.md, "Blobs").
        self._blob_locks = blob_locks
        self._releaser = BlobReleaser(uow_factory, blobs, blob_locks)

    async def store(
        self, ctx: RequestContext, user: User, prepared: PreparedFile, fields: DocumentFields
    ) -> Document:
        """Store a prepared file as a new document: its bytes, then its row (see
        `store_batch` for what it checks)."""
        tag_names, path = await self._checked_fields(fields, [prepared.filename])
        # Same bytes, same lock: a purge or a failed upload never deletes a blob that an
        # upload of the same bytes has stored but not yet committed a row for.
        async with self._blob_locks.hold(self._blobs.key_for(prepared.sha256)):
            stored = await self._put(prepared)
            try:
                now = self._clock.now()
                async with self._uow() as uow:
                    [doc] = await self._add_all(
                        uow, ctx, user, [stored], [prepared], fields, tag_names, path, now
                    )
                    await uow.commit()
            except BaseException:
                await self._releaser.release_held(stored.key)
                raise
        return doc

    async def store_batch(
        self,
        ctx: RequestContext,
        files: Sequence[PreparedFile],
        fields: DocumentFields,
        before_commit: Callable[[UnitOfWork, list[Document]], Awaitable[None]] | None = None,
    ) -> list[Document]:
        """Store prepared files (of distinct SHA-256s) as documents with the same fields, in
        one unit of work: one commit for all, so a folder's import costs a round trip or
        two per file rather than several transactions (issue #12, must-show 4).

        All or nothing: any error (a duplicate stored meanwhile, a database fault) rolls the
        whole batch back, releases the blobs it stored and is raised; the caller may then
        store the files one by one to learn which one failed. `before_commit` runs in the
        unit of work after the documents are added (the import writes its upload records
        there)."""
        user = ctx.require_user(ON_BEHALF)
        if len({f.sha256 for f in files}) != len(files):
            raise ValueError("a batch holds each file's bytes once")
        check_create(user, fields)
        tag_names, path = await self._checked_fields(fields, [f.filename for f in files])
        keys = [self._blobs.key_for(f.sha256) for f in files]
        async with self._blob_locks.hold_many(keys):
            stored: list[StoredBlob] = []
            try:
                stored += await self._put_all(files)
                now = self._clock.now()
                async with self._uow() as uow:
                    docs = await self._add_all(
                        uow, ctx, user, stored, files, fields, tag_names, path, now
                    )
                    if before_commit is not None:
                        await before_commit(uow, docs)
                    await uow.commit()
            except BaseException:
                for blob in stored:
                    await self._releaser.release_held(blob.key)
                raise
        return docs

    async def _checked_fields(
        self, fields: DocumentFields, filenames: Sequence[str]
    ) -> tuple[list[str], tuple[str, ...] | None]:
        """Check the fields before any byte is stored, so bad input leaves nothing behind
        (`Document.create` holds these rules and checks them again): the clean tag names
        and the parsed taxonomy path."""
        check_metadata(fields.metadata)
        tag_names = clean_tags(fields.tags)
        path = None
        if fields.taxonomy_version is not None:
            parse_version(fields.taxonomy_version, "taxonomy_version")
        if fields.taxonomy_path is not None:
            path = parse_path(fields.taxonomy_path, "taxonomy_path")
            parse_confidence(fields.taxonomy_confidence)
            await self._taxonomy.resolve(fields.taxonomy_path, fields.taxonomy_version)
        for filename in filenames:
            Document.title_for(fields.title, filename)
        Document.clean_source(fields.source)
        Document.clean_department(fields.department)
        return tag_names, path

    async def _put_all(self, files: Sequence[PreparedFile]) -> list[StoredBlob]:
        """`_put` of every file at once (each is thread hops and two fsyncs: mostly waiting),
        in the order given. If one fails, the others are stopped, those stored are released,
        and its error is raised."""
        puts: list[asyncio.Task[StoredBlob]] = []
        try:
            async with asyncio.TaskGroup() as group:
                puts += [group.create_task(self._put(f)) for f in files]
        except BaseExceptionGroup as failed:
            for put in puts:
                if put.done() and not put.cancelled() and put.exception() is None:
                    await self._releaser.release_held(put.result().key)
            raise failed.exceptions[0] from None
        return [put.result() for put in puts]

    async def _put(self, prepared: PreparedFile) -> StoredBlob:
        """The file's bytes into the blob store (its key's lock held by the caller)."""
        data = prepared.data

        async def once() -> AsyncIterator[bytes]:
            yield data

        return await self._blobs.put(once(), max_bytes=len(data), sha256=prepared.sha256)

    async def _add_all(
        self,
        uow: UnitOfWork,
        ctx: RequestContext,
        user: User,
        stored: Sequence[StoredBlob],
        files: Sequence[PreparedFile],
        fields: DocumentFields,
        tag_names: list[str],
        path: tuple[str, ...] | None,
        now: datetime,
    ) -> list[Document]:
        """The documents' rows, tags, classifications, events and jobs, in `uow`: one
        statement for each kind of row, however many documents (one upload, or a batch)."""
        if fields.on_duplicate == "reject":
            known = await uow.documents.first_readable_with_sha256(
                [blob.sha256 for blob in stored], user
            )
            for blob in stored:
                if (same := known.get(blob.sha256)) is not None:
                    raise DuplicateDocument(
                        f"the same file is already document {same.id} "
                        f"({same.title!r}); send on_duplicate=allow to keep both",
                        same.id,
                    )
        category_id = category_found(
            fields.category, await document_access.category_id(uow, fields.category)
        )
        tags = await ensure_tags(uow, ctx, tag_names, now)
        docs = [
            Document.create(
                owner_id=user.id,
                title=fields.title,
                content=prepared.content,
                filename=prepared.filename,
                file_type=prepared.file_type,
                blob=blob,
                now=now,
                access_level=fields.access_level,
                department=fields.department,
                metadata=fields.metadata,
                source=fields.source,
                category_id=category_id,
                tags=[t.name for t in tags],
                category_name=fields.category,
            )
            for blob, prepared in zip(stored, files, strict=True)
        ]
        await uow.documents.add_all(docs)
        if tags:
            for doc in docs:
                await uow.documents.set_tags(doc.id, [t.id for t in tags])
        if path is not None:
            for doc in docs:
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
        await uow.events.add_all(
            [
                ctx.event(
                    events.DOCUMENT_UPLOADED,
                    "document",
                    doc.id,
                    now,
                    {"title": doc.title, "sha256": doc.sha256, "size_bytes": doc.size_bytes},
                )
                for doc in docs
            ]
        )
        await enqueue_thumbnails(uow, [doc.id for doc in docs], now)
        scans = [doc.id for doc, f in zip(docs, files, strict=True) if f.pages_without_text]
        if scans:
            await enqueue_ocr(uow, scans, now)
        return docs
