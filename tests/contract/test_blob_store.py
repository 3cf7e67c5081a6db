"""The blob store's contract, on the filesystem and in memory alike.

One suite, no backend branches: `InMemoryBlobStore` must behave exactly like
`FilesystemBlobStore`. A few filesystem-only tests at the end check what only a disk can show
(the layout, no temporary file left behind, a stored file never rewritten).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.blobs import BlobStore
from domain.errors import NotFound, TooLarge, ValidationFailed
from infrastructure.blobs import FilesystemBlobStore
from infrastructure.memory.blobs import InMemoryBlobStore

MiB = 1024 * 1024
EVERYTHING = -1e12  # keys_older_than(EVERYTHING) lists every stored key


class ManualClock:
    """Seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(params=["filesystem", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock) -> BlobStore:
    if request.param == "filesystem":
        return FilesystemBlobStore(tmp_path / "blobs", clock=clock)
    return InMemoryBlobStore(clock=clock)


async def stream(*chunks: bytes, pause: bool = False) -> AsyncIterator[bytes]:
    for chunk in chunks:
        if pause:  # let other tasks run between chunks, as a network body would
            await asyncio.sleep(0)
        yield chunk


def pieces(data: bytes, size: int) -> Iterable[bytes]:
    return (data[i : i + size] for i in range(0, len(data), size))


def names_in(directory: Path) -> list[str]:
    return sorted(os.listdir(directory))


async def drain(chunks: AsyncIterator[bytes]) -> list[bytes]:
    return [chunk async for chunk in chunks]


# -- writing and reading ---------------------------------------------------------------------


async def test_put_returns_the_sha256_key_and_size(store: BlobStore) -> None:
    data = b"hello, archive\n" * 1000
    digest = hashlib.sha256(data).hexdigest()

    blob = await store.put(stream(*pieces(data, 4096)), max_bytes=MiB)

    assert blob.sha256 == digest
    assert blob.key == f"{digest[:2]}/{digest[2:4]}/{digest}"
    assert blob.size_bytes == len(data)


async def test_a_put_given_the_sha256_stores_under_it_with_the_same_limits(
    store: BlobStore,
) -> None:
    # An upload hashed its bytes as they arrived; the store keys them by that digest.
    data = b"hashed once\n" * 1000
    digest = hashlib.sha256(data).hexdigest()

    blob = await store.put(stream(*pieces(data, 4096)), max_bytes=MiB, sha256=digest)

    assert (blob.key, blob.sha256, blob.size_bytes) == (store.key_for(digest), digest, len(data))
    assert await store.read(blob.key) == data
    with pytest.raises(TooLarge):
        await store.put(stream(data), max_bytes=len(data) - 1, sha256=digest)
    with pytest.raises(ValidationFailed):
        await store.put(stream(), max_bytes=MiB, sha256=hashlib.sha256(b"").hexdigest())


async def test_read_and_open_give_back_the_bytes(store: BlobStore) -> None:
    data = bytes(range(256)) * 5000  # > 1 MiB, so reads span several batches
    blob = await store.put(stream(*pieces(data, 64 * 1024)), max_bytes=2 * MiB)

    assert await store.read(blob.key) == data
    chunks = await drain(await store.open(blob.key))
    assert b"".join(chunks) == data
    assert all(len(chunk) <= 64 * 1024 for chunk in chunks)


async def test_open_yields_chunks_of_the_asked_size(store: BlobStore) -> None:
    blob = await store.put(stream(b"abcdefghij"), max_bytes=100)

    assert await drain(await store.open(blob.key, chunk_size=3)) == [b"abc", b"def", b"ghi", b"j"]


async def test_exists_tells_stored_from_unknown(store: BlobStore) -> None:
    blob = await store.put(stream(b"present"), max_bytes=100)
    absent = hashlib.sha256(b"absent").hexdigest()

    assert await store.exists(blob.key)
    assert not await store.exists(f"{absent[:2]}/{absent[2:4]}/{absent}")


async def test_the_same_bytes_twice_share_one_blob(store: BlobStore) -> None:
    first = await store.put(stream(b"same ", b"bytes"), max_bytes=100)
    second = await store.put(stream(b"same bytes"), max_bytes=100)

    assert first == second
    assert await store.keys_older_than(EVERYTHING) == [first.key]


async def test_different_bytes_get_different_keys(store: BlobStore) -> None:
    one = await store.put(stream(b"one"), max_bytes=100)
    two = await store.put(stream(b"two"), max_bytes=100)

    assert one.key != two.key
    assert await store.keys_older_than(EVERYTHING) == sorted([one.key, two.key])


async def test_exactly_max_bytes_is_accepted(store: BlobStore) -> None:
    blob = await store.put(stream(b"x" * 10), max_bytes=10)

    assert blob.size_bytes == 10


async def test_one_byte_over_max_bytes_is_too_large_and_leaves_nothing(store: BlobStore) -> None:
    with pytest.raises(TooLarge):
        await store.put(stream(b"x" * 6, b"x" * 5), max_bytes=10)

    assert await store.keys_older_than(EVERYTHING) == []


async def test_too_large_is_raised_while_the_stream_is_still_coming(store: BlobStore) -> None:
    consumed = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal consumed
        while True:
            consumed += 1
            yield b"z" * 1024

    with pytest.raises(TooLarge):
        await store.put(endless(), max_bytes=10 * 1024)

    assert consumed == 11
    assert await store.keys_older_than(EVERYTHING) == []


@pytest.mark.parametrize("chunks", [(), (b"",), (b"", b"")])
async def test_an_empty_stream_is_refused(store: BlobStore, chunks: tuple[bytes, ...]) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await store.put(stream(*chunks), max_bytes=100)

    assert caught.value.errors[0].field == "file"
    assert await store.keys_older_than(EVERYTHING) == []


async def test_unknown_key_is_not_found(store: BlobStore) -> None:
    digest = hashlib.sha256(b"never stored").hexdigest()
    key = f"{digest[:2]}/{digest[2:4]}/{digest}"

    with pytest.raises(NotFound):
        await store.read(key)
    with pytest.raises(NotFound):
        await store.open(key)  # before the first chunk, so a response can still be a 404


async def test_delete_removes_the_blob_and_a_missing_one_is_fine(store: BlobStore) -> None:
    blob = await store.put(stream(b"to be purged"), max_bytes=100)

    await store.delete(blob.key)
    await store.delete(blob.key)

    assert not await store.exists(blob.key)
    with pytest.raises(NotFound):
        await store.read(blob.key)
    assert await store.keys_older_than(EVERYTHING) == []


async def test_bytes_can_be_stored_again_after_delete(store: BlobStore) -> None:
    blob = await store.put(stream(b"phoenix"), max_bytes=100)
    await store.delete(blob.key)

    again = await store.put(stream(b"phoenix"), max_bytes=100)

    assert again == blob
    assert await store.read(blob.key) == b"phoenix"


# -- ages, for sweeping unreferenced blobs ---------------------------------------------------


async def test_keys_older_than_lists_only_blobs_older_than_the_age(
    store: BlobStore, clock: ManualClock
) -> None:
    old = await store.put(stream(b"old"), max_bytes=100)
    clock.advance(100)
    new = await store.put(stream(b"new"), max_bytes=100)
    clock.advance(10)

    assert await store.keys_older_than(50) == [old.key]
    assert await store.keys_older_than(5) == sorted([old.key, new.key])
    assert await store.keys_older_than(500) == []


async def test_putting_stored_bytes_again_makes_the_blob_young(
    store: BlobStore, clock: ManualClock
) -> None:
    # An upload that finds its bytes already stored must not lose them to a sweep that runs
    # before its row commits.
    blob = await store.put(stream(b"orphan, then referenced"), max_bytes=100)
    clock.advance(1000)

    await store.put(stream(b"orphan, then referenced"), max_bytes=100)

    assert blob.key not in await store.keys_older_than(10)


# -- keys are checked ------------------------------------------------------------------------

_DIGEST = hashlib.sha256(b"k").hexdigest()
assert any(c in "abcdef" for c in _DIGEST)  # so the upper-case variant below differs
BAD_KEYS = [
    "../x",
    "../../etc/passwd",
    "/etc/passwd",
    f"/{_DIGEST[:2]}/{_DIGEST[2:4]}/{_DIGEST}",
    "",
    "ab",
    _DIGEST,
    f"{_DIGEST[:2]}/{_DIGEST[2:4]}/{_DIGEST[:-1]}",
    f"{_DIGEST[:2]}/{_DIGEST[2:4]}/{_DIGEST}0",
    f"{_DIGEST[:2]}/{_DIGEST[2:4]}/{_DIGEST}\n",
    f"{_DIGEST[:2]}/{_DIGEST[2:4]}/{_DIGEST}".upper(),
    f"{_DIGEST[2:4]}/{_DIGEST[:2]}/{_DIGEST}",  # shard directories that do not match the digest
    f"{_DIGEST[:2]}/{_DIGEST[2:4]}/../../{_DIGEST}",
    f"{_DIGEST[:2]}\\{_DIGEST[2:4]}\\{_DIGEST}",
    f"./{_DIGEST[:2]}/{_DIGEST[2:4]}/{_DIGEST}",
]


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_malformed_keys_are_refused_by_every_operation(store: BlobStore, key: str) -> None:
    with pytest.raises(ValidationFailed):
        await store.read(key)
    with pytest.raises(ValidationFailed):
        await store.open(key)
    with pytest.raises(ValidationFailed):
        await store.exists(key)
    with pytest.raises(ValidationFailed):
        await store.delete(key)


async def test_keys_never_reach_files_outside_the_store(store: BlobStore, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"not yours")

    for key in ["../victim", str(victim), "../../victim", "ab/cd/../../../victim"]:
        with pytest.raises(ValidationFailed):
            await store.delete(key)
        with pytest.raises(ValidationFailed):
            await store.read(key)

    assert victim.read_bytes() == b"not yours"


# -- concurrency and properties --------------------------------------------------------------


async def test_concurrent_puts_of_the_same_bytes_leave_one_blob(store: BlobStore) -> None:
    data = b"popular attachment " * 4096

    blobs = await asyncio.gather(
        *(store.put(stream(*pieces(data, 8192), pause=True), max_bytes=MiB) for _ in range(10))
    )

    assert len({blob.key for blob in blobs}) == 1
    assert await store.keys_older_than(EVERYTHING) == [blobs[0].key]
    assert await store.read(blobs[0].key) == data


@settings(
    max_examples=60,
    deadline=None,
    # The store is reused across examples on purpose: content addressing makes it harmless.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.binary(min_size=1, max_size=4096), chunk_size=st.integers(1, 1024))
async def test_any_bytes_round_trip(store: BlobStore, data: bytes, chunk_size: int) -> None:
    blob = await store.put(stream(*pieces(data, chunk_size)), max_bytes=len(data))

    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    assert blob.size_bytes == len(data)
    assert await store.read(blob.key) == data
    assert b"".join(await drain(await store.open(blob.key, chunk_size=chunk_size))) == data


# -- partial uploads (what a crash mid-put leaves) --------------------------------------------


class Stalled:
    """A body that sends a first chunk, then waits until the test lets it finish."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.go_on = asyncio.Event()

    async def chunks(self) -> AsyncIterator[bytes]:
        yield b"the first part"
        self.started.set()
        await self.go_on.wait()
        yield b" and the rest"


async def test_a_put_in_progress_is_a_partial_upload_once_idle_longer_than_the_age(
    store: BlobStore, clock: ManualClock
) -> None:
    body = Stalled()
    put = asyncio.create_task(store.put(body.chunks(), max_bytes=100))
    await body.started.wait()

    young = await store.partial_uploads_older_than(60)
    clock.advance(61)
    old = await store.partial_uploads_older_than(60)
    body.go_on.set()
    blob = await put

    assert young == []
    assert [p.name.startswith("put-") for p in old] == [True]
    assert await store.partial_uploads_older_than(EVERYTHING) == []
    assert await store.read(blob.key) == b"the first part and the rest"


async def test_a_cancelled_or_refused_put_leaves_no_partial_upload(
    store: BlobStore, clock: ManualClock
) -> None:
    body = Stalled()
    put = asyncio.create_task(store.put(body.chunks(), max_bytes=100))
    await body.started.wait()
    put.cancel()
    with pytest.raises(asyncio.CancelledError):
        await put
    with pytest.raises(TooLarge):
        await store.put(stream(b"x" * 101), max_bytes=100)

    assert await store.partial_uploads_older_than(EVERYTHING) == []


async def test_deleting_a_partial_upload_fails_the_put_still_writing_it(
    store: BlobStore, clock: ManualClock
) -> None:
    body = Stalled()
    put = asyncio.create_task(store.put(body.chunks(), max_bytes=100))
    await body.started.wait()
    clock.advance(3600)
    [partial] = await store.partial_uploads_older_than(60)

    await store.delete_partial_upload(partial.name)
    body.go_on.set()

    with pytest.raises(FileNotFoundError):
        await put
    assert await store.partial_uploads_older_than(EVERYTHING) == []
    assert await store.keys_older_than(EVERYTHING) == []


@pytest.mark.parametrize("name", ["", "../x", "put-../../etc", "put-a/b", "ab/cd/put-x", "tmp"])
async def test_delete_partial_upload_refuses_names_the_store_never_gives(
    store: BlobStore, name: str
) -> None:
    with pytest.raises(ValidationFailed):
        await store.delete_partial_upload(name)


async def test_deleting_an_unknown_partial_upload_is_fine(store: BlobStore) -> None:
    await store.delete_partial_upload("put-gone")

    assert await store.partial_uploads_older_than(EVERYTHING) == []


# -- filesystem only: what only a disk can show ----------------------------------------------


async def test_filesystem_layout_is_two_shard_levels_under_the_root(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)

    blob = await store.put(stream(b"on disk"), max_bytes=100)

    assert (tmp_path / blob.key).read_bytes() == b"on disk"
    assert (tmp_path / blob.sha256[:2] / blob.sha256[2:4] / blob.sha256).is_file()


@pytest.mark.parametrize(
    ("chunks", "error"),
    [((b"x" * 60, b"x" * 60), TooLarge), ((), ValidationFailed)],
    ids=["too-large", "empty"],
)
async def test_filesystem_refusals_leave_no_temporary_file(
    tmp_path: Path, chunks: tuple[bytes, ...], error: type[Exception]
) -> None:
    store = FilesystemBlobStore(tmp_path)

    with pytest.raises(error):
        await store.put(stream(*chunks), max_bytes=100)

    assert names_in(tmp_path / ".tmp") == []
    assert names_in(tmp_path) == [".tmp"]


async def test_filesystem_success_and_failing_streams_leave_no_temporary_file(
    tmp_path: Path,
) -> None:
    store = FilesystemBlobStore(tmp_path)

    async def broken() -> AsyncIterator[bytes]:
        yield b"half an upload"
        raise ConnectionResetError("client went away")

    await store.put(stream(b"complete"), max_bytes=100)
    with pytest.raises(ConnectionResetError):
        await store.put(broken(), max_bytes=100)

    assert names_in(tmp_path / ".tmp") == []


async def test_filesystem_cancelled_put_leaves_no_temporary_file(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    started = asyncio.Event()

    async def stalled() -> AsyncIterator[bytes]:
        yield b"first chunk"
        started.set()
        await asyncio.Event().wait()  # never comes
        yield b"unreachable"

    task = asyncio.create_task(store.put(stalled(), max_bytes=100))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert names_in(tmp_path / ".tmp") == []
    assert await store.keys_older_than(EVERYTHING) == []


async def test_filesystem_never_rewrites_a_stored_file(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    blob = await store.put(stream(b"write once"), max_bytes=100)
    inode = (tmp_path / blob.key).stat().st_ino

    await store.put(stream(b"write once"), max_bytes=100)

    assert (tmp_path / blob.key).stat().st_ino == inode


async def test_filesystem_sweep_ignores_temporaries_and_strays(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    blob = await store.put(stream(b"real"), max_bytes=100)
    (tmp_path / ".tmp" / "put-leftover").write_bytes(b"crashed upload")
    (tmp_path / blob.key[:5] / "notes.txt").write_text("a stray file")

    assert await store.keys_older_than(EVERYTHING) == [blob.key]


async def test_filesystem_a_crash_leftover_is_a_partial_upload_with_its_size(
    tmp_path: Path,
) -> None:
    now = 1_700_000_000.0
    store = FilesystemBlobStore(tmp_path, clock=lambda: now)
    await store.put(stream(b"a finished blob"), max_bytes=100)  # creates .tmp
    leftover = tmp_path / ".tmp" / "put-k1ll3d_x"
    leftover.write_bytes(b"half of an upload")
    os.utime(leftover, (now - 7200, now - 7200))
    (tmp_path / ".tmp" / "notes.txt").write_text("not ours")

    found = await store.partial_uploads_older_than(3600)
    await store.delete_partial_upload("put-k1ll3d_x")

    assert [(p.name, p.size_bytes) for p in found] == [("put-k1ll3d_x", 17)]
    assert names_in(tmp_path / ".tmp") == ["notes.txt"]
