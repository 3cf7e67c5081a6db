"""Importing many files (`application.document_import`) on the memory storage: a result per
file in the order given, duplicates skipped by their bytes (so a second run stores nothing),
refusals that cost only their own file, and the three duplicate policies."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from dependency_injector import providers

from application.context import RequestContext
from application.document_import import FileResult, ImportOptions, Outcome
from application.document_store import DocumentFields
from application.users import CreateUser
from domain.events import EventFilter
from domain.pagination import PageRequest
from domain.uploads import UploadFilter
from infrastructure.config import AppSettings
from infrastructure.container import Container, build_container
from tests.support.clock import SteppingClock
from tests.support.pdf import one_page_pdf


@dataclass(frozen=True)
class Source:
    name: str
    data: bytes

    @property
    def filename(self) -> str:
        return self.name.rsplit("/", 1)[-1]

    @property
    def size(self) -> int:
        return len(self.data)

    async def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    async def chunks(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self.data), 7):  # several chunks
            yield self.data[start : start + 7]


FOLDER = [
    Source("a.txt", b"alpha text"),
    Source("notes/b.md", b"# Beta\n\nmarkdown"),
    Source("c.pdf", one_page_pdf("gamma pdf")),
    Source("copy-of-a.txt", b"alpha text"),  # the same bytes as a.txt
    Source("tool.exe", b"MZ not allowed"),
    Source("broken.pdf", b"%PDF-1.4 this is no pdf"),  # corrupt
    Source("fake.pdf", b"just text"),  # not what its extension says
    Source("empty.txt", b""),
]


@pytest.fixture
def app() -> Container:
    container = build_container(AppSettings(storage="memory"))
    container.clock.override(providers.Object(SteppingClock()))
    return container


async def owner(app: Container, **kw: object) -> RequestContext:
    user = await app.users().create(
        RequestContext.system(),
        CreateUser(email="ann@example.com", name="Ann", **kw),  # type: ignore[arg-type]
    )
    return RequestContext(actor=user)


async def uploaded_events(app: Container) -> int:
    async with app.uow_factory()(autocommit=True) as uow:
        page = await uow.events.list(EventFilter(action="document.uploaded"), PageRequest(200))
    return len(page.items)


async def record_statuses(app: Container) -> dict[str, int]:
    """How many upload records the imports left, by status."""
    async with app.uow_factory()(autocommit=True) as uow:
        page = await uow.uploads.list(UploadFilter(), PageRequest(200))
    return dict(Counter(str(r.status) for r in page.items))


def outcomes(results: list[FileResult]) -> dict[str, tuple[Outcome, str | None]]:
    return {r.name: (r.outcome, r.code) for r in results}


@pytest.mark.parametrize("batch_size", [0, 50], ids=["one-by-one", "batched"])
async def test_each_file_gets_a_result_and_a_second_run_stores_nothing(
    app: Container, batch_size: int
) -> None:
    ctx = await owner(app)
    heard: list[str] = []
    options = ImportOptions(DocumentFields(tags=("batch",)), jobs=1, batch_size=batch_size)

    first = await app.document_import().run(ctx, FOLDER, options, lambda r: heard.append(r.name))

    assert [r.name for r in first] == [s.name for s in FOLDER]  # in the order given
    assert sorted(heard) == sorted(s.name for s in FOLDER)
    assert outcomes(first) == {
        "a.txt": (Outcome.IMPORTED, None),
        "notes/b.md": (Outcome.IMPORTED, None),
        "c.pdf": (Outcome.IMPORTED, None),
        "copy-of-a.txt": (Outcome.DUPLICATE, "duplicate"),
        "tool.exe": (Outcome.REJECTED, "unsupported_type"),
        "broken.pdf": (Outcome.REJECTED, "validation_failed"),
        "fake.pdf": (Outcome.REJECTED, "content_mismatch"),
        "empty.txt": (Outcome.REJECTED, "validation_failed"),
    }
    stored = {r.name: r.document_id for r in first if r.outcome is Outcome.IMPORTED}
    assert first[3].document_id == stored["a.txt"]  # the duplicate names what it duplicates
    doc = await app.document_reads().get(ctx, stored["notes/b.md"])  # type: ignore[arg-type]
    assert (doc.document.original_filename, doc.document.tags) == ("b.md", ["batch"])
    assert doc.document.source == "import"
    assert await uploaded_events(app) == 3
    assert await record_statuses(app) == {"stored": 3, "duplicate": 1, "rejected": 4}

    again = await app.document_import().run(ctx, FOLDER, options)

    assert {r.name for r in again if r.outcome is Outcome.DUPLICATE} == {
        "a.txt",
        "notes/b.md",
        "c.pdf",
        "copy-of-a.txt",
    }
    assert [r.outcome for r in again if r.outcome is Outcome.IMPORTED] == []
    assert await uploaded_events(app) == 3


async def test_files_in_flight_at_once_store_the_same_bytes_only_once(app: Container) -> None:
    ctx = await owner(app)
    same = [Source(f"copy-{n}.txt", b"one text, eight files") for n in range(8)]

    results = await app.document_import().run(ctx, same, ImportOptions(jobs=8))

    assert sorted(r.outcome for r in results) == [Outcome.DUPLICATE] * 7 + [Outcome.IMPORTED]
    assert await uploaded_events(app) == 1


@pytest.mark.parametrize(
    ("policy", "second"),
    [("skip", Outcome.DUPLICATE), ("reject", Outcome.REJECTED), ("allow", Outcome.IMPORTED)],
)
async def test_the_duplicate_policy_decides_what_a_known_file_becomes(
    app: Container, policy: str, second: Outcome
) -> None:
    ctx = await owner(app)
    options = ImportOptions(on_duplicate=policy, jobs=1)  # type: ignore[arg-type]
    await app.document_import().run(ctx, [Source("a.txt", b"alpha")], options)

    [result] = await app.document_import().run(ctx, [Source("a-again.txt", b"alpha")], options)

    assert result.outcome is second


async def test_an_owner_without_the_right_gets_every_file_refused(app: Container) -> None:
    ctx = await owner(app, role="guest")

    results = await app.document_import().run(ctx, FOLDER[:3], ImportOptions())

    assert {(r.outcome, r.code) for r in results} == {(Outcome.REJECTED, "permission_denied")}
    assert await uploaded_events(app) == 0


async def test_a_batch_that_cannot_be_stored_whole_is_stored_file_by_file(
    app: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch's unit of work failing (here: the database refuses it) loses no file: each is
    run again on its own, and gets its own outcome and one upload record."""
    ctx = await owner(app)
    uploads = app.document_uploads()
    batches: list[int] = []

    async def refused(ctx: RequestContext, files: list[object], *args: object) -> object:
        batches.append(len(files))
        raise RuntimeError("the batch's transaction failed")

    monkeypatch.setattr(uploads, "store_batch", refused)

    results = await app.document_import().run(ctx, FOLDER, ImportOptions(jobs=2))

    assert batches == [3]  # a.txt, b.md and c.pdf; the copy of a.txt waits for the retry
    assert outcomes(results)["a.txt"] == (Outcome.IMPORTED, None)
    assert outcomes(results)["copy-of-a.txt"] == (Outcome.DUPLICATE, "duplicate")
    assert sum(r.outcome is Outcome.IMPORTED for r in results) == 3
    assert await uploaded_events(app) == 3
    assert await record_statuses(app) == {"stored": 3, "duplicate": 1, "rejected": 4}
    assert len(await app.blobs().keys_older_than(-1)) == 3  # no blob left without its row


