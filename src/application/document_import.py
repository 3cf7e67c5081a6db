"""Many files stored as documents at once (`archivist import DIR`, SPEC §4; issue #12 item 6).

Each file is one upload by the rules of `POST /documents` (`DocumentUploads.upload`: the
caller's rights, the upload policy and limits, extraction in worker processes, one unit of
work per document, so a failure costs only its own file). What this adds is what a folder
needs: files already stored are skipped by their SHA-256 before any extraction (re-running an
interrupted import resumes it), several files in flight at once, and a result for every file.
Where the files come from (a directory, later the consume folder) is the caller's: an
`ImportSource` names a file and streams its bytes."""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol, TypeVar
from uuid import UUID

from application.context import RequestContext
from application.document_access import ON_BEHALF
from application.document_store import DocumentFields, PreparedFile
from application.document_uploads import DocumentUploads
from application.file_spool import FileSpool
from application.upload_log import UploadLog, UploadTrace
from domain.clock import Clock
from domain.documents import Document
from domain.errors import DomainError, DuplicateDocument, StorageUnavailable, error_code
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.uploads import UploadRecord, UploadSource, UploadStatus
from domain.users import User

T = TypeVar("T")

log = logging.getLogger("archivist.import")

OnDuplicate = Literal["reject", "skip", "allow"]


class ImportSource(Protocol):
    """One file to import."""

    @property
    def name(self) -> str:
        """How reports name it (a path relative to the imported folder)."""

    @property
    def filename(self) -> str:
        """The file name the document keeps (its extension picks the upload policy)."""

    @property
    def size(self) -> int: ...

    async def sha256(self) -> str:
        """The SHA-256 of its bytes, hex."""

    def chunks(self) -> AsyncIterator[bytes]:
        """Its bytes, in chunks."""


class Outcome(enum.StrEnum):
    IMPORTED = "imported"
    DUPLICATE = "duplicate"  # already stored (skipped, or refused with --on-duplicate reject)
    REJECTED = "rejected"  # refused by a rule an upload would meet: type, size, content, rights
    FAILED = "failed"  # an unexpected error (it is logged); nothing of the file is kept


@dataclass(frozen=True)
class FileResult:
    name: str
    outcome: Outcome
    size_bytes: int
    document_id: UUID | None = None  # the document made, or the one it duplicates
    code: str | None = None  # why not imported: the error's kind, e.g. unsupported_type
    message: str | None = None


# A batch holds its files' bytes in memory: files above this go one by one, and a batch stops
# growing at `BATCH_BYTES`. One unit of work per file costs a few ms, nothing beside a large
# file's own work.
BATCH_FILE_MAX = 1024 * 1024
BATCH_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class ImportOptions:
    fields: DocumentFields = field(default_factory=DocumentFields)
    on_duplicate: OnDuplicate = "skip"
    jobs: int = 4  # files in flight at once
    upload_source: UploadSource = UploadSource.IMPORT  # what the upload records say
    # Small files are stored `batch_size` at a time, one unit of work each (0: one by one).
    batch_size: int = 50
    # Files above this many bytes go one by one (`BATCH_FILE_MAX`).
    batch_file_max: int = BATCH_FILE_MAX


