"""The consume folder's watcher (issue #12 item 7; docs/decisions.md, "Consume folder").

Runs beside the job worker (`archivist worker`, or `archivist serve`'s in-process workers).
It consumes only while it holds the `ConsumerLease` (one consumer per database; the others
try again every `lease_retry_seconds`). Holding it, it scans the folder for files left
behind, then watches it with watchfiles (and scans again every `rescan_seconds`, in case an
event was missed). A file is consumed once its size and mtime have not changed for
`settle_seconds`; dotfiles, files in dot-folders and partial downloads (`.part`,
`.crdownload`, ...) are left alone, and so are reason files, `done/` and `failed/`. After
`DocumentConsumer.consume` (its unit of work committed), the file is moved to `done/` or
`failed/` (with `<name>.reason.txt`), keeping its sub-folders; a name taken there gets a
` (1)`, ` (2)`, ... suffix. Files are consumed one at a time."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from watchfiles import Change, awatch

from application.consume import (
    ConsumeResult,
    ConsumerLease,
    ConsumeUserUnknown,
    DocumentConsumer,
    Verdict,
)
from domain.users import User
from infrastructure.local_files import FolderFile

log = logging.getLogger("archivist.consume")

DONE: Final = "done"
FAILED: Final = "failed"
# Names browsers and copy tools give a file still being written.
PARTIAL_SUFFIXES: Final = (
    ".part",
    ".partial",
    ".crdownload",
    ".download",
    ".tmp",
    ".temp",
    ".swp",
    "~",
)
# A failed file's reason, written beside it (never consumed, should it be moved back too).
REASON_SUFFIX: Final = ".reason.txt"
# How long a file is left alone after a move that failed, or while the storage is away.
RETRY_SECONDS: Final = 30.0


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    since: float  # monotonic time it was last seen to change
    not_before: float = 0.0  # not tried again before (a retry, a move that failed)


class ConsumeFolder:
    def __init__(
        self,
        root: Path,
        consumer: DocumentConsumer,
        lease: ConsumerLease,
        *,
        settle_seconds: float = 1.0,
        lease_retry_seconds: float = 5.0,
        rescan_seconds: float = 60.0,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self._root = root
        self._consumer = consumer
        self._lease = lease
        self._settle = settle_seconds
        self._lease_retry = lease_retry_seconds
        self._rescan = rescan_seconds
        self._retry = retry_seconds
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._pending: dict[Path, _Seen] = {}
        self.consuming = asyncio.Event()  # set while this one is the consumer (for tests)

    @property
    def root(self) -> Path:
        return self._root

    async def start(self) -> None:
        """Start in the background; returns at once."""
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self._run(), name="archivist-consume-folder")

    async def stop(self) -> None:
        """Stop watching; returns once the file in hand is done (and moved)."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        self._wake.set()
        await asyncio.wait({task})

    async def _run(self) -> None:
        try:
            self._root = await asyncio.to_thread(_prepare, self._root)
        except OSError as err:
            log.error("consume folder %s cannot be used, not consuming: %s", self._root, err)
            return
        while not self._stopping.is_set():
            try:
                if await self._lease.acquire():
                    try:
                        await self._consume(await self._consumer.consume_user())
                    finally:
                        self.consuming.clear()
                        await self._lease.release()
            except ConsumeUserUnknown as err:
                log.error("consume folder %s: not consuming: %s", self._root, err.message)
                return
            except Exception as err:  # the database is away: the lease goes, try again later
                log.warning("consume folder %s: %s; trying again", self._root, err)
            await self._pause(self._lease_retry)

    async def _consume(self, user: User) -> None:
        """Consume until stopped or the lease is lost."""
        self._pending.clear()
        watcher = asyncio.create_task(self._watch(), name="archivist-consume-watch")
        # Its first step registers the watches (watchfiles does so synchronously): a file
        # made from now on is seen, and one made before is found by the scan.
        await asyncio.sleep(0)
        await self._scan(self._root)
        last_scan = time.monotonic()
        log.info("consuming %s as %s", self._root, user.email)
        self.consuming.set()
        try:
            while not self._stopping.is_set():
                for path in self._settled():
                    if self._stopping.is_set():
                        return
                    if not await self._lease.still_held():
                        log.warning("consume folder %s: the lease was lost", self._root)
                        return
                    await self._one(user, path)
                if time.monotonic() - last_scan >= self._rescan:
                    await self._scan(self._root)
                    last_scan = time.monotonic()
                    if not await self._lease.still_held():
                        log.warning("consume folder %s: the lease was lost", self._root)
                        return
                # Look again soon while a file settles; else when an event or a rescan is due.
                await self._pause(self._settle / 4 if self._pending else self._rescan / 4)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    async def _pause(self, seconds: float) -> None:
        if self._stopping.is_set():
            return
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), max(seconds, 0.01))

    async def _watch(self) -> None:
        try:
            async for changes in awatch(
                self._root,
                watch_filter=self._watched,
                debounce=50,
                step=20,
                stop_event=self._stopping,
            ):
                for _, name in changes:
                    # A folder made or moved in may hold files already: they are looked for.
                    await self._scan(Path(name))
                self._wake.set()
        except Exception:  # the rescans still find the files, later
            log.exception("consume folder %s: watching stopped", self._root)

    def _watched(self, change: Change, name: str) -> bool:
        return change is not Change.deleted and self.wanted(Path(name))

    def wanted(self, path: Path) -> bool:
        """Whether `path` (under the folder) is one to consume: not in done/ or failed/,
        not hidden, not a partial download, not a reason file."""
        try:
            parts = path.relative_to(self._root).parts
        except ValueError:
            return False
        if not parts or parts[0] in (DONE, FAILED):
            return False
        if any(part.startswith(".") for part in parts):
            return False
        name = parts[-1].lower()
        return not name.endswith(PARTIAL_SUFFIXES) and not name.endswith(REASON_SUFFIX)

    async def _scan(self, top: Path) -> None:
        """Note the files at or under `top` (a file or a folder in the consume folder)."""
        for path in await asyncio.to_thread(_files_under, self._root, top):
            if self.wanted(path):
                self._note(path)

    def _note(self, path: Path) -> None:
        if path not in self._pending:
            try:
                stat = path.stat()
            except OSError:
                return
            self._pending[path] = _Seen(stat.st_size, stat.st_mtime_ns, time.monotonic())

    def _settled(self) -> list[Path]:
        """The pending files unchanged for the settle time, by name; forgets those gone."""
        now = time.monotonic()
        ready = []
        for path, seen in list(self._pending.items()):
            try:
                stat = path.stat()
            except OSError:
                del self._pending[path]
                continue
            if not path.is_file():
                del self._pending[path]
            elif (stat.st_size, stat.st_mtime_ns) != (seen.size, seen.mtime_ns):
                self._pending[path] = _Seen(stat.st_size, stat.st_mtime_ns, now, seen.not_before)
            elif now - seen.since >= self._settle and now >= seen.not_before:
                ready.append(path)
        return sorted(ready)

    async def _one(self, user: User, path: Path) -> None:
        try:
            size = (await asyncio.to_thread(path.stat)).st_size
        except OSError:
            self._pending.pop(path, None)
            return
        file = FolderFile(path, self._root, size)
        consumed = await self._consumer.consume(user, file)
        if consumed.verdict is Verdict.RETRY:
            log.warning("consume folder: %s: %s; trying again later", file.name, consumed.reason)
            self._later(path)
            return
        try:
            moved = await asyncio.to_thread(self._move, file, consumed)
        except FileNotFoundError:  # taken away meanwhile (by hand)
            log.warning("consume folder: %s was gone before it could be moved", file.name)
            self._pending.pop(path, None)
            return
        except OSError as err:
            log.error("consume folder: %s could not be moved: %s", file.name, err)
            self._later(path)
            return
        self._pending.pop(path, None)
        if consumed.verdict is Verdict.DONE:
            log.info("consumed %s: %s", file.name, consumed.result.outcome.value)
        else:
            log.warning("consume folder: %s failed (%s): %s", file.name, moved, consumed.reason)

    def _later(self, path: Path) -> None:
        seen = self._pending.get(path)
        if seen is not None:
            seen.not_before = time.monotonic() + self._retry

    def _move(self, file: FolderFile, consumed: ConsumeResult) -> Path:
        """Move the file to done/ or failed/ (with its reason written first: a crash in
        between leaves the file to be consumed again, and its reason rewritten)."""
        failed = consumed.verdict is Verdict.FAILED
        folder = self._root / (FAILED if failed else DONE) / file.relative.parent
        folder.mkdir(parents=True, exist_ok=True)
        for target in _free_names(folder, file.filename):
            if failed:
                _write_reason(target, file, consumed)
            if _move_unless_taken(file.path, target):
                return target
        raise AssertionError("unreachable")


