"""The API token repository's contract, on memory and PostgreSQL alike."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import Conflict
from domain.pagination import PageRequest
from domain.ports import UnitOfWorkFactory
from domain.tokens import hash_secret
from domain.users import User
from tests.support import factories


async def _owner(uow_factory: UnitOfWorkFactory) -> User:
    user = factories.user()
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.commit()
    return user


async def test_a_token_is_found_with_its_owner_by_hash(uow_factory: UnitOfWorkFactory) -> None:
    owner = await _owner(uow_factory)
    token, secret = factories.token(owner)
    async with uow_factory() as uow:
        await uow.tokens.add(token)
        await uow.commit()
    async with uow_factory(autocommit=True) as uow:
        found = await uow.tokens.find_with_user(hash_secret(secret))
        missing = await uow.tokens.find_with_user(hash_secret(secret + "x"))
    assert found is not None and missing is None
    got, user = found
    assert (got.id, got.prefix, got.expires_at, user.id, user.email) == (
        token.id,
        token.prefix,
        token.expires_at,
        owner.id,
        owner.email,
    )


async def test_a_token_needs_an_existing_owner(uow_factory: UnitOfWorkFactory) -> None:
    token, _ = factories.token(factories.user())
    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            await uow.tokens.add(token)
            await uow.commit()


async def test_list_is_per_owner_and_paged(uow_factory: UnitOfWorkFactory) -> None:
    alice, bob = await _owner(uow_factory), await _owner(uow_factory)
    mine = [factories.token(alice)[0] for _ in range(5)]
    theirs = factories.token(bob)[0]
    async with uow_factory() as uow:
        for t in [*mine, theirs]:
            await uow.tokens.add(t)
        await uow.commit()
    async with uow_factory(autocommit=True) as uow:
        first = await uow.tokens.list(alice.id, PageRequest(limit=3))
        second = await uow.tokens.list(alice.id, PageRequest(limit=3, cursor=first.next_cursor))
        everyone = await uow.tokens.list(None, PageRequest())
    assert [t.id for t in [*first.items, *second.items]] == [t.id for t in mine]
    assert second.next_cursor is None
    assert len(everyone.items) == 6


async def test_touch_writes_at_most_once_per_window(uow_factory: UnitOfWorkFactory) -> None:
    owner = await _owner(uow_factory)
    token, _ = factories.token(owner)
    async with uow_factory() as uow:
        await uow.tokens.add(token)
        await uow.commit()
    t0 = token.created_at + timedelta(minutes=1)
    window = timedelta(minutes=1)
    results = []
    for now in (t0, t0 + timedelta(seconds=30), t0 + timedelta(minutes=2)):
        async with uow_factory() as uow:
            results.append(await uow.tokens.touch(token.id, now, now - window))
            await uow.commit()
    async with uow_factory(autocommit=True) as uow:
        got = await uow.tokens.get(token.id)
    assert results == [True, False, True]
    assert got is not None and got.last_used_at == t0 + timedelta(minutes=2)


async def test_touch_does_not_undo_a_concurrent_revocation(uow_factory: UnitOfWorkFactory) -> None:
    owner = await _owner(uow_factory)
    token, _ = factories.token(owner)
    async with uow_factory() as uow:
        await uow.tokens.add(token)
        await uow.commit()
    now = token.created_at + timedelta(minutes=5)
    async with uow_factory() as toucher:
        stale = await toucher.tokens.get(token.id)  # read before the revocation commits
        assert stale is not None and not stale.is_revoked()
        async with uow_factory() as revoker:
            revoked = await revoker.tokens.get(token.id)
            assert revoked is not None and revoked.revoke(now)
            await revoker.tokens.update(revoked)
            await revoker.commit()
        assert await toucher.tokens.touch(token.id, now, now - timedelta(minutes=1))
        await toucher.commit()
    async with uow_factory(autocommit=True) as uow:
        got = await uow.tokens.get(token.id)
    assert got is not None
    assert got.revoked_at == now and got.last_used_at == now


async def test_revocation_is_stored(uow_factory: UnitOfWorkFactory) -> None:
    owner = await _owner(uow_factory)
    token, secret = factories.token(owner)
    async with uow_factory() as uow:
        await uow.tokens.add(token)
        await uow.commit()
    token.revoke(token.created_at + timedelta(seconds=1))
    async with uow_factory() as uow:
        await uow.tokens.update(token)
        await uow.commit()
    async with uow_factory(autocommit=True) as uow:
        found = await uow.tokens.find_with_user(hash_secret(secret))
    assert found is not None and found[0].is_revoked()
