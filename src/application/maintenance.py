"""Maintenance: `archivist purge` (SPEC.md §4) — what retention says may go, goes for good.

Eight sweeps: documents in the trash past `trash_retention_days`, blobs no row references,
partial uploads a crash left behind, search logs (queries, responses, feedback) past
`search_retention_days`, the views, downloads and searches of the audit trail past
`event_retention_days`, the records of upload attempts past `upload_retention_days`, the
log of finished background jobs past `job_log_retention_days`, and the web sessions and
set-password links that have expired (a used link is gone already).

Run by hand (`archivist purge`), or as the `purge` background job, which the job workers
queue on the `ARCHIVIST_PURGE_SCHEDULE` cron schedule (once across all workers)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from application.blob_release import BlobReleaser
from application.context import RequestContext
from application.document_lifecycle import purged_event
from application.search import SearchService
from application.settings import effective_int
from domain import events
from domain.blobs import BlobLocks, BlobStore
from domain.clock import Clock
from domain.documents import Document
from domain.errors import NotFound
from domain.jobs import JsonObject
from domain.ports import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger("archivist.purge")

# One deleting sweep of the purge: (unit of work, at most this many rows, dry run) -> rows.
Sweep = Callable[[UnitOfWork, int, bool], Awaitable[int]]

# The background job that runs a purge (no payload; one at a time: its dedupe key).
PURGE_JOB = "purge"

# A blob is written before the row that references it commits, so a young unreferenced blob
# may belong to an upload still in flight; only blobs older than this are swept. The same
# holds for partial uploads: one written to within this period may still be streaming.
BLOB_GRACE_SECONDS = 3600.0
BATCH = 100  # documents purged per unit of work
EVENT_BATCH = 10_000  # expired events (or upload records) deleted per unit of work
DRY_RUN_LIMIT = 100_000  # documents a dry run lists (it cannot page: it deletes nothing)


@dataclass(frozen=True, slots=True)
class PurgedDocument:
    id: UUID
    title: str
    deleted_at: datetime
    size_bytes: int


@dataclass(frozen=True, slots=True)
class PurgedBlob:
    key: str
    size_bytes: int
    # "trash": its last document was purged; "unreferenced": no row had it; "partial": the
    # bytes of an upload that never finished (a crash), named by the store, not a key
    reason: str


@dataclass(frozen=True, slots=True)
class PurgeReport:
    dry_run: bool
    retention_days: int
    cutoff: datetime  # documents trashed before this went
    documents: Sequence[PurgedDocument]
    blobs: Sequence[PurgedBlob]
    search_queries: int  # logged searches removed (or, in a dry run, that would be)
    search_retention_days: int
    events: int = 0  # views, downloads and searches of the audit trail removed (or would be)
    event_retention_days: int = 0
    uploads: int = 0  # upload records removed (or would be)
    upload_retention_days: int = 0
    job_log: int = 0  # entries of the finished jobs' log removed (or would be)
    job_log_retention_days: int = 0
    sessions: int = 0  # expired web sessions removed (or would be)
    password_links: int = 0  # expired set-password links removed (or would be)

    @property
    def bytes_freed(self) -> int:
        """Bytes of the blobs deleted (or, in a dry run, that would be)."""
        return sum(b.size_bytes for b in self.blobs)


class MaintenanceService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        blobs: BlobStore,
        blob_locks: BlobLocks,
        search: SearchService,
        blob_grace_seconds: float = BLOB_GRACE_SECONDS,
        batch: int = BATCH,
    ) -> None:
        self._search = search
        self._batch = batch
        self._uow = uow_factory
        self._clock = clock
        self._blobs = blobs
        self._releaser = BlobReleaser(uow_factory, blobs, blob_locks)
        self._grace = blob_grace_seconds

    async def purge(self, dry_run: bool) -> PurgeReport:
        """Delete for good the documents trashed more than `trash_retention_days` ago (a
        `document.purged` event each, by the system) and the blobs no row references any
        more: theirs, and any other unreferenced blob older than the grace period; and the
        partial uploads (a crash mid-upload) not written to for as long.

        With `dry_run`, change nothing and report what would go. A blob is deleted only
        after a fresh check that no row references it, under its lock (`BlobReleaser`)."""
        now = self._clock.now()
        async with self._uow(autocommit=True) as uow:
            retention = await effective_int(uow.settings, "trash_retention_days")
            search_retention = await effective_int(uow.settings, "search_retention_days")
            event_retention = await effective_int(uow.settings, "event_retention_days")
            upload_retention = await effective_int(uow.settings, "upload_retention_days")
            job_log_retention = await effective_int(uow.settings, "job_log_retention_days")
        cutoff = now - timedelta(days=retention)
        if dry_run:
            documents, blobs = await self._trash_dry_run(cutoff)
        else:
            documents, blobs = await self._purge_trash(cutoff)
        blobs += await self._sweep_blobs(dry_run, {b.key for b in blobs})
        blobs += await self._sweep_partial_uploads(dry_run)
        searches = await self._search.purge_logs(dry_run=dry_run)
        expired = await self._expire_events(now - timedelta(days=event_retention), dry_run)
        records = await self._expire_uploads(now - timedelta(days=upload_retention), dry_run)
        job_log = await self._prune_job_log(now - timedelta(days=job_log_retention), dry_run)
        sessions, links = await self._expire_sign_ins(now, dry_run)
        return PurgeReport(
            dry_run=dry_run,
            retention_days=retention,
            cutoff=cutoff,
            documents=documents,
            blobs=blobs,
            search_queries=searches,
            search_retention_days=search_retention,
            events=expired,
            event_retention_days=event_retention,
            uploads=records,
            upload_retention_days=upload_retention,
            job_log=job_log,
            job_log_retention_days=job_log_retention,
            sessions=sessions,
            password_links=links,
        )

    async def enqueue_purge(self) -> bool:
        """Queue a purge as a background job (what the schedule does): True if queued, False
        if one is queued or running already."""
        async with self._uow() as uow:
            queued = await uow.jobs.enqueue(PURGE_JOB, {}, dedupe_key=PURGE_JOB)
            await uow.commit()
        return queued

    async def run_purge_job(self, payload: JsonObject) -> None:
        """The `purge` job: `purge`, and a line in the log of what went."""
        report = await self.purge(dry_run=False)
        log.info(
            "purge: %d document(s) from the trash, %d blob(s) (%d bytes), %d search(es), "
            "%d event(s), %d upload record(s), %d job log entr(ies), %d expired session(s), "
            "%d expired set-password link(s)",
            len(report.documents),
            len(report.blobs),
            report.bytes_freed,
            report.search_queries,
            report.events,
            report.uploads,
            report.job_log,
            report.sessions,
            report.password_links,
        )

    async def _prune_job_log(self, cutoff: datetime, dry_run: bool) -> int:
        """Forget the log of jobs that finished before `cutoff` (pgqueuer keeps it for good
        otherwise)."""
        return await self._in_batches(
            lambda uow, limit, dry: uow.jobs.prune_log(cutoff, limit, dry_run=dry), dry_run
        )

    async def _expire_sign_ins(self, now: datetime, dry_run: bool) -> tuple[int, int]:
        """Forget the web sessions and set-password links that expired by `now`."""
        sessions = await self._in_batches(
            lambda uow, limit, dry: uow.sessions.delete_expired(now, limit, dry_run=dry), dry_run
        )
        links = await self._in_batches(
            lambda uow, limit, dry: uow.password_links.delete_expired(now, limit, dry_run=dry),
            dry_run,
        )
        return sessions, links

    async def _expire_uploads(self, cutoff: datetime, dry_run: bool) -> int:
        """Delete the upload records of attempts started before `cutoff`."""
        return await self._in_batches(
            lambda uow, limit, dry: uow.uploads.delete_before(cutoff, limit, dry_run=dry), dry_run
        )

    async def _expire_events(self, cutoff: datetime, dry_run: bool) -> int:
        """Delete the views, downloads and searches of the audit trail that occurred before
        `cutoff` (`events.EXPIRING`; changes are kept)."""
        return await self._in_batches(
            lambda uow, limit, dry: uow.events.delete_before(
                events.EXPIRING, cutoff, limit, dry_run=dry
            ),
            dry_run,
        )

    async def _in_batches(self, sweep: Sweep, dry_run: bool) -> int:
        """Run a deleting sweep `EVENT_BATCH` rows a unit of work until a batch comes back
        short; how many rows went. A dry run counts (up to `DRY_RUN_LIMIT`) and changes
        nothing."""
        if dry_run:
            async with self._uow(autocommit=True) as uow:
                return await sweep(uow, DRY_RUN_LIMIT, True)
        total = 0
        while True:
            async with self._uow() as uow:
                gone = await sweep(uow, EVENT_BATCH, False)
                await uow.commit()
            total += gone
            if gone < EVENT_BATCH:
                return total

    async def _trash_dry_run(
        self, cutoff: datetime
    ) -> tuple[list[PurgedDocument], list[PurgedBlob]]:
        async with self._uow(autocommit=True) as uow:
            doomed = await uow.documents.trashed_before(cutoff, DRY_RUN_LIMIT)
            per_key = Counter(key for d in doomed for key in _blob_keys(d))
            # A blob goes with its documents only if no other row references it too.
            freed = [
                key for key, n in per_key.items() if await uow.documents.count_referencing(key) == n
            ]
        blobs = []
        for key in sorted(freed):
            size = await self._size(key)
            if size is not None:
                blobs.append(PurgedBlob(key, size, "trash"))
        return [_purged(d) for d in doomed], blobs

    async def _purge_trash(self, cutoff: datetime) -> tuple[list[PurgedDocument], list[PurgedBlob]]:
        ctx = RequestContext.system()
        documents: list[PurgedDocument] = []
        blobs: list[PurgedBlob] = []
        while True:
            now = self._clock.now()
            async with self._uow() as uow:
                batch = await uow.documents.trashed_before(cutoff, self._batch)
                for doc in batch:
                    await uow.documents.purge(doc.id)
                    await uow.events.add(purged_event(ctx, doc, now, "trash retention"))
                await uow.commit()
            documents += [_purged(d) for d in batch]
            for key in sorted({key for d in batch for key in _blob_keys(d)}):
                size = await self._size(key)
                if await self._releaser.release(key) and size is not None:
                    blobs.append(PurgedBlob(key, size, "trash"))
            if len(batch) < self._batch:
                return documents, blobs

    async def _sweep_blobs(self, dry_run: bool, already: set[str]) -> list[PurgedBlob]:
        # Old keys first, references second: a blob re-put (made young) by an upload after
        # the first read is then either young-and-skipped or already referenced.
        old = await self._blobs.keys_older_than(self._grace)
        async with self._uow(autocommit=True) as uow:
            referenced = await uow.documents.storage_keys()
        swept = []
        for key in old:
            if key in referenced or key in already:
                continue
            size = await self._size(key)
            if size is None:
                continue
            if dry_run or await self._releaser.release(key):
                swept.append(PurgedBlob(key, size, "unreferenced"))
        return swept

    async def _sweep_partial_uploads(self, dry_run: bool) -> list[PurgedBlob]:
        # No row ever references a partial upload, so no lock: only its age protects a put
        # still streaming into it (the store refreshes the age on every write).
        swept = []
        for partial in await self._blobs.partial_uploads_older_than(self._grace):
            if not dry_run:
                await self._blobs.delete_partial_upload(partial.name)
            swept.append(PurgedBlob(partial.name, partial.size_bytes, "partial"))
        return swept

    async def _size(self, key: str) -> int | None:
        """The blob's size in bytes (streamed, not held), or None if it is gone."""
        try:
            chunks = await self._blobs.open(key)
            return sum([len(chunk) async for chunk in chunks])
        except NotFound:
            return None


def _purged(doc: Document) -> PurgedDocument:
    assert doc.deleted_at is not None  # trashed_before returns trashed documents only
    return PurgedDocument(doc.id, doc.title, doc.deleted_at, doc.size_bytes)


def _blob_keys(doc: Document) -> list[str]:
    """The blobs a document references: its file, and its thumbnail once made."""
    return [doc.storage_key, *([doc.thumbnail_key] if doc.thumbnail_key else [])]
