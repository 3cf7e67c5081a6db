"""`BlobStore` on a local directory, content-addressed by SHA-256.

Layout under `root`:

    <root>/ab/cd/abcd…(64 hex)   one file per distinct content, never rewritten
    <root>/.tmp/put-*            uploads in progress (same filesystem, so publishing is atomic);
                                 one a crash interrupted stays until `archivist purge` sweeps it

Atomicity: bytes stream into a temporary file, which is fsynced and then hard-linked to its
final name. `link` fails when the name exists, so a blob is never overwritten and two concurrent
puts of the same bytes both succeed and leave one file; a reader sees either no file or the
whole one. The directory is fsynced after the link so the name survives a crash; only then does
`put` return, which is what lets the caller commit a row that references the key (SPEC §1.6).

Blocking file I/O runs in worker threads (`asyncio.to_thread`). Incoming chunks are batched
into ~1 MiB writes so an upload costs a thread hop per MiB, not per 64 KiB chunk; hashing
happens in the same hop (hashlib releases the GIL on large buffers).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import os
import re
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import BinaryIO, Final

from domain.blobs import PartialUpload, StoredBlob
from domain.errors import NotFound, TooLarge, ValidationFailed
from infrastructure.blobs.keys import blob_key, checked_key

_TMP_DIR: Final = ".tmp"
# What `tempfile.mkstemp(prefix="put-")` names a temporary: only such names are swept.
_PARTIAL_NAME: Final = re.compile(r"put-[A-Za-z0-9_]{1,64}")
# How many bytes are gathered before one thread hop writes (and hashes) them. Measured on a
# 10 MiB put arriving in 64 KiB chunks (best of 30, ext4, fsync stubbed out to isolate the
# hops): 14 ms with a hop per chunk, 10.5 ms with 1 MiB batches, no gain beyond; the real
# fsync then adds ~7 ms either way. A MiB held per upload is a fair price.
_WRITE_BATCH: Final = 1024 * 1024
_READ_BATCH: Final = 1024 * 1024
# Filesystems without hard links (some FUSE and network mounts) answer link() with these.
_NO_LINKS: Final = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV})
# A put of bytes already stored races only with a delete of that blob; a few retries settle it.
_PUBLISH_ATTEMPTS: Final = 5


class FilesystemBlobStore:
    """Blobs as files under `root`; `clock` gives the current time in epoch seconds.

    A blob's age is its file's mtime, which `put` sets from `clock` (also when the bytes were
    already stored: a new reference makes the blob young again, so a sweep cannot delete it
    between `put` and the commit of the row that references it).
    """

    def __init__(self, root: Path, clock: Callable[[], float] = time.time) -> None:
        self._root = Path(root)
        self._tmp = self._root / _TMP_DIR
        self._clock = clock

    @property
    def root(self) -> Path:
        return self._root

    def key_for(self, sha256: str) -> str:
        return blob_key(sha256)

    async def put(
        self, chunks: AsyncIterator[bytes], max_bytes: int, sha256: str | None = None
    ) -> StoredBlob:
        """Stream `chunks` to disk. Raises `TooLarge` as soon as more than `max_bytes` arrived
        and `ValidationFailed` on an empty stream; either way nothing is left behind. With
        `sha256` given the bytes are not hashed again."""
        fd, tmp_name = await asyncio.to_thread(self._new_temporary, self._clock())
        tmp = Path(tmp_name)
        out = os.fdopen(fd, "wb")
        hasher = hashlib.sha256() if sha256 is None else None
        size = 0
        published = False
        try:
            batch: list[bytes] = []
            batched = 0
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(f"file is larger than {max_bytes} bytes")
                batch.append(chunk)
                batched += len(chunk)
                if batched >= _WRITE_BATCH:
                    await asyncio.to_thread(_write, out, hasher, batch, self._clock())
                    batch, batched = [], 0
            if size == 0:
                raise ValidationFailed.on("file", "is empty")
            now = self._clock()
            await asyncio.to_thread(_finish, out, hasher, batch, tmp, now)
            digest = hasher.hexdigest() if hasher is not None else sha256
            assert digest is not None  # one of the two is set
            key = blob_key(digest)
            await asyncio.to_thread(self._publish, tmp, key, now)
            published = True
            return StoredBlob(key=key, sha256=digest, size_bytes=size)
        finally:
            # Synchronous on purpose: this also runs on cancellation, where awaiting a thread
            # could itself be cancelled and leave the temporary file behind.
            out.close()
            if not published:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)

    async def open(self, key: str, chunk_size: int = 64 * 1024) -> AsyncIterator[bytes]:
        """The stored bytes in chunks of `chunk_size`. Raises `NotFound` here, before the first
        chunk, if the key is unknown (so an HTTP response can still answer 404)."""
        path = self._path(key)
        if chunk_size < 1:
            raise ValidationFailed.on("chunk_size", "must be positive")
        if not await asyncio.to_thread(path.is_file):
            raise NotFound("blob", key)
        return self._chunks(path, key, chunk_size)

    async def read(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise NotFound("blob", key) from None

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._path(key).is_file)

    async def delete(self, key: str) -> None:
        """Remove the blob if present. Its directories stay: removing them would race with a
        concurrent `put` that just created them and is about to link into them."""
        path = self._path(key)
        await asyncio.to_thread(path.unlink, missing_ok=True)

    async def keys_older_than(self, seconds: float) -> list[str]:
        """Keys whose file was last put more than `seconds` ago, sorted; temporaries excluded."""
        return await asyncio.to_thread(self._keys_older_than, self._clock() - seconds)

    async def partial_uploads_older_than(self, seconds: float) -> list[PartialUpload]:
        """`put-*` files in `.tmp` whose mtime (the store's clock at their last write) is
        more than `seconds` ago, sorted by name."""
        return await asyncio.to_thread(self._partial_uploads_older_than, self._clock() - seconds)

    async def delete_partial_upload(self, name: str) -> None:
        if _PARTIAL_NAME.fullmatch(name) is None:
            raise ValidationFailed.on("name", "is not the name of a partial upload")
        await asyncio.to_thread((self._tmp / name).unlink, missing_ok=True)

    # -- blocking helpers, run in worker threads --------------------------------------------

    def _path(self, key: str) -> Path:
        return self._root / checked_key(key)

    def _new_temporary(self, now: float) -> tuple[int, str]:
        self._tmp.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="put-", dir=self._tmp)
        os.utime(fd, (now, now))  # ages follow the store's clock, as blobs' do
        return fd, name

    def _partial_uploads_older_than(self, cutoff: float) -> list[PartialUpload]:
        found: list[PartialUpload] = []
        if not self._tmp.is_dir():
            return found
        with os.scandir(self._tmp) as entries:
            for entry in entries:
                if _PARTIAL_NAME.fullmatch(entry.name) is None:
                    continue
                with contextlib.suppress(FileNotFoundError):  # finished or deleted meanwhile
                    if not entry.is_file(follow_symlinks=False):
                        continue
                    info = entry.stat(follow_symlinks=False)
                    if info.st_mtime < cutoff:
                        found.append(PartialUpload(entry.name, info.st_size))
        return sorted(found, key=lambda p: p.name)

    def _publish(self, tmp: Path, key: str, now: float) -> None:
        final = self._root / key
        created = _make_directories(final.parent)
        for _ in range(_PUBLISH_ATTEMPTS):
            try:
                os.link(tmp, final)
                break
            except FileExistsError:
                # The same bytes are already stored (perhaps by a concurrent put): keep that
                # file, but make it young again so a sweep does not take it from the new
                # reference. If a delete removed it just now, link again.
                with contextlib.suppress(FileNotFoundError):
                    os.utime(final, (now, now))
                    break
            except OSError as exc:
                if exc.errno not in _NO_LINKS:
                    raise
                # No hard links here: rename instead. Two racing renames carry identical
                # bytes, so whichever lands last replaces a file with its exact copy.
                os.replace(tmp, final)
                break
        else:
            raise OSError(errno.EAGAIN, "blob kept vanishing while it was stored", str(final))
        _fsync_directory(final.parent)
        for directory in created:
            _fsync_directory(directory.parent)
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()

    async def _chunks(self, path: Path, key: str, chunk_size: int) -> AsyncIterator[bytes]:
        try:
            source = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            # Deleted between the check in `open` and the first chunk (a purge race).
            raise NotFound("blob", key) from None
        try:
            while True:
                # Read at least a MiB per thread hop, then hand it out in the asked-for sizes.
                block = await asyncio.to_thread(source.read, max(chunk_size, _READ_BATCH))
                if not block:
                    return
                view = memoryview(block)
                for start in range(0, len(view), chunk_size):
                    yield bytes(view[start : start + chunk_size])
        finally:
            source.close()

    def _keys_older_than(self, cutoff: float) -> list[str]:
        keys: list[str] = []
        if not self._root.is_dir():
            return keys
        for first in _subdirectories(self._root):
            for second in _subdirectories(first):
                with os.scandir(second) as entries:
                    for entry in entries:
                        key = f"{first.name}/{second.name}/{entry.name}"
                        if not _is_key(key) or not entry.is_file(follow_symlinks=False):
                            continue
                        with contextlib.suppress(FileNotFoundError):  # deleted meanwhile
                            if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                                keys.append(key)
        return sorted(keys)


def _write(
    out: BinaryIO, hasher: hashlib._Hash | None, batch: list[bytes], now: float | None = None
) -> None:
    data = b"".join(batch)
    if hasher is not None:
        hasher.update(data)
    out.write(data)
    if now is not None:  # a partial upload's age counts from its last write
        os.utime(out.fileno(), (now, now))


def _finish(
    out: BinaryIO, hasher: hashlib._Hash | None, batch: list[bytes], tmp: Path, now: float
) -> None:
    _write(out, hasher, batch)
    out.flush()
    # The mtime is set before fsync so the blob's age is as durable as its bytes.
    os.utime(tmp, (now, now))
    os.fsync(out.fileno())


def _make_directories(leaf: Path) -> list[Path]:
    """Create `leaf` and its parent (the two shard levels; the root exists), returning the
    directories that were new."""
    created: list[Path] = []
    for directory in (leaf.parent, leaf):
        try:
            directory.mkdir()
            created.append(directory)
        except FileExistsError:
            pass
    return created


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _subdirectories(parent: Path) -> list[Path]:
    with os.scandir(parent) as entries:
        return [
            Path(entry.path)
            for entry in entries
            if len(entry.name) == 2 and entry.is_dir(follow_symlinks=False)
        ]


def _is_key(key: str) -> bool:
    try:
        checked_key(key)
    except ValidationFailed:
        return False
    return True
