"""`archivist backup DEST` and `archivist restore SRC` (what they do: docs/operations.md; how:
the package `infrastructure/backup/`). The parser is built at start; everything heavy is
imported once one of them runs (see main.py)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from infrastructure.config import AppSettings

# What an embedded data directory may already hold for a restore: an empty database and an
# empty blob directory (a restore that failed half-way can be run again), nothing else.
_RESTORABLE_DATA_DIR = frozenset({"pgdata", "blobs"})


def add_backup_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    made = sub.add_parser(
        "backup",
        help="write a consistent backup (database and files) into an empty directory",
        description="Write a backup while the service runs: a pg_dump of the database, the "
        "files its documents reference, and manifest.json with every file's SHA-256. DEST "
        "must not exist or be empty.",
    )
    made.add_argument("dest", type=Path, metavar="DEST")
    made.set_defaults(func="interfaces.cli.backup:cmd_backup")
    back = sub.add_parser(
        "restore",
        help="restore a backup into an empty database and blob directory",
        description="Verify every checksum of the backup in SRC, restore its database into an "
        "empty one (DATABASE_URL, or a new embedded server in an empty ARCHIVIST_DATA_DIR), "
        "copy its files into an empty blob directory, and migrate to this release's schema.",
    )
    back.add_argument("src", type=Path, metavar="SRC")
    back.set_defaults(func="interfaces.cli.backup:cmd_restore")


def _fail(command: str, message: str, status: int = 1) -> int:
    print(f"archivist {command}: {message}", file=sys.stderr)
    return status


def _postgres_settings(command: str) -> AppSettings | int:
    from infrastructure.config import AppSettings

    settings = AppSettings()
    if settings.storage == "memory":
        return _fail(command, "needs PostgreSQL storage (memory storage keeps nothing)", 2)
    return settings


def cmd_backup(args: argparse.Namespace) -> int:
    from infrastructure.backup import BackupError, backup
    from infrastructure.sqlalchemy.embedded import resolve_database_url

    settings = _postgres_settings("backup")
    if isinstance(settings, int):
        return settings
    # Never creates an embedded database: none there is `NoDatabase`, which `main` reports.
    url = resolve_database_url(
        settings.database_url, settings.data_dir, settings.embedded_shared_buffers, create=False
    )
    try:
        report = asyncio.run(
            backup(url, settings.blobs_path, args.dest, pg_bin_dir=settings.pg_bin_dir)
        )
    except BackupError as err:
        return _fail("backup", str(err))
    except Exception as err:  # the database or a file: one line, no traceback
        return _fail("backup", _one_line(err, url))
    print(
        f"Backed up to {report.dest}: database at migration {report.alembic_revision} "
        f"({report.dump_bytes} bytes), {report.blobs} blob(s) ({report.blob_bytes} bytes)"
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from infrastructure.backup import BackupError, check_empty_directory, restore, verify_backup
    from infrastructure.sqlalchemy.embedded import start_embedded

    settings = _postgres_settings("restore")
    if isinstance(settings, int):
        return settings
    url: str | None = settings.database_url
    try:
        if settings.database_url is None:
            data_dir = settings.data_dir.expanduser().resolve()
            _check_restorable_data_dir(data_dir)
            check_empty_directory(settings.blobs_path, "the blob directory")
        # Everything is checked before an embedded server is created for the restore.
        manifest = asyncio.run(verify_backup(args.src))
        url = url or start_embedded(
            settings.data_dir / "pgdata", shared_buffers=settings.embedded_shared_buffers
        )
        report = asyncio.run(
            restore(
                args.src,
                url,
                settings.blobs_path,
                pg_bin_dir=settings.pg_bin_dir,
                verified=manifest,
            )
        )
    except BackupError as err:
        return _fail("restore", str(err))
    except Exception as err:  # the database or a file: one line, no traceback
        return _fail("restore", _one_line(err, url))
    then = ", then migrated to this release's schema" if report.migrated else ""
    print(
        f"Restored {args.src}: database at migration {report.alembic_revision}{then}; "
        f"{report.blobs} blob(s) into {settings.blobs_path}"
    )
    return 0


def _check_restorable_data_dir(data_dir: Path) -> None:
    from infrastructure.backup import BackupError

    if data_dir.exists() and not data_dir.is_dir():
        raise BackupError(f"the data directory {data_dir} is not a directory")
    others = sorted(p.name for p in data_dir.iterdir()) if data_dir.exists() else []
    others = [name for name in others if name not in _RESTORABLE_DATA_DIR]
    if others:
        raise BackupError(
            f"the data directory {data_dir} is not empty (it holds {others[0]}): restore "
            "needs an empty one (set ARCHIVIST_DATA_DIR or move it away)"
        )


def _one_line(err: BaseException, url: str | None) -> str:
    """The error in one line: the driver's message for a database failure (with the URL, its
    password masked), the file's for a file error; no traceback."""
    from sqlalchemy.exc import DBAPIError

    from infrastructure.sqlalchemy.engine import safe_url

    cause = getattr(err, "orig", None) or err
    lines = str(getattr(cause, "__cause__", None) or cause).strip().splitlines()
    detail = lines[0] if lines else type(cause).__name__
    # asyncpg's own errors come wrapped by SQLAlchemy; a refused connection is an OSError
    # without a file name.
    if url is not None and (
        isinstance(err, DBAPIError) or (isinstance(err, OSError) and err.filename is None)
    ):
        return f"cannot use the database {safe_url(url)}: {detail}"
    if isinstance(err, OSError):
        return detail
    return f"{type(cause).__name__}: {detail}"
