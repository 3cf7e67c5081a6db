"""The user repository's contract, on memory and PostgreSQL alike."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import Conflict
from domain.pagination import PageRequest
from domain.ports import UnitOfWorkFactory
from domain.users import UserFilter
from domain.values import Role
from tests.support import factories


async def test_added_user_is_read_back_equal_in_every_field(uow_factory: UnitOfWorkFactory) -> None:
    user = factories.user(department="Engineering", access_level=2, role="admin")
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.commit()
    async with uow_factory(autocommit=True) as uow:
        got = await uow.users.get(user.id)
    assert got is not None
    assert (got.email, got.name, got.department, got.access_level, got.role) == (
        user.email,
        user.name,
        "Engineering",
        2,
        Role.ADMIN,
    )
    assert (got.created_at, got.updated_at, got.is_active) == (
        user.created_at,
        user.updated_at,
        True,
    )


async def test_uncommitted_user_is_invisible_and_rolled_back(
    uow_factory: UnitOfWorkFactory,
) -> None:
    user = factories.user()
    async with uow_factory() as writer:
        await writer.users.add(user)
        async with uow_factory(autocommit=True) as reader:
            assert await reader.users.get(user.id) is None
    async with uow_factory(autocommit=True) as uow:
        assert await uow.users.get(user.id) is None


async def test_email_lookup_ignores_case(uow_factory: UnitOfWorkFactory) -> None:
    user = factories.user(email="Mixed.Case@Example.com")
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.commit()
    async with uow_factory(autocommit=True) as uow:
        got = await uow.users.get_by_email("MIXED.case@example.COM")
    assert got is not None and got.id == user.id


async def test_a_taken_email_is_a_conflict(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.users.add(factories.user(email="same@example.com"))
        await uow.commit()
    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            await uow.users.add(factories.user(email="same@example.com"))
            await uow.commit()


async def test_changing_email_to_a_taken_one_is_a_conflict(uow_factory: UnitOfWorkFactory) -> None:
    first, second = factories.user(), factories.user()
    async with uow_factory() as uow:
        await uow.users.add(first)
        await uow.users.add(second)
        await uow.commit()
    second.email = first.email
    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            await uow.users.update(second)
            await uow.commit()


async def test_update_stores_every_changed_field(uow_factory: UnitOfWorkFactory) -> None:
    user = factories.user()
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.commit()
    user.name, user.department, user.is_active = "Renamed", "Sales", False
    user.updated_at = user.updated_at + timedelta(minutes=5)
    async with uow_factory() as uow:
        await uow.users.update(user)
        await uow.commit()
    async with uow_factory(autocommit=True) as uow:
        got = await uow.users.get(user.id)
    assert got is not None
    assert (got.name, got.department, got.is_active, got.updated_at) == (
        "Renamed",
        "Sales",
        False,
        user.updated_at,
    )


async def test_record_login_touches_only_login_fields(uow_factory: UnitOfWorkFactory) -> None:
    user = factories.user()
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.commit()
    at = user.created_at + timedelta(hours=1)
    async with uow_factory() as uow:
        await uow.users.record_login(user.id, at, "192.0.2.7")
        await uow.commit()
    async with uow_factory(autocommit=True) as uow:
        got = await uow.users.get(user.id)
    assert got is not None
    assert (got.last_login_at, got.last_login_ip, got.updated_at) == (
        at,
        "192.0.2.7",
        user.updated_at,
    )


async def test_list_filters_by_role_department_and_activity(uow_factory: UnitOfWorkFactory) -> None:
    admin = factories.user(role="admin", department="Ops")
    member = factories.user(department="Ops")
    other = factories.user(department="Sales")
    async with uow_factory() as uow:
        for u in (admin, member, other):
            await uow.users.add(u)
        await uow.commit()
    other.is_active = False
    async with uow_factory() as uow:
        await uow.users.update(other)
        await uow.commit()

    async def ids(f: UserFilter) -> list[object]:
        async with uow_factory(autocommit=True) as uow:
            return [u.id for u in (await uow.users.list(f, PageRequest())).items]

    assert await ids(UserFilter(role=Role.ADMIN)) == [admin.id]
    assert await ids(UserFilter(department="Ops")) == [admin.id, member.id]
    assert await ids(UserFilter(is_active=False)) == [other.id]
    assert await ids(UserFilter()) == [admin.id, member.id, other.id]


async def test_pages_cover_every_user_once_in_creation_order(
    uow_factory: UnitOfWorkFactory,
) -> None:
    users = [factories.user() for _ in range(7)]
    async with uow_factory() as uow:
        for u in reversed(users):  # insertion order must not matter, (created_at, id) does
            await uow.users.add(u)
        await uow.commit()
    seen, cursor = [], None
    for _ in range(10):
        async with uow_factory(autocommit=True) as uow:
            page = await uow.users.list(UserFilter(), PageRequest(limit=3, cursor=cursor))
        seen.extend(u.id for u in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [u.id for u in users]


async def test_counts_only_active_admins(uow_factory: UnitOfWorkFactory) -> None:
    active, inactive = factories.user(role="admin"), factories.user(role="admin")
    inactive.is_active = False
    async with uow_factory() as uow:
        assert not await uow.users.any_exist()
        for u in (active, inactive, factories.user()):
            await uow.users.add(u)
        await uow.commit()
    async with uow_factory(autocommit=True) as uow:
        assert await uow.users.count_active_admins() == 1
        assert await uow.users.any_exist()
