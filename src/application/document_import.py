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
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol
from uuid import UUID

from application.context import RequestContext
from application.document_access import ON_BEHALF
from application.document_uploads import DocumentFields, DocumentUploads
from application.upload_log import UploadLog
from domain.errors import DomainError, DuplicateDocument, StorageUnavailable, error_code
from domain.ports import UnitOfWorkFactory
from domain.uploads import UploadSource
from domain.users import User

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


@dataclass(frozen=True)
class ImportOptions:
    fields: DocumentFields = field(default_factory=DocumentFields)
    on_duplicate: OnDuplicate = "skip"
    jobs: int = 4  # files in flight at once


class DocumentImport:
    def __init__(
        self, uow_factory: UnitOfWorkFactory, uploads: DocumentUploads, upload_log: UploadLog
    ) -> None:
        self._uow = uow_factory
        self._uploads = uploads
        self._log = upload_log  # every file's attempt is recorded, skipped ones too

    async def run(
        self,
        ctx: RequestContext,
        sources: Sequence[ImportSource],
        options: ImportOptions,
        on_result: Callable[[FileResult], None] | None = None,
    ) -> list[FileResult]:
        """Import every source as the caller; a result per source, in the order given
        (`on_result` hears of each as it is done, for progress)."""
        user = ctx.require_user(ON_BEHALF)
        if options.jobs < 1:
            raise ValueError("jobs must be at least 1")
        fields = replace(
            options.fields,
            source=options.fields.source or "import",  # where a document came from, if unsaid
            on_duplicate="allow" if options.on_duplicate == "allow" else "reject",
        )
        slots = asyncio.Semaphore(options.jobs)

        async def one(source: ImportSource) -> FileResult:
            async with slots:
                result = await self._one(ctx, user, source, fields, options.on_duplicate)
            if on_result is not None:
                on_result(result)
            return result

        return list(await asyncio.gather(*(one(s) for s in sources)))

    async def _one(
        self,
        ctx: RequestContext,
        user: User,
        source: ImportSource,
        fields: DocumentFields,
        on_duplicate: OnDuplicate,
    ) -> FileResult:
        try:
            async with self._log.attempt(ctx, UploadSource.IMPORT) as trace:
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
            return self._duplicate(source, err.existing, on_duplicate)
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

    @staticmethod
    def _duplicate(source: ImportSource, existing: UUID, on_duplicate: OnDuplicate) -> FileResult:
        message = f"the same bytes are already document {existing}"
        outcome = Outcome.REJECTED if on_duplicate == "reject" else Outcome.DUPLICATE
        return FileResult(source.name, outcome, source.size, existing, "duplicate", message)
