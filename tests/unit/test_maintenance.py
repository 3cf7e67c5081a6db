"""`archivist purge` and `archivist seed-demo` as use cases, on the in-memory container with a
deterministic clock (and a blob store whose clock the test moves)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from dependency_injector import providers

from application.context import RequestContext
from application.demo import DEMO_USERS
from application.document_store import DocumentFields
from application.settings import SettingWrite
from application.users import CreateUser
from domain import events
from domain.document_ports import DocumentFilter, DocumentSort
from domain.documents import Document, DocumentType
from domain.events import EventFilter
from domain.pagination import MAX_LIMIT, PageRequest
from domain.users import User
from infrastructure.config import AppSettings
from infrastructure.container import Container, build_container
from infrastructure.memory.blobs import InMemoryBlobStore
from tests.support.clock import SteppingClock

SYSTEM = RequestContext.system()
HOUR = 3600.0


class Seconds:
    """A clock for the blob store, in seconds, moved by hand."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
def seconds() -> Seconds:
    return Seconds()


@pytest.fixture
def blobs(seconds: Seconds) -> InMemoryBlobStore:
    return InMemoryBlobStore(clock=seconds)


@pytest.fixture
def app(clock: SteppingClock, blobs: InMemoryBlobStore) -> Container:
    container = build_container(AppSettings(storage="memory"))
    container.clock.override(providers.Object(clock))
    container.blobs.override(providers.Object(blobs))
    return container


@pytest.fixture
async def owner(app: Container) -> User:
    return await app.users().create(
        SYSTEM, CreateUser(email="olga@example.com", name="Olga", access_level=3)
    )


async def _text(app: Container, owner: User, title: str, content: str | None = None) -> Document:
    return await app.document_uploads().create_text(
        RequestContext(owner),
        content or f"the text of {title}",
        DocumentType.TXT,
        DocumentFields(title=title, on_duplicate="allow"),
    )


async def _retention_one_day(app: Container) -> None:
    await app.settings().put(SYSTEM, "trash_retention_days", SettingWrite(1))


async def _purge_events(app: Container) -> list[events.Event]:
    async with app.uow_factory()(autocommit=True) as uow:
        page = await uow.events.list(EventFilter(action=events.DOCUMENT_PURGED), PageRequest(200))
    return list(page.items)


async def _put(blobs: InMemoryBlobStore, data: bytes) -> str:
    async def once() -> AsyncIterator[bytes]:
        yield data

    return (await blobs.put(once(), max_bytes=len(data))).key


# --- purge: the trash -----------------------------------------------------------------------


async def test_purge_removes_documents_in_the_trash_past_retention(
    app: Container, owner: User, clock: SteppingClock
) -> None:
    await _retention_one_day(app)
    old = await _text(app, owner, "old")
    await app.document_lifecycle().delete(RequestContext(owner), old.id)
    clock.advance(timedelta(days=2))

    report = await app.maintenance().purge(dry_run=False)

    assert [d.id for d in report.documents] == [old.id]
    assert old.id not in app.memory_store().documents


async def test_purge_keeps_recent_trash_and_live_documents(
    app: Container, owner: User, clock: SteppingClock
) -> None:
    await _retention_one_day(app)
    live = await _text(app, owner, "live")
    clock.advance(timedelta(days=2))
    recent = await _text(app, owner, "recent")
    await app.document_lifecycle().delete(RequestContext(owner), recent.id)

    report = await app.maintenance().purge(dry_run=False)

    assert report.documents == []
    assert {live.id, recent.id} <= set(app.memory_store().documents)


async def test_purge_records_a_purged_event_by_the_system_for_each_document(
    app: Container, owner: User, clock: SteppingClock
) -> None:
    await _retention_one_day(app)
    docs = [await _text(app, owner, f"doc {n}") for n in range(3)]
    for doc in docs:
        await app.document_lifecycle().delete(RequestContext(owner), doc.id)
    clock.advance(timedelta(days=2))

    await app.maintenance().purge(dry_run=False)

    purged = await _purge_events(app)
    assert sorted(e.subject_id for e in purged) == sorted(str(d.id) for d in docs)
    assert {e.actor_id for e in purged} == {None}


async def test_a_purged_event_names_the_document_and_the_retention_as_its_reason(
    app: Container, owner: User, clock: SteppingClock
) -> None:
    await _retention_one_day(app)
    doc = await _text(app, owner, "old")
    await app.document_lifecycle().delete(RequestContext(owner), doc.id)
    clock.advance(timedelta(days=2))

    await app.maintenance().purge(dry_run=False)

    [event] = await _purge_events(app)
    assert (event.subject_type, event.subject_id, event.data) == (
        "document",
        str(doc.id),
        {"title": "old", "sha256": doc.sha256, "reason": "trash retention"},
    )


