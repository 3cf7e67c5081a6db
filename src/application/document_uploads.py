"""Creating documents: a file uploaded, or text sent as one (TXT or MARKDOWN).

A file is received once, into a `FileSpool` the use case opens (`DocumentUploads.open_spool`:
may the caller create anything, is the file's type accepted, how large may it be): the spool
counts the bytes against that limit, hashes them and holds them (memory first, then a
temporary file) as they arrive. Whoever receives the bytes fills it — the HTTP layer as the
body streams, `upload` for a caller holding a stream — and `upload_spooled` decides the rest.

Everything is checked before a byte is stored, so bad input leaves nothing behind; then the
bytes go to the blob store, under the blob's lock, before the row that references them
commits, with its tags, its category, its classification and its event in one unit of work.
Reading and changing documents are `document_reads` and `document_lifecycle`."""

from __future__ import annotations

import asyncio
import hashlib
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
from application.file_spool import FileSpool
from application.taxonomy import TaxonomyService
from domain import events, policy
from domain.blobs import BlobLocks, BlobStore, StoredBlob, TextExtractor
from domain.clock import Clock
from domain.documents import (
    TYPE_OF_EXTENSION,
    Document,
    DocumentType,
    FileType,
    category_found,
    check_metadata,
    extension_of,
    safe_filename,
)
from domain.errors import (
    DomainError,
    DuplicateDocument,
    PermissionDenied,
    TooLarge,
    UnsupportedType,
    ValidationFailed,
)
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.taxonomy import parse_confidence, parse_path
from domain.users import User
from domain.values import AccessLevel

TEXT_EXTENSIONS = {DocumentType.TXT: "txt", DocumentType.MARKDOWN: "md"}


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


