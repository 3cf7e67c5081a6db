"""The files of a backup: blobs copied out of the store and back in, hashed on the way
(`BlobEntry`: a copied blob, as the manifest lists it), any file's size and SHA-256, and the
empty-directory check of a backup's destination and a restore's blob directory."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from infrastructure.backup.errors import BackupError
from infrastructure.blobs.keys import checked_key

_CHUNK: Final = 1024 * 1024


@dataclass(frozen=True, slots=True)
class BlobEntry:
    key: str
    size_bytes: int
    sha256: str


def check_empty_directory(path: Path, what: str) -> None:
    """Refuse unless `path` is absent or an empty directory."""
    if not path.exists():
        return
    if not path.is_dir():
        raise BackupError(f"{what} {path} is not a directory")
    if any(path.iterdir()):
        raise BackupError(f"{what} {path} is not empty")


async def copy_blobs(
    root: Path, dest_root: Path, keys: Iterable[str], copied: dict[str, BlobEntry]
) -> list[str]:
    """Copy `keys` (recording each in `copied`); the keys whose file is gone, sorted."""
    missing: list[str] = []
    for key in sorted(keys):
        entry = await asyncio.to_thread(copy_blob, root, dest_root, key)
        if entry is None:
            missing.append(key)
        else:
            copied[key] = entry
    return missing


def copy_blob(root: Path, dest_root: Path, key: str) -> BlobEntry | None:
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


def hash_file(path: Path) -> tuple[int, str]:
    hasher = hashlib.sha256()
    size = 0
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK):
            hasher.update(chunk)
            size += len(chunk)
    return size, hasher.hexdigest()


def copy_blobs_in(source: Path, root: Path, blobs: Iterable[BlobEntry]) -> None:
    """Copy the blobs into the store's layout, each under a temporary name then renamed (a
    crash leaves no half file under a key), and make them durable with one sync at the end."""
    for entry in blobs:
        target = root / entry.key
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".restoring")
        shutil.copyfile(source / entry.key, partial)
        os.replace(partial, target)
    os.sync()