async def test_purge_uses_the_default_retention_of_30_days(
    app: Container, owner: User, clock: SteppingClock
) -> None:
    doc = await _text(app, owner, "doc")
    await app.document_lifecycle().delete(RequestContext(owner), doc.id)
    clock.advance(timedelta(days=29))
    assert (await app.maintenance().purge(dry_run=False)).documents == []

    clock.advance(timedelta(days=2))
    report = await app.maintenance().purge(dry_run=False)

    assert (report.retention_days, [d.id for d in report.documents]) == (30, [doc.id])


async def test_purge_deletes_the_blob_of_a_purged_document_and_counts_its_bytes(
    app: Container, owner: User, clock: SteppingClock, blobs: InMemoryBlobStore
) -> None:
    await _retention_one_day(app)
    doc = await _text(app, owner, "doc", "twelve bytes")
    await app.document_lifecycle().delete(RequestContext(owner), doc.id)
    clock.advance(timedelta(days=2))

    report = await app.maintenance().purge(dry_run=False)

    assert not await blobs.exists(doc.storage_key)
    assert [(b.key, b.reason) for b in report.blobs] == [(doc.storage_key, "trash")]
    assert report.bytes_freed == len(b"twelve bytes")


async def test_purge_keeps_a_blob_another_document_still_references(
    app: Container, owner: User, clock: SteppingClock, blobs: InMemoryBlobStore
) -> None:
    await _retention_one_day(app)
    doc = await _text(app, owner, "doc", "same bytes")
    await _text(app, owner, "twin", "same bytes")
    await app.document_lifecycle().delete(RequestContext(owner), doc.id)
    clock.advance(timedelta(days=2))

    report = await app.maintenance().purge(dry_run=False)

    assert [d.id for d in report.documents] == [doc.id]
    assert await blobs.exists(doc.storage_key)
    assert (report.blobs, report.bytes_freed) == ([], 0)


async def test_purge_goes_through_more_documents_than_one_batch(
    app: Container, owner: User, clock: SteppingClock
) -> None:
    app.maintenance.add_kwargs(batch=2)  # before the service is first made
    await _retention_one_day(app)
    docs = [await _text(app, owner, f"doc {n}") for n in range(5)]
    for doc in docs:
        await app.document_lifecycle().delete(RequestContext(owner), doc.id)
    clock.advance(timedelta(days=2))

    report = await app.maintenance().purge(dry_run=False)

    assert sorted(d.id for d in report.documents) == sorted(d.id for d in docs)
    assert app.memory_store().documents == {}
    # Each batch is a unit of work of its own, its events stamped with its own time.
    per_batch = Counter(e.occurred_at for e in await _purge_events(app))
    assert sorted(per_batch.values(), reverse=True) == [2, 2, 1]


# --- purge: unreferenced blobs --------------------------------------------------------------


async def test_purge_deletes_unreferenced_blobs_older_than_the_grace_period(
    app: Container, blobs: InMemoryBlobStore, seconds: Seconds
) -> None:
    key = await _put(blobs, b"left behind")
    seconds.now += HOUR + 1

    report = await app.maintenance().purge(dry_run=False)

    assert not await blobs.exists(key)
    assert [(b.key, b.size_bytes, b.reason) for b in report.blobs] == [
        (key, len(b"left behind"), "unreferenced")
    ]


async def test_purge_keeps_a_young_unreferenced_blob_an_upload_may_still_commit(
    app: Container, blobs: InMemoryBlobStore, seconds: Seconds
) -> None:
    key = await _put(blobs, b"in flight")
    seconds.now += HOUR - 1

    report = await app.maintenance().purge(dry_run=False)

    assert await blobs.exists(key)
    assert report.blobs == []


async def test_purge_keeps_old_blobs_that_rows_reference_trash_included(
    app: Container, owner: User, blobs: InMemoryBlobStore, seconds: Seconds
) -> None:
    live = await _text(app, owner, "live")
    trashed = await _text(app, owner, "trashed")
    await app.document_lifecycle().delete(RequestContext(owner), trashed.id)
    seconds.now += 10 * HOUR

    report = await app.maintenance().purge(dry_run=False)

    assert await blobs.exists(live.storage_key)
    assert await blobs.exists(trashed.storage_key)
    assert report.blobs == []


# --- purge: partial uploads (a crash mid-upload) --------------------------------------------