def _prepare(root: Path) -> Path:
    """The folder's absolute path, made with done/ and failed/ if missing."""
    root = root.expanduser().resolve()
    for folder in (root, root / DONE, root / FAILED):
        folder.mkdir(parents=True, exist_ok=True)
    return root


def _files_under(root: Path, top: Path) -> list[Path]:
    """`top` if it is a file, else the files under it but those in dot-folders and in
    done/ and failed/ of `root`."""
    if not top.is_dir():
        return [top]
    return list(_walk(root, top))


def _walk(root: Path, top: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(top):
        here = Path(folder)
        dirs[:] = [
            d for d in dirs if not d.startswith(".") and not (here == root and d in (DONE, FAILED))
        ]
        for name in files:
            yield here / name


def _free_names(folder: Path, filename: str) -> Iterator[Path]:
    """`folder/filename`, then `name (1).ext`, `name (2).ext`, ... while taken."""
    first = Path(filename)
    n = 0
    while True:
        name = filename if n == 0 else f"{first.stem} ({n}){first.suffix}"
        target = folder / name
        if not target.exists():
            yield target
        n += 1


def _move_unless_taken(source: Path, target: Path) -> bool:
    """Move `source` to `target` unless a file took that name meanwhile (False then).
    A hard link never replaces a file; where links are not supported, a rename after a
    check (one consumer runs at a time)."""
    try:
        os.link(source, target)
    except FileExistsError:
        return False
    except OSError as err:
        if err.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        if target.exists():
            return False
        os.rename(source, target)
        return True
    os.unlink(source)
    return True


def _write_reason(target: Path, file: FolderFile, consumed: ConsumeResult) -> None:
    result = consumed.result
    text = (
        f"error: {result.code}\n"
        f"message: {result.message}\n"
        f"file: {file.name}\n"
        f"failed_at: {datetime.now(UTC).isoformat(timespec='seconds')}\n"
    )
    reason = target.with_name(target.name + REASON_SUFFIX)
    partial = reason.with_name("." + reason.name + ".tmp")
    partial.write_text(text, encoding="utf-8")
    partial.replace(reason)
