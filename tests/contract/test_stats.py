"""`StatsRepository`: the SQL adapter (the `category_statistics` view and Core aggregates) and
the in-memory adapter give the same figures in the same order. Run on both storages."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from dependency_injector import providers

from application.context import RequestContext
from domain import events
from domain.documents import Category, Document, Tag
from domain.errors import PermissionDenied, ValidationFailed
from domain.stats import ArchiveSize, CategoryStatistics, DailyCount
from domain.uploads import UploadRecord, UploadSource, UploadStatus
from domain.users import User
from infrastructure.container import Container
from tests.support import factories
from tests.support.clock import SteppingClock

DAY = datetime(2026, 3, 10, tzinfo=UTC)
TRASHED = {"deleted_at": factories.BASE + timedelta(days=1)}


def _category(name: str) -> Category:
    return Category(uuid.uuid4(), name, "", True, factories.BASE)


def _tag(name: str) -> Tag:
    return Tag(uuid.uuid4(), name, "#007bff", "", True, factories.BASE)


async def _store(
    container: Container,
    *,
    users: Sequence[User] = (),
    categories: Sequence[Category] = (),
    tags: Sequence[Tag] = (),
    documents: Sequence[tuple[Document, Sequence[Tag]]] = (),
    happened: Sequence[events.Event] = (),
) -> None:
    async with container.uow_factory()() as uow:
        for user in users:
            await uow.users.add(user)
        for category in categories:
            await uow.categories.add(category)
        for tag in tags:
            await uow.tags.add(tag)
        for doc, on in documents:
            await uow.documents.add(doc)
            await uow.documents.set_tags(doc.id, [t.id for t in on])
        for event in happened:
            await uow.events.add(event)
        await uow.commit()


def _event(action: str, doc: Document | uuid.UUID, at: datetime = DAY) -> events.Event:
    subject = doc.id if isinstance(doc, Document) else doc
    return factories.event(action, str(subject), subject_type="document", occurred_at=at)


# --- category statistics (the view) ---------------------------------------------------------


async def test_category_statistics_count_live_documents_per_category(
    container: Container,
) -> None:
    owner = factories.user()
    reports, zeta, empty = _category("reports"), _category("Zeta"), _category("empty")
    first = factories.document(owner, category_id=reports.id, size_bytes=10)
    last = factories.document(owner, category_id=reports.id, size_bytes=15)
    in_zeta = factories.document(owner, category_id=zeta.id, size_bytes=7)
    await _store(
        container,
        users=[owner],
        categories=[reports, zeta, empty],
        documents=[
            (first, []),
            (last, []),
            (in_zeta, []),
            (factories.document(owner, category_id=reports.id, size_bytes=999, **TRASHED), []),
            (factories.document(owner, size_bytes=500), []),
        ],
    )

    stats = await container.stats_repository().category_statistics()

    assert stats == [
        CategoryStatistics(zeta.id, "Zeta", 1, 7, 7, in_zeta.created_at),
        CategoryStatistics(empty.id, "empty", 0, 0, 0, None),
        CategoryStatistics(reports.id, "reports", 2, 25, 13, last.created_at),
    ]


async def test_category_statistics_are_empty_without_categories(container: Container) -> None:
    assert await container.stats_repository().category_statistics() == []


# --- archive size (the /metrics gauges) -----------------------------------------------------


async def test_archive_size_counts_live_and_trashed_documents_and_each_blob_once(
    container: Container,
) -> None:
    assert await container.stats_repository().archive_size() == ArchiveSize(0, 0, 0)
    owner = factories.user()
    shared = {"storage_key": "ab/cd/shared", "size_bytes": 100}
    await _store(
        container,
        users=[owner],
        documents=[
            (factories.document(owner, **shared), []),
            (factories.document(owner, **shared), []),  # a duplicate kept: one blob
            (factories.document(owner, storage_key="ab/cd/own", size_bytes=7), []),
            (factories.document(owner, storage_key="ab/cd/old", size_bytes=50, **TRASHED), []),
        ],
    )

    size = await container.stats_repository().archive_size()

    assert size == ArchiveSize(live_documents=3, trashed_documents=1, blob_bytes=157)


# --- uploads per day ------------------------------------------------------------------------


async def test_uploads_per_day_count_upload_events_per_utc_day_since_the_start(
    container: Container,
) -> None:
    doc_id = uuid.uuid4()  # purged long since: its upload still counts
    plus_two = timezone(timedelta(hours=2))
    await _store(
        container,
        happened=[
            _event(events.DOCUMENT_UPLOADED, doc_id, DAY - timedelta(seconds=1)),  # before
            _event(events.DOCUMENT_UPLOADED, doc_id, DAY),
            # 01:30 on the 11th at UTC+2 is still the 10th in UTC.
            _event(events.DOCUMENT_UPLOADED, doc_id, datetime(2026, 3, 11, 1, 30, tzinfo=plus_two)),
            _event(events.DOCUMENT_UPLOADED, doc_id, DAY + timedelta(days=2, hours=23)),
            _event(events.DOCUMENT_VIEWED, doc_id, DAY + timedelta(days=1)),
        ],
    )

    days = await container.stats_repository().uploads_per_day(DAY)

    assert days == [DailyCount(date(2026, 3, 10), 2), DailyCount(date(2026, 3, 12), 1)]


# --- popular tags ---------------------------------------------------------------------------


async def test_popular_tags_count_live_documents_most_first_then_by_name(
    container: Container,
) -> None:
    owner = factories.user()
    common, upper, lower, trash_only, unused = (
        _tag(n) for n in ("common", "Zed", "apple", "binned", "unused")
    )
    await _store(
        container,
        users=[owner],
        tags=[common, upper, lower, trash_only, unused],
        documents=[
            (factories.document(owner), [common, upper]),
            (factories.document(owner), [common, lower]),
            (factories.document(owner, **TRASHED), [common, upper, trash_only]),
        ],
    )

    popular = await container.stats_repository().popular_tags(10)

    assert [(u.tag_id, u.name, u.document_count) for u in popular] == [
        (common.id, "common", 2),
        (upper.id, "Zed", 1),
        (lower.id, "apple", 1),
    ]


async def test_popular_tags_stop_at_the_limit(container: Container) -> None:
    owner = factories.user()
    tags = [_tag(f"tag{n}") for n in range(4)]
    await _store(container, users=[owner], tags=tags, documents=[(factories.document(owner), tags)])

    popular = await container.stats_repository().popular_tags(2)

    assert [u.name for u in popular] == ["tag0", "tag1"]


# --- most viewed and downloaded -------------------------------------------------------------


async def test_most_viewed_documents_rank_live_documents_by_their_views(
    container: Container,
) -> None:
    owner = factories.user()
    hit = factories.document(owner, title="hit")
    upper = factories.document(owner, title="Once")
    lower = factories.document(owner, title="also once")
    binned = factories.document(owner, title="binned", **TRASHED)
    unseen = factories.document(owner, title="unseen")
    await _store(
        container,
        users=[owner],
        documents=[(d, []) for d in (hit, upper, lower, binned, unseen)],
        happened=[
            *(_event(events.DOCUMENT_VIEWED, hit) for _ in range(3)),
            _event(events.DOCUMENT_VIEWED, lower),
            _event(events.DOCUMENT_VIEWED, upper),
            *(_event(events.DOCUMENT_VIEWED, binned) for _ in range(5)),
            *(_event(events.DOCUMENT_VIEWED, uuid.uuid4()) for _ in range(5)),  # purged
            _event(events.DOCUMENT_DOWNLOADED, lower),
            factories.event(events.DOCUMENT_VIEWED, str(unseen.id), subject_type="user"),
        ],
    )

    viewed = await container.stats_repository().most_active_documents(events.DOCUMENT_VIEWED, 10)

    assert [(a.document_id, a.title, a.count) for a in viewed] == [
        (hit.id, "hit", 3),
        (upper.id, "Once", 1),
        (lower.id, "also once", 1),
    ]


async def test_most_downloaded_documents_count_downloads_only_up_to_the_limit(
    container: Container,
) -> None:
    owner = factories.user()
    docs = [factories.document(owner, title=f"doc {n}") for n in range(3)]
    await _store(
        container,
        users=[owner],
        documents=[(d, []) for d in docs],
        happened=[
            *(_event(events.DOCUMENT_DOWNLOADED, docs[2]) for _ in range(2)),
            _event(events.DOCUMENT_DOWNLOADED, docs[0]),
            _event(events.DOCUMENT_DOWNLOADED, docs[1]),
            *(_event(events.DOCUMENT_VIEWED, docs[1]) for _ in range(4)),
        ],
    )

    downloaded = await container.stats_repository().most_active_documents(
        events.DOCUMENT_DOWNLOADED, 2
    )

    assert [(a.title, a.count) for a in downloaded] == [("doc 2", 2), ("doc 0", 1)]


# --- the use case ---------------------------------------------------------------------------


async def test_overview_gives_every_day_of_the_window_with_zeros(container: Container) -> None:
    container.clock.override(providers.Object(SteppingClock(DAY + timedelta(days=2, hours=12))))
    await _store(
        container,
        happened=[
            _event(events.DOCUMENT_UPLOADED, uuid.uuid4(), DAY - timedelta(days=1)),
            _event(events.DOCUMENT_UPLOADED, uuid.uuid4(), DAY + timedelta(hours=5)),
        ],
    )

    overview = await container.stats().overview(RequestContext.system(), days=3)

    assert [(d.day.day, d.count) for d in overview.uploads_per_day] == [(10, 1), (11, 0), (12, 0)]


async def test_overview_is_for_admins_only(container: Container) -> None:
    member = factories.user()

    with pytest.raises(PermissionDenied):
        await container.stats().overview(RequestContext(member))


@pytest.mark.parametrize(("days", "limit"), [(0, 10), (367, 10), (30, 0), (30, 101)])
async def test_overview_rejects_a_window_or_limit_out_of_range(
    container: Container, days: int, limit: int
) -> None:
    with pytest.raises(ValidationFailed):
        await container.stats().overview(RequestContext.system(), days=days, limit=limit)


async def test_upload_outcomes_per_day_count_attempts_by_status_with_the_failure_rate(
    container: Container,
) -> None:
    container.clock.override(providers.Object(SteppingClock(DAY + timedelta(days=1, hours=12))))
    statuses = [
        (DAY + timedelta(hours=1), UploadStatus.STORED),
        (DAY + timedelta(hours=2), UploadStatus.REJECTED),
        (DAY + timedelta(hours=3), UploadStatus.STORED),
        (DAY + timedelta(hours=4), UploadStatus.FAILED),
        (DAY - timedelta(days=5), UploadStatus.REJECTED),  # before the window
    ]
    async with container.uow_factory()() as uow:
        for at, status in statuses:
            await uow.uploads.add(
                UploadRecord(
                    uuid.uuid4(), UploadSource.HTTP, None, None, None, "f.txt", 1, None,
                    status, None, at, at, None,
                )
            )  # fmt: skip
        await uow.commit()

    overview = await container.stats().overview(RequestContext.system(), days=2)

    [first, second] = overview.upload_outcomes_per_day
    assert (first.day, first.stored, first.rejected, first.failed) == (DAY.date(), 2, 1, 1)
    assert (first.attempts, first.failure_rate) == (4, 0.5)
    assert (second.attempts, second.failure_rate) == (0, 0.0)