@pytest.fixture
async def interrupted(blobs: InMemoryBlobStore) -> AsyncIterator[asyncio.Task[object]]:
    """A put that stopped after its first 14 bytes, as one a crash interrupted would."""
    started = asyncio.Event()

    async def chunks() -> AsyncIterator[bytes]:
        yield b"half an upload"
        started.set()
        await asyncio.Event().wait()  # the rest never comes
        yield b""

    put: asyncio.Task[object] = asyncio.create_task(blobs.put(chunks(), max_bytes=100))
    await started.wait()
    yield put
    put.cancel()
    with contextlib.suppress(asyncio.CancelledError, FileNotFoundError):
        await put


async def test_purge_deletes_partial_uploads_idle_longer_than_the_grace_period(
    app: Container, blobs: InMemoryBlobStore, seconds: Seconds, interrupted: object
) -> None:
    seconds.now += HOUR + 1

    report = await app.maintenance().purge(dry_run=False)

    assert [(b.key.startswith("put-"), b.size_bytes, b.reason) for b in report.blobs] == [
        (True, 14, "partial")
    ]
    assert report.bytes_freed == 14
    assert await blobs.partial_uploads_older_than(0) == []


async def test_purge_keeps_a_partial_upload_written_to_within_the_grace_period(
    app: Container, blobs: InMemoryBlobStore, seconds: Seconds, interrupted: object
) -> None:
    seconds.now += HOUR - 1

    report = await app.maintenance().purge(dry_run=False)

    assert report.blobs == []
    assert len(await blobs.partial_uploads_older_than(0)) == 1


async def test_a_dry_run_reports_partial_uploads_and_keeps_them(
    app: Container, blobs: InMemoryBlobStore, seconds: Seconds, interrupted: object
) -> None:
    seconds.now += HOUR + 1

    report = await app.maintenance().purge(dry_run=True)

    assert [(b.size_bytes, b.reason) for b in report.blobs] == [(14, "partial")]
    assert [p.size_bytes for p in await blobs.partial_uploads_older_than(HOUR)] == [14]


async def test_purge_sweeps_search_logs_past_their_retention(app: Container) -> None:
    report = await app.maintenance().purge(dry_run=False)

    assert (report.search_queries, report.search_retention_days) == (0, 90)


# --- purge --dry-run ------------------------------------------------------------------------


async def test_a_dry_run_changes_nothing(
    app: Container,
    owner: User,
    clock: SteppingClock,
    blobs: InMemoryBlobStore,
    seconds: Seconds,
) -> None:
    await _retention_one_day(app)
    doc = await _text(app, owner, "doc")
    await app.document_lifecycle().delete(RequestContext(owner), doc.id)
    loose = await _put(blobs, b"loose")
    clock.advance(timedelta(days=2))
    seconds.now += 2 * HOUR
    store = app.memory_store()
    before = (dict(store.documents), len(store.events), await blobs.keys_older_than(0))

    await app.maintenance().purge(dry_run=True)

    after = (dict(store.documents), len(store.events), await blobs.keys_older_than(0))
    assert after == before
    assert {doc.storage_key, loose} <= set(after[2])


async def test_a_dry_run_reports_what_a_real_run_then_does(
    app: Container,
    owner: User,
    clock: SteppingClock,
    blobs: InMemoryBlobStore,
    seconds: Seconds,
) -> None:
    await _retention_one_day(app)
    gone = await _text(app, owner, "gone", "bytes of gone")
    kept_twin = await _text(app, owner, "shared", "shared bytes")
    shared = await _text(app, owner, "shared too", "shared bytes")
    for doc in (gone, shared):
        await app.document_lifecycle().delete(RequestContext(owner), doc.id)
    await _put(blobs, b"loose")
    clock.advance(timedelta(days=2))
    seconds.now += 2 * HOUR

    planned = await app.maintenance().purge(dry_run=True)
    done = await app.maintenance().purge(dry_run=False)

    assert planned.dry_run and not done.dry_run
    assert sorted(d.id for d in planned.documents) == sorted(d.id for d in done.documents)
    assert sorted(planned.blobs, key=lambda b: b.key) == sorted(done.blobs, key=lambda b: b.key)
    assert planned.bytes_freed == done.bytes_freed == len(b"bytes of gone") + len(b"loose")
    assert await blobs.exists(kept_twin.storage_key)


# --- seed-demo ------------------------------------------------------------------------------


