"""The SQL access predicate and the in-memory adapter both return exactly the documents the
domain policy allows (SPEC.md §2.7; acceptance item 2 of issue #3): by id, through the prepared
view statement, in the listing and in the trash (where delete grantees see theirs, issue #9)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from domain import policy
from domain.document_ports import DocumentFilter, DocumentSort
from domain.documents import Access, Permission
from domain.events import Event
from domain.pagination import PageRequest
from domain.ports import UnitOfWorkFactory
from domain.users import User
from infrastructure.memory.store import InMemoryStore
from infrastructure.memory.uow import InMemoryUnitOfWorkFactory
from infrastructure.sqlalchemy import tables as t
from infrastructure.sqlalchemy.access import (
    clearance_parts,
    readable_by,
    searchable_by,
    terms_of,
)
from infrastructure.sqlalchemy.database import Database
from infrastructure.sqlalchemy.search_statistics import searched_count
from infrastructure.sqlalchemy.uow import SqlAlchemyUnitOfWorkFactory
from tests.conftest import truncate_all
from tests.support import factories

departments = st.sampled_from([None, "Eng", "Ops"])
user_specs = st.tuples(
    st.sampled_from(["guest", "member", "admin"]),
    st.integers(1, 3),
    departments,
    st.booleans().map(lambda b: b or True),  # mostly active; inactive below
    st.integers(0, 9),
)
doc_specs = st.tuples(st.integers(1, 3), departments, st.integers(0, 5), st.booleans())
grant_specs = st.tuples(st.integers(0, 5), st.integers(0, 9), st.sampled_from(list(Access)))


def _build(
    users_spec: list[tuple[Any, ...]], docs_spec: list[tuple[Any, ...]], grants: list[Any]
) -> tuple[list[User], list[Any], dict[tuple[int, int], Access]]:
    users = []
    for role, level, dept, _, n in users_spec:
        user = factories.user(role=role, access_level=level, department=dept)
        user.is_active = n != 0  # about one in ten is inactive
        users.append(user)
    docs = []
    for level, dept, owner, trashed in docs_spec:
        doc = factories.document(users[owner % len(users)], access_level=level, department=dept)
        if trashed:
            doc.deleted_at = doc.created_at + timedelta(seconds=1)
        docs.append(doc)
    granted = {(u % len(users), d % len(docs)): a for u, d, a in grants}
    return users, docs, granted


async def _store(
    uow_factory: UnitOfWorkFactory, users: list[User], docs: list[Any], granted: dict[Any, Access]
) -> None:
    async with uow_factory() as uow:
        for user in users:
            await uow.users.add(user)
        for doc in docs:
            await uow.documents.add(doc)
        for (u, d), access in granted.items():
            await uow.permissions.put(
                Permission(uuid.uuid4(), users[u].id, docs[d].id, access, None, factories.BASE)
            )
        await uow.commit()


async def _visible(
    uow_factory: UnitOfWorkFactory, reader: User, docs: list[Any]
) -> tuple[set[Any], set[Any], set[Any], set[Any]]:
    """What `reader` reads by id, by id through the prepared view statement, in the listing
    and in the trash listing."""
    async with uow_factory(autocommit=True) as uow:
        got, viewed = set(), set()
        for doc in docs:
            if await uow.documents.get_readable(doc.id, reader) is not None:
                got.add(doc.id)
            event = Event(factories.BASE, reader.id, "document.viewed", "document", str(doc.id))
            if await uow.views.open(doc.id, reader, event) is not None:
                viewed.add(doc.id)
        listed = await uow.documents.list_readable(
            reader, DocumentFilter(), DocumentSort.CREATED, PageRequest(200)
        )
        trash = await uow.documents.list_readable(
            reader, DocumentFilter(deleted=True), DocumentSort.CREATED, PageRequest(200)
        )
    return got, viewed, {d.id for d in listed.items}, {d.id for d in trash.items}


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    users_spec=st.lists(user_specs, min_size=1, max_size=6),
    docs_spec=st.lists(doc_specs, min_size=1, max_size=10),
    grants=st.lists(grant_specs, max_size=8),
)
@pytest.mark.postgres
async def test_sql_and_memory_show_exactly_what_the_policy_allows(
    pg_database: Database,
    users_spec: list[tuple[Any, ...]],
    docs_spec: list[tuple[Any, ...]],
    grants: list[Any],
) -> None:
    users, docs, granted = _build(users_spec, docs_spec, grants)
    await truncate_all(pg_database.engine)
    stores = [
        SqlAlchemyUnitOfWorkFactory(pg_database.engine),
        InMemoryUnitOfWorkFactory(InMemoryStore()),
    ]
    for uow_factory in stores:
        await _store(uow_factory, users, docs, granted)
    for ui, reader in enumerate(users):
        allowed = {
            doc.id
            for di, doc in enumerate(docs)
            if policy.can_read(reader, doc, granted.get((ui, di)))
        }
        allowed_live = {d.id for d in docs if d.id in allowed and not d.in_trash}
        for uow_factory in stores:
            got, viewed, listed, trash = await _visible(uow_factory, reader, docs)
            assert got == allowed, type(uow_factory).__name__
            assert viewed == allowed, type(uow_factory).__name__
            assert listed == allowed_live, type(uow_factory).__name__
            assert trash == allowed - allowed_live, type(uow_factory).__name__
        await _check_search_counts(pg_database, reader, allowed_live)


async def _check_search_counts(database: Database, reader: User, allowed_live: set[Any]) -> None:
    """A search's population (`searchable_by`: the trash tested where no index answers it) is
    the live documents the reader may read, as `readable_by` says; its N (`searched_count`,
    bounded by `n_cap`) is their number, whichever branch counts it: the clearance parts
    (each only readable documents, no document in two) when they reach the bound, every
    readable one otherwise."""
    terms = terms_of(reader)
    parts = clearance_parts(terms)
    population = (searchable_by(terms),)
    async with database.engine.connect() as conn:
        for rule in (searchable_by(terms), readable_by(terms, include_trash=False)):
            ids = set((await conn.execute(select(t.documents.c.id).where(rule))).scalars())
            assert ids == allowed_live
        found = [
            set((await conn.execute(select(t.documents.c.id).where(p))).scalars()) for p in parts
        ]
        assert all(ids <= allowed_live for ids in found)
        assert sum(map(len, found)) == len(set().union(*found))
        for cap in (1, 2, 3, 1000):
            for with_parts in (parts, ()):
                counted = await conn.scalar(
                    select(searched_count(population, with_parts)), {"n_cap": cap}
                )
                assert counted == min(cap, len(allowed_live)), (cap, bool(with_parts))
