"""The consume folder's watcher (`infrastructure.consume_folder`) in-process, on a real
folder: a dropped file becomes a document within seconds and moves to done/; a refused one
moves to failed/ with its reason; what a dead consumer left behind is consumed at the next
start with no second document; hidden, partial and still-growing files wait; one consumer at
a time. (`archivist worker` killed mid-run: test_consume_worker_pg.py.)"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from application.consume import ConsumeOptions, ConsumerLease, DocumentConsumer, SubfoldersAs
from application.context import RequestContext
from application.users import CreateUser
from domain.document_ports import DocumentFilter, DocumentSort
from domain.documents import Document
from domain.pagination import PageRequest
from domain.uploads import UploadFilter, UploadSource, UploadStatus
from domain.users import User
from infrastructure.config import AppSettings
from infrastructure.consume_folder import ConsumeFolder
from infrastructure.container import Container, build_container
from infrastructure.local_files import FolderFile
from infrastructure.memory.consumer_lease import ConsumerClaims, InMemoryConsumerLease
from infrastructure.sqlalchemy.consumer_lease import AdvisoryConsumerLease
from interfaces.http.app import create_app
from tests.support.pdf import one_page_pdf

EMAIL = "scanner@example.com"
SETTLE = 0.1
WITHIN = 10.0  # seconds: what "within seconds" allows on a busy 2-core machine


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    """The consume folder (the postgres container keeps its blobs in tmp_path)."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


@pytest.fixture
async def scanner(container: Container) -> User:
    return await container.users().create(
        RequestContext.system(), CreateUser(email=EMAIL, name="Scanner")
    )


def consumer(container: Container, subfolders_as: SubfoldersAs = "none") -> DocumentConsumer:
    options = ConsumeOptions(EMAIL, subfolders_as)
    return DocumentConsumer(container.uow_factory(), container.document_import(), options)


def watcher(
    container: Container,
    root: Path,
    subfolders_as: SubfoldersAs = "none",
    *,
    lease: ConsumerLease | None = None,
    settle: float = SETTLE,
) -> ConsumeFolder:
    return ConsumeFolder(
        root,
        consumer(container, subfolders_as),
        lease if lease is not None else container.consumer_lease(),
        settle_seconds=settle,
        lease_retry_seconds=0.1,
    )


@asynccontextmanager
async def running(folder: ConsumeFolder) -> AsyncIterator[ConsumeFolder]:
    await folder.start()
    try:
        async with asyncio.timeout(WITHIN):
            await folder.consuming.wait()
        yield folder
    finally:
        await folder.stop()


async def until(check: Callable[[], bool], seconds: float = WITHIN) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"not so within {seconds} s"
        await asyncio.sleep(0.02)


async def documents(container: Container, user: User) -> Sequence[Document]:
    page = await container.document_reads().list_documents(
        RequestContext(actor=user), DocumentFilter(), DocumentSort.CREATED, PageRequest(100)
    )
    return page.items


def files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


async def test_a_dropped_file_becomes_a_document_within_seconds(
    container: Container, scanner: User, inbox: Path
) -> None:
    data = one_page_pdf("dropped in")
    async with running(watcher(container, inbox)):
        dropped = time.monotonic()
        (inbox / "scan.pdf").write_bytes(data)

        await until(lambda: (inbox / "done" / "scan.pdf").exists())
        took = time.monotonic() - dropped

    [doc] = await documents(container, scanner)
    assert (doc.original_filename, doc.size_bytes, doc.source) == ("scan.pdf", len(data), "consume")
    read = await container.document_reads().get(RequestContext(actor=scanner), doc.id)
    assert "dropped in" in (read.document.content or "")
    assert files(inbox) == {"done/scan.pdf"}
    assert took < 5.0


@pytest.mark.parametrize("storage", ["memory"])
async def test_a_corrupt_pdf_lands_in_failed_with_its_reason(
    container: Container, scanner: User, inbox: Path
) -> None:
    async with running(watcher(container, inbox)):
        (inbox / "broken.pdf").write_bytes(b"%PDF-1.4 this is no pdf")

        await until(lambda: (inbox / "failed" / "broken.pdf").exists())

    assert files(inbox) == {"failed/broken.pdf", "failed/broken.pdf.reason.txt"}
    reason = (inbox / "failed" / "broken.pdf.reason.txt").read_text()
    assert "error: validation_failed\n" in reason
    assert "message: " in reason and "file: broken.pdf\n" in reason
    assert await documents(container, scanner) == []
    async with container.uow_factory()(autocommit=True) as uow:
        [record] = (await uow.uploads.list(UploadFilter(), PageRequest(10))).items
    assert (record.source, record.status) == (UploadSource.CONSUME, UploadStatus.REJECTED)


async def test_files_a_killed_consumer_left_behind_are_consumed_with_no_second_document(
    container: Container, scanner: User, inbox: Path
) -> None:
    # Left before its import committed: still in the folder, never stored.
    (inbox / "never-stored.txt").write_bytes(b"the consumer died before committing me")
    # Left after its import committed but before it was moved.
    committed = inbox / "committed.txt"
    committed.write_bytes(b"the consumer died before moving me")
    first = await consumer(container).consume(
        scanner, FolderFile(committed, inbox, committed.stat().st_size)
    )
    assert first.result.document_id is not None

    async with running(watcher(container, inbox)):
        await until(lambda: files(inbox) == {"done/never-stored.txt", "done/committed.txt"})

    docs = await documents(container, scanner)
    assert sorted(d.original_filename for d in docs) == ["committed.txt", "never-stored.txt"]
    assert first.result.document_id in {d.id for d in docs}
    async with container.uow_factory()(autocommit=True) as uow:
        records = (await uow.uploads.list(UploadFilter(), PageRequest(10))).items
    assert sorted((r.filename, r.status) for r in records) == [
        ("committed.txt", UploadStatus.DUPLICATE),
        ("committed.txt", UploadStatus.STORED),
        ("never-stored.txt", UploadStatus.STORED),
    ]


