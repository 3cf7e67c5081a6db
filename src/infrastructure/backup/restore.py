"""Restoring: what a backup must be to restore here (a known revision, every checksum), the
empty database and blob directory it goes into, `pg_restore` in one transaction, the blobs
copied in, and the migration to head."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import text

from infrastructure.backup.blobs import check_empty_directory, copy_blobs_in
from infrastructure.backup.errors import BackupError
from infrastructure.backup.manifest import (
    BLOBS,
    DUMP,
    Manifest,
    app_version,
    read_manifest,
    verify_files,
)
from infrastructure.backup.snapshot import REFERENCED_KEYS, backup_engine
from infrastructure.backup.tools import libpq_environment, pick_tool, run_tool
from infrastructure.sqlalchemy import migrations


@dataclass(frozen=True, slots=True)
class RestoreReport:
    alembic_revision: str  # the backup's
    migrated: bool  # upgraded to this Archivist's head afterwards
    blobs: int


def known_revision(revision: str) -> bool:
    """Whether this Archivist's migrations know `revision` (a backup from a newer release
    does not restore here)."""
    try:
        return (
            ScriptDirectory.from_config(migrations.alembic_config()).get_revision(revision)
            is not None
        )
    except CommandError:
        return False


async def check_empty_database(database_url: str) -> None:
    """Refuse unless the database has no tables, views, sequences, functions or types of its
    own and no schema but `public`."""
    engine = backup_engine(database_url)
    query = text(
        "SELECT what FROM ("
        " SELECT 'schema ' || nspname AS what FROM pg_namespace"
        "  WHERE nspname NOT IN ('public', 'information_schema') AND nspname NOT LIKE 'pg\\_%'"
        " UNION ALL SELECT 'relation ' || n.nspname || '.' || c.relname FROM pg_class c"
        "  JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
        " UNION ALL SELECT 'function ' || n.nspname || '.' || p.proname FROM pg_proc p"
        "  JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'"
        "  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')"
        " UNION ALL SELECT 'type ' || n.nspname || '.' || t.typname FROM pg_type t"
        "  JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public'"
        "  AND t.typrelid = 0 AND t.typelem = 0"
        "  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')"
        ") found ORDER BY what LIMIT 1"
    )
    try:
        async with engine.connect() as conn:
            found = (await conn.execute(query)).scalar_one_or_none()
            name = (await conn.execute(text("SELECT current_database()"))).scalar_one()
    finally:
        await engine.dispose()
    if found is not None:
        raise BackupError(
            f"the database {name} is not empty ({found}): restore needs an empty database"
        )


def read_restorable(src: Path) -> Manifest:
    """The manifest of the backup in `src` if this Archivist can restore it."""
    manifest = read_manifest(src)
    if not known_revision(manifest.alembic_revision):
        raise BackupError(
            f"the backup is at migration {manifest.alembic_revision}, which this Archivist "
            f"({app_version()}) does not know: restore it with the release that made it "
            f"({manifest.app_version}) or a newer one"
        )
    return manifest


async def verify_backup(src: Path) -> Manifest:
    """`read_restorable`, then `verify_files`: a backup that restores as far as the files go."""
    manifest = read_restorable(src)
    await asyncio.to_thread(verify_files, src, manifest)
    return manifest


async def restore(
    src: Path,
    database_url: str,
    blob_root: Path,
    *,
    pg_bin_dir: Path | None = None,
    verified: Manifest | None = None,
) -> RestoreReport:
    """Restore the backup in `src` into the empty database at `database_url` and the empty
    blob directory `blob_root`, then migrate it to head if it is older. `verified`: the
    manifest `verify_backup` returned for `src` (its files are then not hashed again)."""
    manifest = verified if verified is not None else read_restorable(src)
    await check_empty_database(database_url)
    check_empty_directory(blob_root, "the blob directory")
    dump_major = int(manifest.pg_dump_version.split(".")[0])
    tool = await pick_tool(
        "pg_restore",
        pg_bin_dir,
        dump_major,
        f"the pg_dump that made the backup ({manifest.pg_dump_version})",
    )
    if verified is None:
        await asyncio.to_thread(verify_files, src, manifest)
    env = libpq_environment(database_url)
    await run_tool(
        tool,
        [
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={env['PGDATABASE']}",
            str(src / DUMP),
        ],
        env,
    )
    await _check_blobs_cover(database_url, manifest)
    await asyncio.to_thread(copy_blobs_in, src / BLOBS, blob_root, manifest.blobs)
    migrated = manifest.alembic_revision not in migrations.head_revisions()
    if migrated:
        # Alembic's env runs its own event loop: off this one.
        await asyncio.to_thread(migrations.upgrade, database_url)
    return RestoreReport(manifest.alembic_revision, migrated, len(manifest.blobs))


async def _check_blobs_cover(database_url: str, manifest: Manifest) -> None:
    engine = backup_engine(database_url)
    try:
        async with engine.connect() as conn:
            referenced = {r[0] for r in await conn.execute(REFERENCED_KEYS)}
    finally:
        await engine.dispose()
    absent = sorted(referenced - {b.key for b in manifest.blobs})
    if absent:
        raise BackupError(
            f"the restored documents reference blob {absent[0]}, which the backup does not "
            f"hold ({len(absent)} missing): the backup is incomplete"
        )
