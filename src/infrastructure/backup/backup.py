"""Backing up: the blobs copied first, then a snapshot, the blobs referenced since, the dump
of that snapshot, and the manifest last (the package's docstring says why in that order)."""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Final

from sqlalchemy import text

from infrastructure.backup.blobs import BlobEntry, check_empty_directory, copy_blobs, hash_file
from infrastructure.backup.errors import BackupError
from infrastructure.backup.manifest import (
    BLOBS,
    DUMP,
    Manifest,
    app_version,
    write_manifest,
)
from infrastructure.backup.snapshot import backup_engine, referenced_now, snapshot
from infrastructure.backup.tools import PgTool, libpq_environment, pick_tool, run_tool

log = logging.getLogger("archivist.backup")

# Snapshots taken before giving up when documents keep being purged during the copy.
ATTEMPTS: Final = 5


@dataclass(frozen=True, slots=True)
class BackupReport:
    dest: Path
    alembic_revision: str
    blobs: int
    blob_bytes: int
    dump_bytes: int
    snapshots: int  # 1 unless documents were purged during the backup


async def backup(
    database_url: str,
    blob_root: Path,
    dest: Path,
    *,
    pg_bin_dir: Path | None = None,
    attempts: int = ATTEMPTS,
    checkpoint: Callable[[str], Awaitable[None]] | None = None,
) -> BackupReport:
    """Write a backup of the database at `database_url` and the blobs under `blob_root` into
    `dest` (absent or empty). `checkpoint` is awaited with "copied" after the first copy and
    with "snapshot" once each snapshot is taken (the tests upload and purge there)."""
    created = await asyncio.to_thread(_prepare_destination, dest)
    try:
        return await _back_up(database_url, blob_root, dest, pg_bin_dir, attempts, checkpoint)
    except BaseException:
        # Everything in `dest` is this backup's (it was empty): leave no half backup behind.
        # Synchronous, so a cancellation cannot interrupt it.
        _clear_destination(dest, created)
        raise


async def _back_up(
    database_url: str,
    blob_root: Path,
    dest: Path,
    pg_bin_dir: Path | None,
    attempts: int,
    checkpoint: Callable[[str], Awaitable[None]] | None,
) -> BackupReport:
    blobs_dest = dest / BLOBS
    env = libpq_environment(database_url)
    copied: dict[str, BlobEntry] = {}
    # The bulk of the copy, outside any transaction: what is referenced now.
    await copy_blobs(blob_root, blobs_dest, await referenced_now(database_url), copied)
    if checkpoint is not None:
        await checkpoint("copied")
    tool: PgTool | None = None
    for attempt in range(1, attempts + 1):
        async with snapshot(database_url) as snap:
            if checkpoint is not None:
                await checkpoint("snapshot")
            if tool is None:
                tool = await pick_tool(
                    "pg_dump",
                    pg_bin_dir,
                    snap.server_major,
                    f"the database server (PostgreSQL {snap.server_version})",
                )
            for key in sorted(copied.keys() - snap.keys):  # purged since they were copied
                (blobs_dest / key).unlink()
                del copied[key]
            # Only what arrived since the first copy is left: copied at once, while the
            # snapshot is young, so a purge has little time to take a blob first.
            missing = await copy_blobs(blob_root, blobs_dest, snap.keys - copied.keys(), copied)
            if not missing:
                dump = ["--format=custom", "--no-password", f"--snapshot={snap.id}"]
                await run_tool(tool, [*dump, f"--file={dest / DUMP}"], env)
                break
        await _refuse_damaged(database_url, blob_root, missing)
        log.info(
            "%d blob(s) of the snapshot were purged before they were copied; taking a new "
            "snapshot (attempt %d of %d)",
            len(missing),
            attempt + 1,
            attempts,
        )
    else:
        raise BackupError(
            f"documents kept being purged while their files were copied ({attempts} "
            "snapshots): run the backup again"
        )
    assert tool is not None
    dump_size, dump_sha256 = await asyncio.to_thread(hash_file, dest / DUMP)
    manifest = Manifest(
        app_version=app_version(),
        alembic_revision=snap.revision,
        created_at=snap.created_at.astimezone(UTC).isoformat(),
        server_version=snap.server_version,
        pg_dump_version=tool.version,
        dump_size_bytes=dump_size,
        dump_sha256=dump_sha256,
        blobs=tuple(copied[k] for k in sorted(copied)),
    )
    await asyncio.to_thread(write_manifest, dest, manifest)
    return BackupReport(
        dest=dest,
        alembic_revision=snap.revision,
        blobs=len(copied),
        blob_bytes=sum(b.size_bytes for b in copied.values()),
        dump_bytes=dump_size,
        snapshots=attempt,
    )


def _prepare_destination(dest: Path) -> bool:
    """Check `dest` is absent or empty and make it; True if it was made."""
    check_empty_directory(dest, "the backup destination")
    created = not dest.exists()
    dest.mkdir(parents=True, exist_ok=True)
    return created


def _clear_destination(dest: Path, created: bool) -> None:
    if created:
        shutil.rmtree(dest, ignore_errors=True)
        return
    for entry in dest.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


async def _refuse_damaged(database_url: str, blob_root: Path, missing: list[str]) -> None:
    """Refuse if a missing blob is referenced now and its file is still absent: a committed
    row always has its blob (bytes before rows), so the store has lost it."""
    engine = backup_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT k FROM unnest(CAST(:keys AS text[])) AS k WHERE EXISTS "
                    "(SELECT FROM documents d WHERE d.storage_key = k OR d.thumbnail_key = k)"
                ),
                {"keys": missing},
            )
            referenced = sorted(r[0] for r in rows)
    finally:
        await engine.dispose()
    lost = [k for k in referenced if not (blob_root / k).is_file()]
    if lost:
        raise BackupError(
            f"the blob {lost[0]} of a document is missing from {blob_root} "
            f"({len(lost)} missing): the blob store is damaged"
        )
