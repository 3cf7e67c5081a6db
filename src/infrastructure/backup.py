"""Backing an archive up (`archivist backup DEST`) and restoring one (`archivist restore SRC`).

A backup is a directory:

    database.dump            `pg_dump --format=custom` of the database
    blobs/ab/cd/<sha256>     every blob the dumped rows reference (documents' files, thumbnails)
    manifest.json            written last: versions, the Alembic revision, and every file
                             with its size and SHA-256 (a directory without it is unfinished)

**Consistent while the service runs.** One REPEATABLE READ transaction exports its snapshot
(`pg_export_snapshot()`), reads the blob keys the documents reference, and stays open while
`pg_dump --snapshot=…` dumps exactly what that transaction sees: the key list and the dump
agree. Blobs are stored before the row that references them commits and are never rewritten,
so every key of the snapshot has its complete file when the snapshot is taken.

Only a purge deletes blobs, and only once no committed row references them (`BlobReleaser`),
which a snapshot does not prevent: a document in the snapshot can be purged, and its blob
deleted, before the blob is copied. So the bulk of the copy comes first, outside any
transaction (the blobs referenced at that moment); then the snapshot is taken and the few
blobs referenced since are copied at once, before the dump, while the snapshot is
milliseconds old (copies of blobs purged meanwhile are dropped). If one of those is gone
already, its documents were purged after the snapshot: the dump would hold a document without
its file, so the backup takes a new snapshot instead, keeping what it copied (content-
addressed, so still right), up to `ATTEMPTS` times. A missing blob that a committed row still
references is a damaged store: refused, naming the key. Bytes are hashed while copied, and a
file whose SHA-256 is not its key's is refused too.

**Restore** goes only into an empty database and an empty blob directory. It reads the
manifest, checks that this Archivist knows the backup's revision, verifies every checksum
(refusing on the first mismatch, naming the file), runs `pg_restore --single-transaction`
(so a failure leaves the database empty), checks that the manifest holds every blob the
restored rows reference, copies the blobs in, and migrates to head if the backup is older.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Final

from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import pool, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from domain.errors import ValidationFailed
from infrastructure.blobs.keys import checked_key
from infrastructure.sqlalchemy import migrations
from infrastructure.sqlalchemy.engine import async_url

log = logging.getLogger("archivist.backup")

FORMAT: Final = "archivist-backup"
FORMAT_VERSION: Final = 1
MANIFEST: Final = "manifest.json"
DUMP: Final = "database.dump"
BLOBS: Final = "blobs"
# Snapshots taken before giving up when documents keep being purged during the copy.
ATTEMPTS: Final = 5
_CHUNK: Final = 1024 * 1024
_VERSION: Final = re.compile(r"\(PostgreSQL\) (\d+)(?:\.(\d+))?")
# The connection-target variables of libpq, replaced by the URL's (others, such as PGPASSFILE
# or PGSSLROOTCERT, are the operator's to set and pass through).
_LIBPQ_TARGET: Final = (
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGUSER",
    "PGPASSWORD",
    "PGDATABASE",
    "PGSERVICE",
    "PGSSLMODE",
)
_REFERENCED_KEYS: Final = text(
    "SELECT storage_key FROM documents "
    "UNION SELECT thumbnail_key FROM documents WHERE thumbnail_key IS NOT NULL"
)


class BackupError(Exception):
    """A refusal or a failure of backup or restore; its message is one line for the operator."""


@dataclass(frozen=True, slots=True)
class PgTool:
    path: Path
    version: str  # "16.2"

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])


@dataclass(frozen=True, slots=True)
class BlobEntry:
    key: str
    size_bytes: int
    sha256: str


@dataclass(frozen=True, slots=True)
class BackupReport:
    dest: Path
    alembic_revision: str
    blobs: int
    blob_bytes: int
    dump_bytes: int
    snapshots: int  # 1 unless documents were purged during the backup


@dataclass(frozen=True, slots=True)
class RestoreReport:
    alembic_revision: str  # the backup's
    migrated: bool  # upgraded to this Archivist's head afterwards
    blobs: int


@dataclass(frozen=True, slots=True)
class Manifest:
    app_version: str
    alembic_revision: str
    created_at: str
    server_version: str
    pg_dump_version: str
    dump_size_bytes: int
    dump_sha256: str
    blobs: tuple[BlobEntry, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "app_version": self.app_version,
            "alembic_revision": self.alembic_revision,
            "created_at": self.created_at,
            "postgresql": {
                "server_version": self.server_version,
                "pg_dump_version": self.pg_dump_version,
            },
            "database": {
                "file": DUMP,
                "size_bytes": self.dump_size_bytes,
                "sha256": self.dump_sha256,
            },
            "blobs": [
                {"key": b.key, "size_bytes": b.size_bytes, "sha256": b.sha256} for b in self.blobs
            ],
        }

    @classmethod
    def from_json(cls, data: object) -> Manifest:
        """The manifest in `data`, or `BackupError` if it is not one this Archivist reads."""
        try:
            assert isinstance(data, dict)
            if data.get("format") != FORMAT:
                raise BackupError(f"{MANIFEST} is not an Archivist backup manifest")
            if data.get("format_version") != FORMAT_VERSION:
                raise BackupError(
                    f"backup format version {data.get('format_version')!r} is not "
                    f"{FORMAT_VERSION}, the one this Archivist reads"
                )
            database, postgresql = data["database"], data["postgresql"]
            if database["file"] != DUMP:
                raise BackupError(f"{MANIFEST} names a database file other than {DUMP}")
            blobs = tuple(
                BlobEntry(checked_key(b["key"]), _count(b["size_bytes"]), _digest(b["sha256"]))
                for b in data["blobs"]
            )
            return cls(
                app_version=str(data["app_version"]),
                alembic_revision=_text(data["alembic_revision"]),
                created_at=_text(data["created_at"]),
                server_version=_text(postgresql["server_version"]),
                pg_dump_version=_version(postgresql["pg_dump_version"]),
                dump_size_bytes=_count(database["size_bytes"]),
                dump_sha256=_digest(database["sha256"]),
                blobs=blobs,
            )
        except (AssertionError, KeyError, TypeError, ValueError, ValidationFailed) as err:
            raise BackupError(f"{MANIFEST} is malformed ({type(err).__name__}: {err})") from None


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{value!r} is not a non-empty string")
    return value


def _version(value: object) -> str:
    if not isinstance(value, str) or re.fullmatch(r"\d{1,4}(\.\d{1,4})?", value) is None:
        raise ValueError(f"{value!r} is not a PostgreSQL version")
    return value


def _count(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{value!r} is not a size")
    return value


def _digest(value: object) -> str:
    if not isinstance(value, str) or re.fullmatch(r"[0-9a-f]{64}", value) is None:
        raise ValueError(f"{value!r} is not a SHA-256")
    return value


# --- PostgreSQL client tools -----------------------------------------------------------------


def bundled_bin_dir() -> Path | None:
    """The bin directory of the PostgreSQL 16 that the pgserver package ships (found without
    importing pgserver, which starts nothing but warns about XDG_RUNTIME_DIR)."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or spec.origin is None:
        return None
    found = Path(spec.origin).parent / "pginstall" / "bin"
    return found if found.is_dir() else None