@pytest.mark.parametrize("storage", ["memory"])
async def test_hidden_partial_and_reason_files_are_left_alone(
    container: Container, scanner: User, inbox: Path
) -> None:
    (inbox / ".hidden.txt").write_bytes(b"hidden")
    (inbox / ".sync").mkdir()
    (inbox / ".sync" / "b.txt").write_bytes(b"in a hidden folder")
    (inbox / "old.pdf.reason.txt").write_bytes(b"error: moved back by hand")
    async with running(watcher(container, inbox)):
        (inbox / "report.pdf.part").write_bytes(one_page_pdf("downloading"))
        (inbox / "ready.txt").write_bytes(b"ready")
        await until(lambda: (inbox / "done" / "ready.txt").exists())
        assert (inbox / "report.pdf.part").exists()

        (inbox / "report.pdf.part").rename(inbox / "report.pdf")
        await until(lambda: (inbox / "done" / "report.pdf").exists())

    assert files(inbox) == {
        ".hidden.txt",
        ".sync/b.txt",
        "old.pdf.reason.txt",
        "done/ready.txt",
        "done/report.pdf",
    }


@pytest.mark.parametrize("storage", ["memory"])
async def test_a_growing_file_is_consumed_once_its_size_stays_the_same(
    container: Container, scanner: User, inbox: Path
) -> None:
    growing = inbox / "growing.txt"
    async with running(watcher(container, inbox, settle=0.4)):
        with growing.open("wb") as out:
            for n in range(6):  # a write every 0.1 s: never still for the settle time
                out.write(f"line {n}\n".encode())
                out.flush()
                await asyncio.sleep(0.1)
        await until(lambda: (inbox / "done" / "growing.txt").exists())

    [doc] = await documents(container, scanner)
    assert doc.size_bytes == len("".join(f"line {n}\n" for n in range(6)))


@pytest.mark.parametrize("storage", ["memory"])
async def test_names_taken_get_a_suffix_and_sub_folders_are_kept_as_tags(
    container: Container, scanner: User, inbox: Path
) -> None:
    (inbox / "done").mkdir()
    (inbox / "done" / "a.txt").write_bytes(b"consumed last week")
    async with running(watcher(container, inbox, "tags")):
        (inbox / "a.txt").write_bytes(b"a new a")
        (inbox / "letters").mkdir()
        (inbox / "letters" / "a.txt").write_bytes(b"a letter")

        expected = {"done/a.txt", "done/a (1).txt", "done/letters/a.txt"}
        await until(lambda: files(inbox) == expected)  # both new files moved, not only one

    assert files(inbox) == expected
    assert (inbox / "done" / "a (1).txt").read_bytes() == b"a new a"
    tags = {d.size_bytes: d.tags for d in await documents(container, scanner)}
    assert tags == {len(b"a new a"): [], len(b"a letter"): ["letters"]}


@pytest.mark.parametrize("storage", ["memory"])
async def test_an_unknown_consume_user_consumes_nothing_and_says_why(
    container: Container, inbox: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (inbox / "a.txt").write_bytes(b"waiting")
    folder = watcher(container, inbox)

    with caplog.at_level(logging.ERROR, logger="archivist.consume"):
        await folder.start()
        await until(lambda: "not consuming" in caplog.text)
        await folder.stop()

    assert f"no active user {EMAIL!r}" in caplog.text
    assert files(inbox) == {"a.txt"}


async def test_one_folder_consumes_at_a_time_and_another_takes_over(
    container: Container, scanner: User, inbox: Path, storage: str
) -> None:
    claims = ConsumerClaims()

    def lease() -> ConsumerLease:  # competing, as two processes' leases do
        if storage == "memory":
            return InMemoryConsumerLease(claims)
        return AdvisoryConsumerLease(container.database().url)

    first = watcher(container, inbox, lease=lease())
    second = watcher(container, inbox, lease=lease())
    async with running(first):
        await second.start()
        try:
            for n in range(5):
                (inbox / f"{n}.txt").write_bytes(f"file {n}".encode())
            await until(lambda: files(inbox) == {f"done/{n}.txt" for n in range(5)})
            assert not second.consuming.is_set()
        finally:
            await first.stop()
        try:
            async with asyncio.timeout(WITHIN):
                await second.consuming.wait()
            (inbox / "5.txt").write_bytes(b"file 5")
            await until(lambda: (inbox / "done" / "5.txt").exists())
        finally:
            await second.stop()

    assert len(await documents(container, scanner)) == 6


async def test_the_app_runs_the_consume_folder_with_its_workers(inbox: Path) -> None:
    settings = AppSettings(
        storage="memory", consume_dir=inbox, consume_user=EMAIL, consume_settle_seconds=0.1
    )
    container = build_container(settings)
    user = await container.users().create(
        RequestContext.system(), CreateUser(email=EMAIL, name="Scanner")
    )

    async with AsyncTestClient(create_app(container, run_workers=True)):
        (inbox / "a.txt").write_bytes(b"through the app")
        await until(lambda: (inbox / "done" / "a.txt").exists())

    [doc] = await documents(container, user)
    assert doc.original_filename == "a.txt"


def test_no_consume_folder_without_a_directory() -> None:
    assert build_container(AppSettings(storage="memory")).consume_folder() is None
