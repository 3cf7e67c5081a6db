"""`UploadRepository` on both storages: records kept only with their unit of work, listed
newest first through keyset pages and filters, and deleted oldest first for retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from domain.errors import Conflict
from domain.pagination import PageRequest
from domain.uploads import UploadFilter, UploadRecord, UploadSource, UploadStatus
from infrastructure.memory.uow import InMemoryUnitOfWorkFactory
from infrastructure.sqlalchemy.uow import SqlAlchemyUnitOfWorkFactory

Factory = InMemoryUnitOfWorkFactory | SqlAlchemyUnitOfWorkFactory
T0 = datetime(2026, 3, 1, tzinfo=UTC)
ALICE, BOB = uuid4(), uuid4()


def record(n: int, status: UploadStatus, source: UploadSource, user: UUID) -> UploadRecord:
    started = T0 + timedelta(minutes=n)
    return UploadRecord(
        id=uuid4(),
        source=source,
        user_id=user,
        client_ip="192.0.2.1",
        user_agent="curl/8",
        filename=f"file-{n}.pdf",
        size_bytes=100 + n,
        sha256="ab" * 32 if status is UploadStatus.STORED else None,
        status=status,
        error_code=None if status is UploadStatus.STORED else "unsupported_type",
        started_at=started,
        completed_at=started + timedelta(seconds=2),
        document_id=uuid4() if status is UploadStatus.STORED else None,
    )


RECORDS = [
    record(0, UploadStatus.STORED, UploadSource.HTTP, ALICE),
    record(1, UploadStatus.REJECTED, UploadSource.HTTP, BOB),
    record(2, UploadStatus.DUPLICATE, UploadSource.IMPORT, ALICE),
    record(3, UploadStatus.STORED, UploadSource.TEXT, BOB),
    record(4, UploadStatus.FAILED, UploadSource.IMPORT, ALICE),
]


async def _store(uow_factory: Factory) -> None:
    async with uow_factory() as uow:
        for r in RECORDS:
            await uow.uploads.add(r)
        await uow.commit()


async def _all(uow_factory: Factory, filters: UploadFilter, limit: int = 2) -> list[UploadRecord]:
    found: list[UploadRecord] = []
    cursor = None
    async with uow_factory(autocommit=True) as uow:
        while True:
            page = await uow.uploads.list(filters, PageRequest(limit=limit, cursor=cursor))
            found += page.items
            if page.next_cursor is None:
                return found
            cursor = page.next_cursor


async def test_records_read_back_newest_first_page_by_page(uow_factory: Factory) -> None:
    await _store(uow_factory)

    assert await _all(uow_factory, UploadFilter()) == RECORDS[::-1]


async def test_records_are_filtered_by_status_source_user_and_time(uow_factory: Factory) -> None:
    await _store(uow_factory)

    async def ids(**kw: object) -> list[UUID]:
        return [r.id for r in await _all(uow_factory, UploadFilter(**kw))]  # type: ignore[arg-type]

    assert await ids(status=UploadStatus.STORED) == [RECORDS[3].id, RECORDS[0].id]
    assert await ids(source=UploadSource.IMPORT) == [RECORDS[4].id, RECORDS[2].id]
    assert await ids(user_id=BOB) == [RECORDS[3].id, RECORDS[1].id]
    window = {"since": T0 + timedelta(minutes=1), "until": T0 + timedelta(minutes=3)}
    assert await ids(**window) == [RECORDS[2].id, RECORDS[1].id]


async def test_a_record_exists_only_once_its_unit_of_work_commits(uow_factory: Factory) -> None:
    async with uow_factory() as uow:
        await uow.uploads.add(RECORDS[0])  # no commit

    assert await _all(uow_factory, UploadFilter()) == []


async def test_retention_deletes_the_oldest_first_and_a_dry_run_nothing(
    uow_factory: Factory,
) -> None:
    await _store(uow_factory)
    cutoff = T0 + timedelta(minutes=3)

    async with uow_factory(autocommit=True) as uow:
        would = await uow.uploads.delete_before(cutoff, 100, dry_run=True)
    async with uow_factory() as uow:
        first = await uow.uploads.delete_before(cutoff, 2)
        await uow.commit()
    async with uow_factory() as uow:
        rest = await uow.uploads.delete_before(cutoff, 100)
        await uow.commit()

    assert (would, first, rest) == (3, 2, 1)
    assert await _all(uow_factory, UploadFilter()) == [RECORDS[4], RECORDS[3]]


async def test_records_added_together_are_all_or_nothing(uow_factory: Factory) -> None:
    async with uow_factory() as uow:
        await uow.uploads.add_all(RECORDS[:3])
        await uow.commit()
    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            await uow.uploads.add_all([RECORDS[3], RECORDS[0]])  # the second is stored already
    async with uow_factory() as uow:
        await uow.uploads.add_all(RECORDS[3:])
        await uow.commit()

    assert await _all(uow_factory, UploadFilter(), limit=10) == RECORDS[::-1]
