"""A backup's layout and its manifest: the names of its files, `Manifest` and its JSON form,
writing it last and durably, reading it back, and verifying the files it lists."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Final

from domain.errors import ValidationFailed
from infrastructure.backup.blobs import BlobEntry, hash_file
from infrastructure.backup.errors import BackupError
from infrastructure.blobs.keys import checked_key

FORMAT: Final = "archivist-backup"
FORMAT_VERSION: Final = 1
MANIFEST: Final = "manifest.json"
DUMP: Final = "database.dump"
BLOBS: Final = "blobs"


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


def app_version() -> str:
    try:
        return metadata.version("archivist")
    except metadata.PackageNotFoundError:
        return "unknown"


def write_manifest(dest: Path, manifest: Manifest) -> None:
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
        if hash_file(path)[1] != sha256:
            raise BackupError(f"{path} does not match its SHA-256 in the manifest: damaged")