def tool_candidates(name: str, bin_dir: Path | None) -> list[Path]:
    """`bin_dir/name` when a bin directory is configured; otherwise the one on PATH and the
    embedded server's own, whichever exist."""
    if bin_dir is not None:
        return [bin_dir / name]
    found = [Path(p) for p in [shutil.which(name)] if p is not None]
    bundled = bundled_bin_dir()
    if bundled is not None and (bundled / name).is_file():
        found.append(bundled / name)
    return found


async def tool_version(path: Path) -> PgTool | None:
    """`path --version` as a `PgTool`; None if it does not run or does not say."""
    try:
        process = await asyncio.create_subprocess_exec(
            str(path),
            "--version",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        out, _ = await process.communicate()
    except OSError:
        return None
    found = _VERSION.search(out.decode(errors="replace"))
    if process.returncode != 0 or found is None:
        return None
    return PgTool(path, ".".join(g for g in found.groups() if g is not None))


def check_tool(tool: PgTool, at_least: int, against: str) -> PgTool:
    """`tool` if its major version is at least `at_least`, else a `BackupError` saying what
    to do (pg_dump cannot dump a newer server; pg_restore cannot read a newer pg_dump's
    archive)."""
    if tool.major < at_least:
        raise BackupError(
            f"{tool.path.name} {tool.version} ({tool.path}) is older than {against}: set "
            f"ARCHIVIST_PG_BIN_DIR to the bin directory of PostgreSQL {at_least} or newer"
        )
    return tool


async def pick_tool(name: str, bin_dir: Path | None, at_least: int, against: str) -> PgTool:
    """The newest usable `name` among `tool_candidates`, checked by `check_tool`."""
    candidates = tool_candidates(name, bin_dir)
    tools = [t for t in [await tool_version(p) for p in candidates] if t is not None]
    if not tools:
        where = f"in {bin_dir}" if bin_dir is not None else "on PATH or in the pgserver package"
        raise BackupError(
            f"no working {name} {where}: install the PostgreSQL client tools or set "
            "ARCHIVIST_PG_BIN_DIR"
        )
    return check_tool(max(tools, key=lambda t: t.major), at_least, against)


def libpq_environment(database_url: str) -> dict[str, str]:
    """This process's environment with the database's connection target as libpq variables:
    the password travels in PGPASSWORD, never on a command line others can read."""
    url: URL = async_url(database_url)
    env = {k: v for k, v in os.environ.items() if k not in _LIBPQ_TARGET}

    def query(name: str) -> str | None:
        value = url.query.get(name)
        if isinstance(value, tuple):
            value = value[0] if value else None
        return value

    host = query("host") or url.host
    target = {
        "PGHOST": host,
        "PGPORT": str(url.port) if url.port else query("port"),
        "PGUSER": url.username,
        "PGPASSWORD": url.password,
        "PGDATABASE": url.database,
        "PGSSLMODE": _sslmode(query("sslmode") or query("ssl")),
    }
    env.update({k: str(v) for k, v in target.items() if v})
    env["PGAPPNAME"] = "archivist-backup"
    return env


def _sslmode(value: str | None) -> str | None:
    if value is None:
        return None
    return {"true": "require", "false": "disable"}.get(value.lower(), value)


async def _run(tool: PgTool, args: Iterable[str], env: dict[str, str]) -> None:
    """Run `tool` with `args`; `BackupError` with its first error line if it fails. Cancelled,
    the process is killed rather than left running."""
    process = await asyncio.create_subprocess_exec(
        str(tool.path),
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await process.communicate()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        raise
    if process.returncode != 0:
        lines = [line.strip() for line in err.decode(errors="replace").splitlines()]
        errors = [line for line in lines if "error" in line.lower()] or lines or ["no output"]
        raise BackupError(f"{tool.path.name} failed (exit {process.returncode}): {errors[0]}")


# --- backup ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Snapshot:
    id: str
    keys: frozenset[str]
    revision: str
    created_at: datetime
    server_version: str
    server_major: int


def _engine(database_url: str) -> AsyncEngine:
    return create_async_engine(
        async_url(database_url),
        poolclass=pool.NullPool,
        connect_args={"server_settings": {"application_name": "archivist-backup"}},
    )


@asynccontextmanager
async def _snapshot(database_url: str) -> AsyncIterator[_Snapshot]:
    """A read-only REPEATABLE READ transaction whose exported snapshot stays importable
    (by `pg_dump --snapshot`) for the block."""
    engine = _engine(database_url)
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
            async with conn.begin():
                # The first statement fixes the transaction's snapshot: the export, so the
                # reads below and the dump all see the same one.
                snapshot_id = (await conn.execute(text("SELECT pg_export_snapshot()"))).scalar_one()
                yield await _read_snapshot(conn, str(snapshot_id))
    finally:
        await engine.dispose()


async def _read_snapshot(conn: AsyncConnection, snapshot_id: str) -> _Snapshot:
    row = (
        await conn.execute(
            text(
                "SELECT now(), current_setting('server_version'), "
                "current_setting('server_version_num')::int, "
                "to_regclass('public.alembic_version') IS NOT NULL, "
                "to_regclass('public.documents') IS NOT NULL"
            )
        )
    ).one()
    created_at, server_version, version_num, has_revision, has_documents = row
    if not (has_revision and has_documents):
        raise BackupError(
            "the database is not an Archivist database (no alembic_version or documents "
            "table): run 'archivist migrate upgrade' or check DATABASE_URL"
        )
    revisions = [r[0] for r in await conn.execute(text("SELECT version_num FROM alembic_version"))]
    if len(revisions) != 1:
        raise BackupError(f"the database has {len(revisions)} Alembic revisions, not one")
    keys = frozenset(r[0] for r in await conn.execute(_REFERENCED_KEYS))
    return _Snapshot(
        snapshot_id,
        keys,
        revisions[0],
        created_at,
        str(server_version).split()[0],
        int(version_num) // 10000,
    )


def check_empty_directory(path: Path, what: str) -> None:
    """Refuse unless `path` is absent or an empty directory."""
    if not path.exists():
        return
    if not path.is_dir():
        raise BackupError(f"{what} {path} is not a directory")
    if any(path.iterdir()):
        raise BackupError(f"{what} {path} is not empty")


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
    await _copy_blobs(blob_root, blobs_dest, await _referenced_now(database_url), copied)
    if checkpoint is not None:
        await checkpoint("copied")
    tool: PgTool | None = None
    for attempt in range(1, attempts + 1):
        async with _snapshot(database_url) as snap:
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
            missing = await _copy_blobs(blob_root, blobs_dest, snap.keys - copied.keys(), copied)
            if not missing:
                dump = ["--format=custom", "--no-password", f"--snapshot={snap.id}"]
                await _run(tool, [*dump, f"--file={dest / DUMP}"], env)
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
    dump_size, dump_sha256 = await asyncio.to_thread(_hash_file, dest / DUMP)
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
    await asyncio.to_thread(_write_manifest, dest, manifest)
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


async def _referenced_now(database_url: str) -> frozenset[str]:
    engine = _engine(database_url)
    try:
        async with engine.connect() as conn:
            if (await conn.execute(text("SELECT to_regclass('public.documents')"))).scalar():
                return frozenset(r[0] for r in await conn.execute(_REFERENCED_KEYS))
            return frozenset()  # not an Archivist database: the snapshot says so
    finally:
        await engine.dispose()


async def _copy_blobs(
    root: Path, dest_root: Path, keys: Iterable[str], copied: dict[str, BlobEntry]
) -> list[str]:
    """Copy `keys` (recording each in `copied`); the keys whose file is gone, sorted."""
    missing: list[str] = []
    for key in sorted(keys):
        entry = await asyncio.to_thread(_copy_blob, root, dest_root, key)
        if entry is None:
            missing.append(key)
        else:
            copied[key] = entry
    return missing


async def _refuse_damaged(database_url: str, blob_root: Path, missing: list[str]) -> None:
    """Refuse if a missing blob is referenced now and its file is still absent: a committed
    row always has its blob (bytes before rows), so the store has lost it."""
    engine = _engine(database_url)
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


def _copy_blob(root: Path, dest_root: Path, key: str) -> BlobEntry | None:
    """Copy the blob `key` from `root` to `dest_root`, hashing it on the way; None if it is
    gone. Once open, a file deleted meanwhile still reads whole (POSIX unlink)."""
    try:
        source = (root / checked_key(key)).open("rb")
    except FileNotFoundError:
        return None
    target = dest_root / key
    target.parent.mkdir(parents=True, exist_ok=True)
    hasher = hashlib.sha256()
    size = 0
    with source, target.open("wb") as out:
        while chunk := source.read(_CHUNK):
            hasher.update(chunk)
            out.write(chunk)
            size += len(chunk)
    digest = hasher.hexdigest()
    if digest != key.rsplit("/", 1)[1]:
        target.unlink()
        raise BackupError(
            f"the blob {key} in {root} does not match its SHA-256: the stored file is damaged"
        )
    return BlobEntry(key, size, digest)


def _hash_file(path: Path) -> tuple[int, str]:
    hasher = hashlib.sha256()
    size = 0
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK):
            hasher.update(chunk)
            size += len(chunk)
    return size, hasher.hexdigest()


def _write_manifest(dest: Path, manifest: Manifest) -> None:
    """Make everything durable, then publish the manifest atomically: a backup directory
    with a manifest is complete."""
    os.sync()
    partial = dest / (MANIFEST + ".partial")
    with partial.open("w", encoding="utf-8") as out:
        json.dump(manifest.to_json(), out, indent=2)
        out.write("\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, dest / MANIFEST)
    fd = os.open(dest, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def app_version() -> str:
    try:
        return metadata.version("archivist")
    except metadata.PackageNotFoundError:
        return "unknown"


# --- restore ---------------------------------------------------------------------------------


def read_manifest(src: Path) -> Manifest:
    path = src / MANIFEST
    if not src.is_dir():
        raise BackupError(f"{src} is not a directory")
    if not path.is_file():
        raise BackupError(
            f"{src} has no {MANIFEST}: not an Archivist backup, or one that did not finish"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BackupError(f"{path} is not JSON ({err})") from None
    return Manifest.from_json(data)


def verify_files(src: Path, manifest: Manifest) -> None:
    """Every file the manifest lists exists with its size and SHA-256 (and every blob's
    SHA-256 is its key's); `BackupError` naming the first that does not."""
    files = [(Path(DUMP), manifest.dump_size_bytes, manifest.dump_sha256)]
    files += [(Path(BLOBS) / b.key, b.size_bytes, b.sha256) for b in manifest.blobs]
    for entry in manifest.blobs:
        if entry.sha256 != entry.key.rsplit("/", 1)[1]:
            raise BackupError(f"{MANIFEST} lists blob {entry.key} with another SHA-256")
    for relative, size, sha256 in files:
        path = src / relative
        if not path.is_file():
            raise BackupError(f"{path} is missing from the backup")
        if path.stat().st_size != size:
            raise BackupError(
                f"{path} has {path.stat().st_size} bytes, the manifest says {size}: "
                "the backup is damaged"
            )
        if _hash_file(path)[1] != sha256:
            raise BackupError(f"{path} does not match its SHA-256 in the manifest: damaged")


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
    engine = _engine(database_url)
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
    await _run(
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
    await asyncio.to_thread(_copy_blobs_in, src / BLOBS, blob_root, manifest.blobs)
    migrated = manifest.alembic_revision not in migrations.head_revisions()
    if migrated:
        # Alembic's env runs its own event loop: off this one.
        await asyncio.to_thread(migrations.upgrade, database_url)
    return RestoreReport(manifest.alembic_revision, migrated, len(manifest.blobs))


async def _check_blobs_cover(database_url: str, manifest: Manifest) -> None:
    engine = _engine(database_url)
    try:
        async with engine.connect() as conn:
            referenced = {r[0] for r in await conn.execute(_REFERENCED_KEYS)}
    finally:
        await engine.dispose()
    absent = sorted(referenced - {b.key for b in manifest.blobs})
    if absent:
        raise BackupError(
            f"the restored documents reference blob {absent[0]}, which the backup does not "
            f"hold ({len(absent)} missing): the backup is incomplete"
        )


def _copy_blobs_in(source: Path, root: Path, blobs: Iterable[BlobEntry]) -> None:
    """Copy the blobs into the store's layout, each under a temporary name then renamed (a
    crash leaves no half file under a key), and make them durable with one sync at the end."""
    for entry in blobs:
        target = root / entry.key
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".restoring")
        shutil.copyfile(source / entry.key, partial)
        os.replace(partial, target)
    os.sync()
