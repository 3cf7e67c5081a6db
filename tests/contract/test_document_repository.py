"""The document-area repositories' contract, on memory and PostgreSQL alike."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.document_ports import DocumentFilter, DocumentSort
from domain.documents import Access, Category, DocumentType, Permission, Tag
from domain.errors import Conflict, ValidationFailed
from domain.events import EventFilter
from domain.pagination import PageRequest
from domain.ports import UnitOfWorkFactory
from domain.users import User
from infrastructure.memory.store import InMemoryStore
from infrastructure.memory.uow import InMemoryUnitOfWorkFactory
from infrastructure.sqlalchemy.database import Database
from infrastructure.sqlalchemy.uow import SqlAlchemyUnitOfWorkFactory
from tests.conftest import truncate_all
from tests.support import factories


async def _admin_and_owner(uow_factory: UnitOfWorkFactory) -> tuple[User, User]:
    admin, owner = factories.user(role="admin", access_level=3), factories.user()
    async with uow_factory() as uow:
        await uow.users.add(admin)
        await uow.users.add(owner)
        await uow.commit()
    return admin, owner


def _tag(name: str) -> Tag:
    return Tag(uuid.uuid4(), name, "#007bff", "", True, factories.BASE)


async def test_a_document_reads_back_with_its_tags(uow_factory: UnitOfWorkFactory) -> None:
    admin, owner = await _admin_and_owner(uow_factory)
    doc = factories.document(owner, metadata={"lang": "ko", "n": [1, 2]}, department="Eng")
    red, blue = _tag("red"), _tag("Blue")
    async with uow_factory() as uow:
        await uow.tags.add(red)
        await uow.tags.add(blue)
        await uow.documents.add(doc)
        await uow.documents.set_tags(doc.id, [red.id, blue.id, red.id])
        await uow.commit()
    async with uow_factory(autocommit=True) as uow:
        found = await uow.documents.get_readable(doc.id, admin)
    assert found is not None
    got = found.document
    assert (got.title, got.content, got.metadata, got.department, got.tags) == (
        doc.title,
        doc.content,
        {"lang": "ko", "n": [1, 2]},
        "Eng",
        ["Blue", "red"],
    )
    assert (got.version, got.created_at, got.sha256, found.grant) == (
        1,
        doc.created_at,
        doc.sha256,
        None,
    )


async def test_list_filters_compose(uow_factory: UnitOfWorkFactory) -> None:
    admin, owner = await _admin_and_owner(uow_factory)
    cat = Category(uuid.uuid4(), "Guides", "", True, factories.BASE)
    a = factories.document(owner, metadata={"k": "v", "x": {"y": 1}}, department="Eng")
    b = factories.document(owner, document_type=DocumentType.MARKDOWN, category_id=cat.id)
    c = factories.document(admin, access_level=3)
    t1, t2 = _tag("alpha"), _tag("Beta")
    async with uow_factory() as uow:
        await uow.categories.add(cat)
        await uow.tags.add(t1)
        await uow.tags.add(t2)
        for doc in (a, b, c):
            await uow.documents.add(doc)
        await uow.documents.set_tags(a.id, [t1.id, t2.id])
        await uow.documents.set_tags(b.id, [t1.id])
        await uow.commit()

    async def titles(**kw: Any) -> list[str]:
        async with uow_factory(autocommit=True) as uow:
            page = await uow.documents.list_readable(
                admin, DocumentFilter(**kw), DocumentSort.CREATED, PageRequest()
            )
        return [d.title for d in page.items]

    assert await titles(tags=("ALPHA",)) == [a.title, b.title]
    assert await titles(tags=("alpha", "beta")) == [a.title]
    assert await titles(category_id=cat.id) == [b.title]
    assert await titles(category="Guides") == [b.title]
    assert await titles(category="Guides", tags=("alpha",)) == [b.title]
    assert await titles(category="Guides", category_id=uuid.uuid4()) == []
    with pytest.raises(ValidationFailed) as unknown:
        await titles(category="guides")  # names match exactly
    assert unknown.value.errors[0].field == "category"
    assert await titles(document_type=DocumentType.MARKDOWN) == [b.title]
    assert await titles(department="Eng") == [a.title]
    assert await titles(access_level=3) == [c.title]
    assert await titles(owner_id=admin.id) == [c.title]
    assert await titles(metadata={"x": {"y": 1}}) == [a.title]
    assert await titles(metadata={"k": "other"}) == []
    assert await titles(created_after=b.created_at) == [b.title, c.title]
    assert await titles(created_before=b.created_at) == [a.title]


async def test_the_trash_lists_only_trashed_documents_of_the_owner(
    uow_factory: UnitOfWorkFactory,
) -> None:
    admin, owner = await _admin_and_owner(uow_factory)
    mine = factories.document(owner)
    theirs = factories.document(admin)
    live = factories.document(owner)
    for doc in (mine, theirs):
        doc.deleted_at = doc.created_at + timedelta(hours=1)
    async with uow_factory() as uow:
        for doc in (mine, theirs, live):
            await uow.documents.add(doc)
        await uow.commit()

    async def trash(reader: User) -> list[object]:
        async with uow_factory(autocommit=True) as uow:
            page = await uow.documents.list_readable(
                reader, DocumentFilter(deleted=True), DocumentSort.CREATED, PageRequest()
            )
        return [d.id for d in page.items]

    assert await trash(owner) == [mine.id]
    assert await trash(admin) == [mine.id, theirs.id]
    async with uow_factory(autocommit=True) as uow:
        old = await uow.documents.trashed_before(mine.deleted_at + timedelta(seconds=1), 10)  # type: ignore[operator]
    assert [d.id for d in old] == [mine.id]


async def test_update_succeeds_only_from_the_expected_version(
    uow_factory: UnitOfWorkFactory,
) -> None:
    admin, owner = await _admin_and_owner(uow_factory)
    doc = factories.document(owner)
    async with uow_factory() as uow:
        await uow.documents.add(doc)
        await uow.commit()
    doc.title, doc.version = "Renamed", 2
    async with uow_factory() as uow:
        assert await uow.documents.update(doc, expected_version=1)
        assert not await uow.documents.update(doc, expected_version=1)
        await uow.commit()
    async with uow_factory(autocommit=True) as uow:
        found = await uow.documents.get_readable(doc.id, admin)
    assert found is not None
    assert (found.document.title, found.document.version, found.document.content) == (
        "Renamed",
        2,
        doc.content,
    )


async def test_purge_removes_grants_and_tag_links(uow_factory: UnitOfWorkFactory) -> None:
    admin, owner = await _admin_and_owner(uow_factory)
    doc = factories.document(owner, access_level=3)
    tag = _tag("gone")
    async with uow_factory() as uow:
        await uow.tags.add(tag)
        await uow.documents.add(doc)
        await uow.documents.set_tags(doc.id, [tag.id])
        await uow.permissions.put(
            Permission(uuid.uuid4(), admin.id, doc.id, Access.READ, None, factories.BASE)
        )
        await uow.commit()
    async with uow_factory() as uow:
        await uow.documents.purge(doc.id)
        await uow.commit()
    async with uow_factory(autocommit=True) as uow:
        assert await uow.documents.get_readable(doc.id, admin) is None
        assert await uow.permissions.list_for(doc.id) == []
        assert await uow.tags.popular(admin, 10) == []
        assert await uow.documents.count_referencing(doc.storage_key) == 0


async def test_duplicates_group_readable_live_documents_by_bytes(
    uow_factory: UnitOfWorkFactory,
) -> None:
    admin, owner = await _admin_and_owner(uow_factory)
    same = "a" * 64
    one, two = factories.document(owner, sha256=same), factories.document(owner, sha256=same)
    hidden = factories.document(admin, sha256=same, access_level=3)
    trashed = factories.document(owner, sha256=same)
    trashed.deleted_at = trashed.created_at
    single = factories.document(owner)
    async with uow_factory() as uow:
        for doc in (one, two, hidden, trashed, single):
            await uow.documents.add(doc)
        await uow.commit()
    async with uow_factory(autocommit=True) as uow:
        for_owner = await uow.documents.duplicate_groups(owner, 10)
        for_admin = await uow.documents.duplicate_groups(admin, 10)
        same_bytes = await uow.documents.readable_with_sha256(same, owner)
        keys = await uow.documents.storage_keys()
    assert [(g.sha256, [d.id for d in g.documents]) for g in for_owner] == [
        (same, [one.id, two.id])
    ]
    assert [len(g.documents) for g in for_admin] == [3]
    assert [d.id for d in same_bytes] == [one.id, two.id]
    assert single.storage_key in keys and trashed.storage_key in keys


async def test_names_of_tags_are_unique_in_any_case(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.tags.add(_tag("Report"))
        await uow.categories.add(Category(uuid.uuid4(), "Same", "", True, factories.BASE))
        await uow.commit()
    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            await uow.tags.add(_tag("rePORT"))
            await uow.commit()
    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            await uow.categories.add(Category(uuid.uuid4(), "Same", "", True, factories.BASE))
            await uow.commit()
    async with uow_factory(autocommit=True) as uow:
        found = await uow.tags.get_by_names(["REPORT", "missing"])
    assert [t.name for t in found] == ["Report"]


async def test_a_grant_is_replaced_not_duplicated(uow_factory: UnitOfWorkFactory) -> None:
    admin, owner = await _admin_and_owner(uow_factory)
    doc = factories.document(owner)
    async with uow_factory() as uow:
        await uow.documents.add(doc)
        await uow.permissions.put(
            Permission(uuid.uuid4(), admin.id, doc.id, Access.READ, owner.id, factories.BASE)
        )
        await uow.commit()
    async with uow_factory() as uow:
        first = await uow.permissions.get(admin.id, doc.id)
        await uow.permissions.put(
            Permission(uuid.uuid4(), admin.id, doc.id, Access.DELETE, owner.id, factories.BASE)
        )
        await uow.commit()
    async with uow_factory(autocommit=True) as uow:
        grants = await uow.permissions.list_for(doc.id)
    assert first is not None
    assert [(g.id, g.access) for g in grants] == [(first.id, Access.DELETE)]
    async with uow_factory() as uow:
        assert await uow.permissions.delete(admin.id, doc.id)
        assert not await uow.permissions.delete(admin.id, doc.id)
        await uow.commit()


async def test_both_stores_start_with_the_same_upload_policy(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory(autocommit=True) as uow:
        types = await uow.file_types.list()
    assert [(f.extension, f.is_allowed, f.max_size_bytes) for f in types] == [
        ("docx", True, 10 * 1024 * 1024),
        ("md", True, 10 * 1024 * 1024),
        ("pdf", True, 10 * 1024 * 1024),
        ("txt", True, 10 * 1024 * 1024),
    ]


titles = st.text(alphabet="abcAB é가-_", min_size=1, max_size=4)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=st.lists(st.tuples(titles, st.integers(0, 3)), min_size=1, max_size=12),
    inserts=st.lists(st.tuples(titles, st.integers(0, 3)), max_size=6),
    sort=st.sampled_from(list(DocumentSort)),
    limit=st.integers(1, 4),
)
@pytest.mark.postgres
async def test_paging_never_skips_or_repeats_even_while_documents_arrive(
    pg_database: Database,
    specs: list[tuple[str, int]],
    inserts: list[tuple[str, int]],
    sort: DocumentSort,
    limit: int,
) -> None:
    """Every document present at the start is seen exactly once, in the same order on both
    stores, whatever is inserted between pages (ties on the sort key included)."""
    await truncate_all(pg_database.engine)
    owner = factories.user(role="admin")
    start = [
        factories.document(
            owner, title=t, size_bytes=s, created_at=factories.BASE + timedelta(seconds=s)
        )
        for t, s in specs
    ]
    later = [
        factories.document(
            owner, title=t, size_bytes=s, created_at=factories.BASE + timedelta(seconds=s)
        )
        for t, s in inserts
    ]
    stores: list[UnitOfWorkFactory] = [
        SqlAlchemyUnitOfWorkFactory(pg_database.engine),
        InMemoryUnitOfWorkFactory(InMemoryStore()),
    ]
    orders = []
    for uow_factory in stores:
        async with uow_factory() as uow:
            await uow.users.add(owner)
            for doc in start:
                await uow.documents.add(doc)
            await uow.commit()
        seen: list[object] = []
        cursor = None
        pending = list(later)
        for _ in range(len(start) + len(later) + 2):
            async with uow_factory(autocommit=True) as uow:
                page = await uow.documents.list_readable(
                    owner, DocumentFilter(), sort, PageRequest(limit, cursor)
                )
            seen += [d.id for d in page.items]
            if pending:
                async with uow_factory() as uow:
                    await uow.documents.add(pending.pop())
                    await uow.commit()
            cursor = page.next_cursor
            if cursor is None:
                break
        originals = [i for i in seen if i in {d.id for d in start}]
        assert sorted(originals, key=str) == sorted((d.id for d in start), key=str)
        assert len(seen) == len(set(seen))
        orders.append(originals)
    assert orders[0] == orders[1]


async def test_viewing_records_an_event_only_when_the_reader_may_read(
    uow_factory: UnitOfWorkFactory,
) -> None:
    admin, owner = await _admin_and_owner(uow_factory)
    hidden = factories.document(admin, access_level=3)
    shown = factories.document(admin, department=None)
    async with uow_factory() as uow:
        await uow.documents.add(hidden)
        await uow.documents.add(shown)
        await uow.commit()
    for doc in (hidden, shown):
        event = factories.event(
            "document.viewed", str(doc.id), actor_id=owner.id, subject_type="document"
        )
        async with uow_factory(autocommit=True) as uow:
            found = await uow.views.open(doc.id, owner, event)
        assert (found is not None) == (doc is shown)
    async with uow_factory(autocommit=True) as uow:
        trail = await uow.events.list(EventFilter(action="document.viewed"), PageRequest())
    assert [(e.subject_id, e.actor_id) for e in trail.items] == [(str(shown.id), owner.id)]


async def test_documents_added_together_are_all_or_nothing_and_found_by_their_bytes(
    uow_factory: UnitOfWorkFactory,
) -> None:
    admin, owner = await _admin_and_owner(uow_factory)
    same = "b" * 64
    one, two = factories.document(owner, sha256=same), factories.document(owner, sha256=same)
    hidden = factories.document(admin, sha256="c" * 64, access_level=3)
    single = factories.document(owner)
    async with uow_factory() as uow:
        await uow.documents.add_all([one, two, hidden])
        await uow.documents.add_all([])
        await uow.commit()
    with pytest.raises(Conflict):  # `one` is stored already: `single` is not added either
        async with uow_factory() as uow:
            await uow.documents.add_all([single, one])
    async with uow_factory(autocommit=True) as uow:
        for_owner = await uow.documents.first_readable_with_sha256(
            [same, "c" * 64, single.sha256, same], owner
        )
        for_admin = await uow.documents.first_readable_with_sha256([same, "c" * 64], admin)
        assert await uow.documents.get(single.id) is None
        assert await uow.documents.first_readable_with_sha256([], owner) == {}

    assert {sha: d.id for sha, d in for_owner.items()} == {same: one.id}  # the oldest, readable
    assert {sha: d.id for sha, d in for_admin.items()} == {same: one.id, "c" * 64: hidden.id}