class DocumentImport:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        uploads: DocumentUploads,
        upload_log: UploadLog,
        clock: Clock,
    ) -> None:
        self._uow = uow_factory
        self._uploads = uploads
        self._log = upload_log  # every file's attempt is recorded, skipped ones too
        self._clock = clock

    async def run(
        self,
        ctx: RequestContext,
        sources: Sequence[ImportSource],
        options: ImportOptions,
        on_result: Callable[[FileResult], None] | None = None,
    ) -> list[FileResult]:
        """Import every source as the caller; a result per source, in the order given
        (`on_result` hears of each as it is done, for progress).

        Small files go in batches (`ImportOptions.batch_size`): hashed and checked for
        duplicates together, read and extracted concurrently, stored in one unit of work
        with their upload records. A batch that fails as a whole (a duplicate stored
        meanwhile, a database fault) is run again file by file, so each file still gets
        its own outcome; large files always go one by one."""
        user = ctx.require_user(ON_BEHALF)
        if options.jobs < 1:
            raise ValueError("jobs must be at least 1")
        if options.batch_size < 0:
            raise ValueError("batch_size must be at least 0")
        fields = replace(
            options.fields,
            source=options.fields.source or "import",  # where a document came from, if unsaid
            on_duplicate="allow" if options.on_duplicate == "allow" else "reject",
        )
        run = _Run(ctx, user, fields, options, asyncio.Semaphore(options.jobs), on_result)
        small = [
            i
            for i, s in enumerate(sources)
            if options.batch_size >= 2 and s.size <= options.batch_file_max
        ]
        singles = sorted(set(range(len(sources))) - set(small))
        batches = _batches(small, sources, options.batch_size)
        # Two batches in flight: one is read and extracted while the other is stored.
        batch_slots = asyncio.Semaphore(2)
        results: dict[int, FileResult] = {}

        async def batch(indexes: list[int]) -> None:
            async with batch_slots:
                done = await self._batch(run, [sources[i] for i in indexes])
            results.update(zip(indexes, done, strict=True))

        async def single(i: int) -> None:
            results[i] = await self._single(run, sources[i])

        await asyncio.gather(*(batch(b) for b in batches), *(single(i) for i in singles))
        return [results[i] for i in range(len(sources))]

    async def _single(self, run: _Run, source: ImportSource) -> FileResult:
        async with run.slots:
            result = await self._one(run.ctx, run.user, source, run.fields, run.options)
        run.report(result)
        return result

    async def _batch(self, run: _Run, sources: list[ImportSource]) -> list[FileResult]:
        """Import small files together (see `run`); a result per source, in order."""
        started = self._clock.now()
        results: dict[int, FileResult] = {}
        records: list[UploadRecord] = []
        traces = [UploadTrace(filename=s.filename, size_bytes=s.size) for s in sources]

        def settle(i: int, result: FileResult, record: UploadRecord | None) -> None:
            results[i] = result
            if record is not None:
                records.append(record)
            run.report(result)

        def refuse(i: int, err: DomainError) -> None:
            status = UploadStatus.REJECTED
            if isinstance(err, StorageUnavailable):
                status = UploadStatus.FAILED
            record = self._log.record(
                run.ctx, run.options.upload_source, traces[i], started, status, error_code(err)
            )
            settle(i, _refused(sources[i], err), record)

        pending = list(range(len(sources)))
        if run.options.on_duplicate != "allow":  # the resume path: known files cost a lookup
            digests = await asyncio.gather(*(run.limited(s.sha256()) for s in sources))
            for i, digest in enumerate(digests):
                traces[i].sha256 = digest
            async with self._uow(autocommit=True) as uow:
                known = await uow.documents.first_readable_with_sha256(digests, run.user)
            for i, digest in enumerate(digests):
                if (same := known.get(digest)) is not None:
                    record = self._log.record(
                        run.ctx,
                        run.options.upload_source,
                        traces[i],
                        started,
                        UploadStatus.DUPLICATE,
                        "duplicate",
                        same.id,
                    )
                    settle(i, _duplicate(sources[i], same.id, run.options.on_duplicate), record)
            pending = [i for i in pending if i not in results]

        spools = await self._uploads.open_spools(run.ctx, [sources[i].filename for i in pending])
        prepared: dict[int, PreparedFile] = {}

        async def prepare(i: int, spool: FileSpool) -> None:
            with spool:
                traces[i].spool = spool
                async for chunk in sources[i].chunks():
                    await spool.write(chunk)
                prepared[i] = await self._uploads.prepare_spooled(run.ctx, spool, run.fields)

        async def attempt(i: int, spool: FileSpool | DomainError) -> None:
            try:
                if isinstance(spool, DomainError):
                    raise spool
                await run.limited(prepare(i, spool))
            except DomainError as err:
                refuse(i, err)
            except Exception as err:  # left to the one-by-one path, which says what it was
                log.debug("%s is imported on its own: %s", sources[i].name, err)

        await asyncio.gather(*(attempt(i, spool) for i, spool in zip(pending, spools, strict=True)))
        # Each file's bytes once per batch: a second copy waits for the one-by-one path
        # (where it meets the first as a duplicate, or is kept with --on-duplicate allow).
        first: dict[str, int] = {}
        for i in sorted(prepared):
            first.setdefault(prepared[i].sha256, i)
        batch = sorted(first.values())

        async def with_records(uow: UnitOfWork, docs: list[Document]) -> None:
            stored = []
            for i, doc in zip(batch, docs, strict=True):
                traces[i].document = doc
                stored.append(
                    self._log.record(
                        run.ctx,
                        run.options.upload_source,
                        traces[i],
                        started,
                        UploadStatus.STORED,
                        None,
                        doc.id,
                    )
                )
            await uow.uploads.add_all(stored)

        if batch:
            try:
                docs = await self._uploads.store_batch(
                    run.ctx, [prepared[i] for i in batch], run.fields, with_records
                )
            except Exception as err:  # every file of the batch gets its own outcome below
                log.info("a batch of %d files is imported one by one: %s", len(batch), err)
            else:
                for i, doc in zip(batch, docs, strict=True):
                    imported = FileResult(
                        sources[i].name, Outcome.IMPORTED, sources[i].size, doc.id
                    )
                    settle(i, imported, None)
        await self._log.write_all(records)
        left = [i for i in range(len(sources)) if i not in results]
        for i, result in zip(
            left, await asyncio.gather(*(self._single(run, sources[i]) for i in left)), strict=True
        ):
            results[i] = result
        return [results[i] for i in range(len(sources))]

    async def _one(
        self,
        ctx: RequestContext,
        user: User,
        source: ImportSource,
        fields: DocumentFields,
        options: ImportOptions,
    ) -> FileResult:
        on_duplicate = options.on_duplicate
        try:
            async with self._log.attempt(ctx, options.upload_source) as trace:
                trace.filename, trace.size_bytes = source.filename, source.size
                if on_duplicate != "allow":
                    trace.sha256 = await source.sha256()
                    async with self._uow(autocommit=True) as uow:
                        same = await uow.documents.readable_with_sha256(trace.sha256, user)
                    if same:
                        raise DuplicateDocument("already stored", same[0].id)
                chunks = source.chunks()
                doc = trace.document = await self._uploads.upload(
                    ctx, source.filename, chunks, fields
                )
        except DuplicateDocument as err:  # stored before, or meanwhile (twice in a folder)
            return _duplicate(source, err.existing, on_duplicate)
        except StorageUnavailable as err:  # not the file's fault: worth running again
            return FileResult(
                source.name, Outcome.FAILED, source.size, code=error_code(err), message=err.message
            )
        except DomainError as err:
            return FileResult(
                source.name,
                Outcome.REJECTED,
                source.size,
                code=error_code(err),
                message=err.message,
            )
        except OSError as err:  # the file could not be read
            return FileResult(
                source.name, Outcome.FAILED, source.size, code="unreadable", message=str(err)
            )
        except Exception as err:  # one file's fault must not stop the others: say and go on
            log.exception("importing %s failed", source.name)
            return FileResult(
                source.name, Outcome.FAILED, source.size, code="internal_error", message=str(err)
            )
        return FileResult(source.name, Outcome.IMPORTED, source.size, document_id=doc.id)