class DocumentUploads:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        blobs: BlobStore,
        extractor: TextExtractor,
        taxonomy: TaxonomyService,
        blob_locks: BlobLocks,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._blobs = blobs
        self._extractor = extractor
        self._taxonomy = taxonomy
        # Shared by every server process, so a purge never deletes a blob an upload of the
        # same bytes is about to reference (docs/decisions.md, "Blobs").
        self._blob_locks = blob_locks
        self._releaser = BlobReleaser(uow_factory, blobs, blob_locks)

    async def upload_policy(self, filename: str) -> FileType:
        """The file type an upload of `filename` falls under. Raises `ValidationFailed` for a
        bad name, `UnsupportedType` for an unknown, disallowed or unreadable extension."""
        extension = extension_of(safe_filename(filename))
        async with self._uow(autocommit=True) as uow:
            file_type = await uow.file_types.get(extension)
        return _accepted(extension, {extension: file_type})

    async def open_spools(
        self, ctx: RequestContext, filenames: Sequence[str]
    ) -> list[FileSpool | DomainError]:
        """`open_spool` for many files (a folder's import): each type's policy is read once,
        in one unit of work. Per file, its spool or the `DomainError` `open_spool` would
        raise."""
        user = ctx.require_user(ON_BEHALF)
        if not policy.can_create(user, AccessLevel.L1, user.department):
            return [PermissionDenied("guests cannot create documents") for _ in filenames]
        names: list[str | DomainError] = []
        for filename in filenames:
            try:
                names.append(safe_filename(filename))
            except DomainError as err:
                names.append(err)
        extensions = {extension_of(n) for n in names if isinstance(n, str)}
        async with self._uow(autocommit=True) as uow:
            file_types = {e: await uow.file_types.get(e) for e in sorted(extensions)}
        spools: list[FileSpool | DomainError] = []
        for name in names:
            if isinstance(name, DomainError):
                spools.append(name)
                continue
            try:
                spools.append(FileSpool(name, _accepted(extension_of(name), file_types)))
            except DomainError as err:
                spools.append(err)
        return spools

    async def open_spool(self, ctx: RequestContext, filename: str) -> FileSpool:
        """A spool to receive the file `filename` into, capped at its type's limit. Asked
        before any byte of the file is read: raises `PermissionDenied` if the caller may
        create no document at all, `ValidationFailed` for a bad name, `UnsupportedType` for a
        type not accepted. The caller closes it (`with`)."""
        user = ctx.require_user(ON_BEHALF)
        # The requested level and department are checked with every field, in
        # `upload_spooled`; the fields may arrive after the file.
        if not policy.can_create(user, AccessLevel.L1, user.department):
            raise PermissionDenied("guests cannot create documents")
        name = safe_filename(filename)
        return FileSpool(name, await self.upload_policy(name))

    async def upload(
        self,
        ctx: RequestContext,
        filename: str,
        chunks: AsyncIterator[bytes],
        fields: DocumentFields,
    ) -> Document:
        """Store a streamed file as a new document: `open_spool`, the bytes, `upload_spooled`
        (for callers that hold a stream rather than a spool: the CLI, the demo, tests)."""
        self._check_create(ctx.require_user(ON_BEHALF), fields)
        with await self.open_spool(ctx, filename) as spool:
            async for chunk in chunks:
                await spool.write(chunk)
            return await self.upload_spooled(ctx, spool, fields)

    async def upload_spooled(
        self, ctx: RequestContext, spool: FileSpool, fields: DocumentFields
    ) -> Document:
        """Store a received file as a new document.

        The spool enforced its type's limit as the bytes came in (`TooLarge`); here, before
        anything is stored, the caller must be allowed to create this document with these
        fields, the file must not be empty, its bytes must be what the extension claims
        (`ContentMismatch`) and readable (`ValidationFailed`); a duplicate of a document the
        caller can read is a `Conflict` unless `on_duplicate="allow"`. On any error nothing
        is left behind."""
        prepared = await self.prepare_spooled(ctx, spool, fields)
        return await self._create(ctx, ctx.require_user(ON_BEHALF), prepared, fields)

    async def prepare_spooled(
        self, ctx: RequestContext, spool: FileSpool, fields: DocumentFields
    ) -> PreparedFile:
        """What `upload_spooled` checks and reads before it stores anything: the caller's
        right to these fields, a file that is not empty, its text (`ContentMismatch`,
        `ValidationFailed` from the extractor). Stores nothing."""
        user = ctx.require_user(ON_BEHALF)
        self._check_create(user, fields)
        if spool.size == 0:
            raise ValidationFailed.on("file", "is empty")
        data = await spool.read()
        document_type = TYPE_OF_EXTENSION[spool.file_type.extension]
        extracted = await asyncio.to_thread(self._extractor.read, data, document_type)
        return PreparedFile(
            data,
            spool.sha256,
            extracted.text,
            spool.filename,
            spool.file_type,
            extracted.pages_without_text,
        )

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
        self._check_create(user, fields)
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

    async def create_text(
        self, ctx: RequestContext, content: str, document_type: DocumentType, fields: DocumentFields
    ) -> Document:
        """A document whose file is the given text (TXT or MARKDOWN), stored as UTF-8."""
        user = ctx.require_user(ON_BEHALF)
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
        sha256 = hashlib.sha256(data).hexdigest()
        prepared = PreparedFile(data, sha256, text, filename, file_type)
        return await self._create(ctx, user, prepared, fields)

    def _check_create(self, user: User, fields: DocumentFields) -> None:
        level = AccessLevel.parse(fields.access_level)
        department = Document.clean_department(fields.department)
        if not policy.can_create(user, level, department):
            raise PermissionDenied(
                "guests cannot create documents, and members only up to their own clearance "
                "and for their own department"
            )

    async def _create(
        self, ctx: RequestContext, user: User, prepared: PreparedFile, fields: DocumentFields
    ) -> Document:
        """Store a prepared file and its row."""
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

    async def _checked_fields(
        self, fields: DocumentFields, filenames: Sequence[str]
    ) -> tuple[list[str], tuple[str, ...] | None]:
        """Check the fields before any byte is stored, so bad input leaves nothing behind
        (`Document.create` holds these rules and checks them again): the clean tag names
        and the parsed taxonomy path."""
        check_metadata(fields.metadata)
        tag_names = clean_tags(fields.tags)
        path = None
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


def _accepted(extension: str, file_types: dict[str, FileType | None]) -> FileType:
    """The policy of an extension uploads may have; `UnsupportedType` otherwise."""
    file_type = file_types.get(extension)
    if file_type is None or not file_type.is_allowed:
        raise UnsupportedType(f".{extension} files are not accepted")
    if extension not in TYPE_OF_EXTENSION:
        raise UnsupportedType(f".{extension} files cannot be read for text")
    return file_type
