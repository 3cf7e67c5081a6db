"""Creating documents: a file uploaded, or text sent as one (TXT or MARKDOWN).

A file is received once, into a `FileSpool` the use case opens (`DocumentUploads.open_spool`:
may the caller create anything, is the file's type accepted, how large may it be): the spool
counts the bytes against that limit, hashes them and holds them (memory first, then a
temporary file) as they arrive. Whoever receives the bytes fills it — the HTTP layer as the
body streams, `upload` for a caller holding a stream — and `upload_spooled` decides the rest.

Everything is checked, and the text read, before a byte is stored (`prepare_spooled`: a
`PreparedFile`), so bad input leaves nothing behind; storing it is `document_store`'s. Reading
and changing documents are `document_reads` and `document_lifecycle`."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from application.context import RequestContext
from application.document_access import ON_BEHALF
from application.document_store import DocumentFields, DocumentStore, PreparedFile, check_create
from application.file_spool import FileSpool
from application.taxonomy import TaxonomyService
from domain import policy
from domain.blobs import BlobLocks, BlobStore, TextExtractor
from domain.clock import Clock
from domain.documents import (
    TYPE_OF_EXTENSION,
    Document,
    DocumentType,
    FileType,
    extension_of,
    safe_filename,
)
from domain.errors import (
    DomainError,
    PermissionDenied,
    TooLarge,
    UnsupportedType,
    ValidationFailed,
)
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.values import AccessLevel

TEXT_EXTENSIONS = {DocumentType.TXT: "txt", DocumentType.MARKDOWN: "md"}


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
        self._extractor = extractor
        self._store = DocumentStore(uow_factory, clock, blobs, taxonomy, blob_locks)

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
        check_create(ctx.require_user(ON_BEHALF), fields)
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
        return await self._store.store(ctx, ctx.require_user(ON_BEHALF), prepared, fields)

    async def prepare_spooled(
        self, ctx: RequestContext, spool: FileSpool, fields: DocumentFields
    ) -> PreparedFile:
        """What `upload_spooled` checks and reads before it stores anything: the caller's
        right to these fields, a file that is not empty, its text (`ContentMismatch`,
        `ValidationFailed` from the extractor). Stores nothing."""
        user = ctx.require_user(ON_BEHALF)
        check_create(user, fields)
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
        """Store prepared files as documents in one unit of work (`DocumentStore.store_batch`):
        for `archivist import`, which prepares them with `prepare_spooled`."""
        return await self._store.store_batch(ctx, files, fields, before_commit)

    async def create_text(
        self, ctx: RequestContext, content: str, document_type: DocumentType, fields: DocumentFields
    ) -> Document:
        """A document whose file is the given text (TXT or MARKDOWN), stored as UTF-8."""
        user = ctx.require_user(ON_BEHALF)
        if document_type not in TEXT_EXTENSIONS:
            raise ValidationFailed.on("document_type", "must be TXT or MARKDOWN")
        if fields.title is None:
            raise ValidationFailed.on("title", "is required")
        check_create(user, fields)
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
        return await self._store.store(ctx, user, prepared, fields)


def _accepted(extension: str, file_types: dict[str, FileType | None]) -> FileType:
    """The policy of an extension uploads may have; `UnsupportedType` otherwise."""
    file_type = file_types.get(extension)
    if file_type is None or not file_type.is_allowed:
        raise UnsupportedType(f".{extension} files are not accepted")
    if extension not in TYPE_OF_EXTENSION:
        raise UnsupportedType(f".{extension} files cannot be read for text")
    return file_type
