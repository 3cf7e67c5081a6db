"""The record of every upload attempt (SPEC §2.12; issue #12 item 5): whatever came of it
(stored, a duplicate, refused by a rule, failed), with where it came from (HTTP, text,
import, the consume folder), who sent it from which address and client, the file's name,
size and SHA-256 as far as they arrived, and the document it made or duplicated.

A caller wraps one attempt in `UploadLog.attempt`, tells the trace what it learns (the spool,
the document made) and lets errors pass: the record is written when the block ends, in a unit
of work of its own (an attempt that failed rolled its own back), and a record that cannot be
written (the database is down: that is why the upload failed) is logged, never raised over
the upload's own outcome. Refused files leave a record and no bytes. Admins list the records;
`archivist purge` expires them after `upload_retention_days`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from application.context import RequestContext
from application.file_spool import FileSpool
from domain.clock import Clock
from domain.documents import Document
from domain.errors import DomainError, DuplicateDocument, StorageUnavailable, error_code
from domain.pagination import Page, PageRequest
from domain.ports import UnitOfWorkFactory
from domain.uploads import (
    FILENAME_MAX,
    USER_AGENT_MAX,
    UploadFilter,
    UploadRecord,
    UploadSource,
    UploadStatus,
)

log = logging.getLogger("archivist.uploads")


@dataclass
class UploadTrace:
    """What one attempt has learnt so far, for its record."""

    filename: str | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    spool: FileSpool | None = None  # its name, size and digest are read at the end
    document: Document | None = None  # set by the caller once stored

    def _final(self, status: UploadStatus) -> tuple[str | None, int | None, str | None]:
        if self.document is not None:
            d = self.document
            return d.original_filename, d.size_bytes, d.sha256
        if self.spool is not None:
            # A digest only of a file that arrived whole (a duplicate was compared whole).
            whole = status is UploadStatus.DUPLICATE and self.spool.flushed
            return self.spool.filename, self.spool.size, self.spool.sha256 if whole else None
        return self.filename, self.size_bytes, self.sha256


class UploadLog:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    @asynccontextmanager
    async def attempt(
        self,
        ctx: RequestContext,
        source: UploadSource,
        *,
        refused: tuple[type[Exception], ...] = (),
    ) -> AsyncIterator[UploadTrace]:
        """Record the attempt made in the block. `refused`: exceptions of the caller's own
        that mean the client sent something wrong (a malformed multipart body), recorded as
        `rejected` like a domain rule's refusal; any other error is `failed`."""
        trace = UploadTrace()
        started = self._clock.now()

        async def write(
            status: UploadStatus, code: str | None, document_id: UUID | None = None
        ) -> None:
            record = self.record(ctx, source, trace, started, status, code, document_id)
            await self.write_all([record])

        try:
            yield trace
        except DuplicateDocument as err:
            await write(UploadStatus.DUPLICATE, "duplicate", err.existing)
            raise
        except StorageUnavailable as err:
            await write(UploadStatus.FAILED, error_code(err))
            raise
        except DomainError as err:
            await write(UploadStatus.REJECTED, error_code(err))
            raise
        except refused:
            await write(UploadStatus.REJECTED, "bad_request")
            raise
        except Exception:
            await write(UploadStatus.FAILED, "internal_error")
            raise
        if trace.document is None:  # the block ended without storing: a caller's bug
            await write(UploadStatus.FAILED, "internal_error")
        else:
            await write(UploadStatus.STORED, None, trace.document.id)

    def record(
        self,
        ctx: RequestContext,
        source: UploadSource,
        trace: UploadTrace,
        started: datetime,
        status: UploadStatus,
        code: str | None,
        document_id: UUID | None = None,
    ) -> UploadRecord:
        """The record of an attempt that ended now, not yet written (a batch of uploads
        writes its records in its own unit of work: `write_all`, or `uow.uploads.add`)."""
        filename, size, sha256 = trace._final(status)
        return UploadRecord(
            id=uuid4(),
            source=source,
            user_id=ctx.actor.id if ctx.actor is not None else None,
            client_ip=ctx.client_ip,
            user_agent=(ctx.user_agent or None) and ctx.user_agent[:USER_AGENT_MAX],
            filename=filename[:FILENAME_MAX] if filename else None,
            size_bytes=size,
            sha256=sha256,
            status=status,
            error_code=code,
            started_at=started,
            completed_at=self._clock.now(),
            document_id=document_id,
        )

    async def write_all(self, records: Sequence[UploadRecord]) -> None:
        """Write records in one unit of work of their own; logged, never raised, if that
        fails (the uploads' own outcomes stand)."""
        if not records:
            return
        try:
            async with self._uow() as uow:
                await uow.uploads.add_all(records)
                await uow.commit()
        except Exception:  # the upload's own outcome stands; say why this one is missing
            statuses = sorted({str(r.status) for r in records})
            log.warning(
                "%d upload record(s) (%s) could not be written",
                len(records),
                ", ".join(statuses),
                exc_info=True,
            )

    async def list(
        self, ctx: RequestContext, filters: UploadFilter, page: PageRequest
    ) -> Page[UploadRecord]:
        """Upload records, newest first (administrators only)."""
        ctx.require_admin()
        async with self._uow(autocommit=True) as uow:
            return await uow.uploads.list(filters, page)