async def test_seed_demo_creates_three_users_each_with_a_working_token(app: Container) -> None:
    report = await app.demo().seed()

    assert [
        (u.user.email, u.user.role.value, int(u.user.access_level), u.user.department)
        for u in report.users
    ] == [
        ("admin@demo.archivist.localhost", "admin", 3, "Management"),
        ("engineer@demo.archivist.localhost", "member", 2, "Engineering"),
        ("intern@demo.archivist.localhost", "member", 1, "Engineering"),
    ]
    for demo_user in report.users:
        assert demo_user.created and demo_user.token is not None
        principal = await app.tokens().authenticate(demo_user.token)
        assert principal.user.id == demo_user.user.id


async def test_seed_demo_creates_the_handbook_guide_and_strategy(app: Container) -> None:
    report = await app.demo().seed()

    assert [(d.title, d.access_level, d.department, d.created) for d in report.documents] == [
        ("Employee Handbook", 1, None, True),
        ("Engineering Guide", 2, "Engineering", True),
        ("Company Strategy 2026", 3, "Management", True),
    ]
    stored = app.memory_store().documents
    assert {stored[d.document_id].document_type for d in report.documents} == {
        DocumentType.MARKDOWN
    }


async def test_seed_demo_documents_are_readable_as_their_levels_say(app: Container) -> None:
    report = await app.demo().seed()
    titles = {}
    for demo_user in report.users:
        page = await app.document_reads().list_documents(
            RequestContext(demo_user.user), DocumentFilter(), DocumentSort.TITLE, PageRequest()
        )
        titles[demo_user.user.email.split("@")[0]] = [d.title for d in page.items]

    assert titles == {
        "admin": ["Company Strategy 2026", "Employee Handbook", "Engineering Guide"],
        "engineer": ["Employee Handbook", "Engineering Guide"],
        "intern": ["Employee Handbook"],
    }


async def test_seed_demo_run_twice_changes_nothing_and_issues_no_token(app: Container) -> None:
    await app.demo().seed()
    store = app.memory_store()
    before = (len(store.users), len(store.tokens), len(store.documents), len(store.events))

    again = await app.demo().seed()

    assert not again.changed
    assert [u.token for u in again.users] == [None, None, None]
    assert (len(store.users), len(store.tokens), len(store.documents), len(store.events)) == (
        before
    )


async def test_seed_demo_does_not_recreate_a_document_its_owner_moved_to_the_trash(
    app: Container,
) -> None:
    first = await app.demo().seed()
    handbook = first.documents[0]
    await app.document_lifecycle().delete(RequestContext(first.users[0].user), handbook.document_id)

    again = await app.demo().seed()

    assert not again.changed
    assert again.documents[0].document_id == handbook.document_id


async def test_seed_demo_completes_what_exists_already(app: Container) -> None:
    admin = DEMO_USERS[0]
    existing = await app.users().create(
        SYSTEM,
        CreateUser(email=admin.email, name="Already here", access_level=3, role="admin"),
    )

    report = await app.demo().seed()

    assert (report.users[0].user.id, report.users[0].created, report.users[0].token) == (
        existing.id,
        False,
        None,
    )
    assert [u.created for u in report.users[1:]] == [True, True]
    assert all(d.created for d in report.documents)


async def test_purge_expires_views_downloads_and_searches_but_keeps_changes() -> None:
    """`event_retention_days`: what people read and looked for goes after it; what they
    changed stays for good. The dry run counts and deletes nothing."""
    container = build_container(AppSettings(storage="memory"))
    clock = SteppingClock(datetime(2026, 1, 1, tzinfo=UTC))
    container.clock.override(providers.Object(clock))
    system = RequestContext.system()
    old = [
        system.event(action, "document", "d1", datetime(2024, 1, 1, tzinfo=UTC))
        for action in (*sorted(events.EXPIRING), events.DOCUMENT_UPDATED, events.USER_CREATED)
    ]
    recent = system.event(
        events.DOCUMENT_VIEWED, "document", "d1", datetime(2025, 12, 1, tzinfo=UTC)
    )
    async with container.uow_factory()() as uow:
        for event in [*old, recent]:
            await uow.events.add(event)
        await uow.commit()

    dry = await container.maintenance().purge(dry_run=True)
    done = await container.maintenance().purge(dry_run=False)

    assert (dry.events, done.events, done.event_retention_days) == (4, 4, 365)
    async with container.uow_factory()(autocommit=True) as uow:
        left = (await uow.events.list(EventFilter(), PageRequest(limit=MAX_LIMIT))).items
    assert sorted(e.action for e in left if e.subject_id == "d1") == [
        events.DOCUMENT_UPDATED,
        events.DOCUMENT_VIEWED,  # the recent one
        events.USER_CREATED,
    ]