async def test_large_files_and_small_ones_are_imported_alike(
    app: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files above the batch limit go one by one, the rest in batches of `batch_size`."""
    ctx = await owner(app)
    files = [Source(f"f{n}.txt", f"file number {n} " * (1 + n % 2)) for n in range(7)]
    files = [Source(f.name, f.data.encode()) for f in files]  # type: ignore[attr-defined]
    batches: list[int] = []
    store_batch = app.document_uploads().store_batch

    async def counted(ctx: RequestContext, prepared: list[object], *args: object) -> object:
        batches.append(len(prepared))
        return await store_batch(ctx, prepared, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(app.document_uploads(), "store_batch", counted)

    results = await app.document_import().run(
        ctx, files, ImportOptions(batch_size=2, batch_file_max=20)
    )

    assert [r.outcome for r in results] == [Outcome.IMPORTED] * 7
    assert batches == [2, 2]  # the four short files; the three long ones alone
    assert await record_statuses(app) == {"stored": 7}


async def test_a_blob_that_cannot_be_stored_fails_its_file_and_leaves_no_other_blob(
    app: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch stores its blobs at once: one failing stops and releases the others, and the
    batch is imported file by file, where only that file fails."""
    ctx = await owner(app)
    blobs = app.blobs()
    put = blobs.put
    bad = hashlib.sha256(b"the disk refuses this one").hexdigest()

    async def failing_put(chunks: AsyncIterator[bytes], **kw: object) -> object:
        if kw.get("sha256") == bad:
            raise OSError("no space left on device")
        return await put(chunks, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(blobs, "put", failing_put)
    files = [Source(f"ok-{n}.txt", f"fine file {n}".encode()) for n in range(5)]
    files.insert(2, Source("bad.txt", b"the disk refuses this one"))

    results = await app.document_import().run(ctx, files, ImportOptions(jobs=3))

    assert outcomes(results)["bad.txt"][0] is Outcome.FAILED
    assert sum(r.outcome is Outcome.IMPORTED for r in results) == 5
    assert len(await blobs.keys_older_than(-1)) == 5  # the released ones were stored again
    assert await record_statuses(app) == {"stored": 5, "failed": 1}