@dataclass(frozen=True)
class _Run:
    """What every file of one `DocumentImport.run` shares."""

    ctx: RequestContext
    user: User
    fields: DocumentFields
    options: ImportOptions
    slots: asyncio.Semaphore  # files in flight (hashed, read, extracted) at once
    on_result: Callable[[FileResult], None] | None

    async def limited(self, work: Awaitable[T]) -> T:
        async with self.slots:
            return await work

    def report(self, result: FileResult) -> None:
        if self.on_result is not None:
            self.on_result(result)


def _batches(indexes: list[int], sources: Sequence[ImportSource], size: int) -> list[list[int]]:
    """`indexes` in order, cut into batches of at most `size` files and `BATCH_BYTES`."""
    batches: list[list[int]] = []
    current: list[int] = []
    held = 0
    for i in indexes:
        if current and (len(current) >= size or held + sources[i].size > BATCH_BYTES):
            batches.append(current)
            current, held = [], 0
        current.append(i)
        held += sources[i].size
    if current:
        batches.append(current)
    return batches


def _duplicate(source: ImportSource, existing: UUID, on_duplicate: OnDuplicate) -> FileResult:
    message = f"the same bytes are already document {existing}"
    outcome = Outcome.REJECTED if on_duplicate == "reject" else Outcome.DUPLICATE
    return FileResult(source.name, outcome, source.size, existing, "duplicate", message)


def _refused(source: ImportSource, err: DomainError) -> FileResult:
    """A file a rule refused (`REJECTED`), or that met an unreachable database (`FAILED`:
    worth running again)."""
    outcome = Outcome.FAILED if isinstance(err, StorageUnavailable) else Outcome.REJECTED
    return FileResult(source.name, outcome, source.size, code=error_code(err), message=err.message)
