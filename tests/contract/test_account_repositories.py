"""The repositories of signing in (stored passwords, sessions, set-password links): one
contract, on memory and PostgreSQL alike."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import Conflict
from domain.passwords import PasswordLink, StoredPassword, hash_link_secret
from domain.ports import UnitOfWorkFactory
from domain.sessions import SessionLifetime, UserSession, hash_session_secret
from domain.users import User
from tests.support import factories

LIFETIME = SessionLifetime(idle=timedelta(hours=2), absolute=timedelta(days=7))
T0 = factories.BASE + timedelta(days=30)


async def _user(uow_factory: UnitOfWorkFactory) -> User:
    user = factories.user()
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.commit()
    return user


def _session(user: User, *, minutes: int = 0) -> tuple[UserSession, str]:
    return UserSession.start(
        user_id=user.id,
        now=T0 + timedelta(minutes=minutes),
        lifetime=LIFETIME,
        client_ip="203.0.113.9",
        user_agent="Firefox/140",
    )


async def _stored(uow_factory: UnitOfWorkFactory, *sessions: UserSession) -> None:
    async with uow_factory() as uow:
        for session in sessions:
            await uow.sessions.add(session)
        await uow.commit()


# --- passwords ------------------------------------------------------------------------------


async def test_a_password_is_found_with_its_user_by_email(uow_factory: UnitOfWorkFactory) -> None:
    user = await _user(uow_factory)
    async with uow_factory() as uow:
        await uow.passwords.put(StoredPassword(user.id, "$argon2id$first", T0))
        await uow.commit()
    async with uow_factory(autocommit=True) as uow:
        found = await uow.passwords.find_by_email(user.email.upper())
        unknown = await uow.passwords.find_by_email("nobody@example.com")
    assert found is not None and unknown is None
    got_user, stored = found
    assert got_user.id == user.id and got_user.email == user.email
    assert stored is not None
    assert (stored.user_id, stored.password_hash, stored.changed_at) == (
        user.id,
        "$argon2id$first",
        T0,
    )


async def test_a_user_without_a_password_is_found_without_one(
    uow_factory: UnitOfWorkFactory,
) -> None:
    user = await _user(uow_factory)
    async with uow_factory(autocommit=True) as uow:
        found = await uow.passwords.find_by_email(user.email)
        stored = await uow.passwords.get(user.id)
    assert found is not None and found[0].id == user.id and found[1] is None
    assert stored is None


async def test_putting_a_password_again_replaces_it(uow_factory: UnitOfWorkFactory) -> None:
    user = await _user(uow_factory)
    for n, password_hash in enumerate(["$argon2id$first", "$argon2id$second"]):
        async with uow_factory() as uow:
            await uow.passwords.put(StoredPassword(user.id, password_hash, T0 + timedelta(n)))
            await uow.commit()
    async with uow_factory(autocommit=True) as uow:
        stored = await uow.passwords.get(user.id)
    assert stored is not None
    assert (stored.password_hash, stored.changed_at) == ("$argon2id$second", T0 + timedelta(1))


async def test_a_password_needs_an_existing_user(uow_factory: UnitOfWorkFactory) -> None:
    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            await uow.passwords.put(StoredPassword(factories.user().id, "$argon2id$x", T0))
            await uow.commit()


async def test_an_uncommitted_password_is_rolled_back(uow_factory: UnitOfWorkFactory) -> None:
    user = await _user(uow_factory)
    async with uow_factory() as uow:
        await uow.passwords.put(StoredPassword(user.id, "$argon2id$x", T0))
    async with uow_factory(autocommit=True) as uow:
        assert await uow.passwords.get(user.id) is None


# --- sessions -------------------------------------------------------------------------------


async def test_a_session_is_found_with_its_user_by_the_hash_of_its_secret(
    uow_factory: UnitOfWorkFactory,
) -> None:
    user = await _user(uow_factory)
    session, secret = _session(user)
    await _stored(uow_factory, session)
    async with uow_factory(autocommit=True) as uow:
        found = await uow.sessions.find_with_user(hash_session_secret(secret))
        missing = await uow.sessions.find_with_user(hash_session_secret(secret + "x"))
    assert found is not None and missing is None
    got, owner = found
    assert owner.id == user.id
    assert (
        got.id,
        got.secret_hash,
        got.csrf_secret,
        got.created_at,
        got.last_seen_at,
        got.idle_expires_at,
        got.expires_at,
        got.client_ip,
        got.user_agent,
    ) == (
        session.id,
        session.secret_hash,
        session.csrf_secret,
        T0,
        T0,
        T0 + timedelta(hours=2),
        T0 + timedelta(days=7),
        "203.0.113.9",
        "Firefox/140",
    )


async def test_a_session_needs_an_existing_user(uow_factory: UnitOfWorkFactory) -> None:
    session, _ = _session(factories.user())
    with pytest.raises(Conflict):
        await _stored(uow_factory, session)


async def test_sessions_are_listed_per_user_newest_first(uow_factory: UnitOfWorkFactory) -> None:
    alice, bob = await _user(uow_factory), await _user(uow_factory)
    mine = [_session(alice, minutes=n)[0] for n in range(3)]
    await _stored(uow_factory, *mine, _session(bob)[0])
    async with uow_factory(autocommit=True) as uow:
        listed = await uow.sessions.list_for_user(alice.id)
    assert [s.id for s in listed] == [s.id for s in reversed(mine)]


async def test_touch_writes_at_most_once_per_window(uow_factory: UnitOfWorkFactory) -> None:
    user = await _user(uow_factory)
    session, _ = _session(user)
    await _stored(uow_factory, session)
    window = timedelta(minutes=1)
    results = []
    for now in (T0 + timedelta(seconds=30), T0 + timedelta(minutes=1.5), T0 + timedelta(minutes=2)):
        async with uow_factory() as uow:
            deadline = session.idle_deadline(now, LIFETIME)
            results.append(await uow.sessions.touch(session.id, now, deadline, now - window))
            await uow.commit()
    async with uow_factory(autocommit=True) as uow:
        got = await uow.sessions.get(session.id)
    assert results == [False, True, False]
    assert got is not None
    assert got.last_seen_at == T0 + timedelta(minutes=1.5)
    assert got.idle_expires_at == T0 + timedelta(minutes=1.5, hours=2)


async def test_touch_does_not_bring_back_a_session_ended_meanwhile(
    uow_factory: UnitOfWorkFactory,
) -> None:
    user = await _user(uow_factory)
    session, secret = _session(user)
    await _stored(uow_factory, session)
    now = T0 + timedelta(minutes=5)
    async with uow_factory() as toucher:
        assert await toucher.sessions.get(session.id) is not None
        async with uow_factory() as ender:
            assert await ender.sessions.delete(session.id)
            await ender.commit()
        await toucher.sessions.touch(session.id, now, now + timedelta(hours=2), now)
        await toucher.commit()
    async with uow_factory(autocommit=True) as uow:
        assert await uow.sessions.get(session.id) is None
        assert await uow.sessions.find_with_user(hash_session_secret(secret)) is None


async def test_ending_a_session_twice_ends_it_once(uow_factory: UnitOfWorkFactory) -> None:
    user = await _user(uow_factory)
    session, _ = _session(user)
    await _stored(uow_factory, session)
    outcomes = []
    for _ in range(2):
        async with uow_factory() as uow:
            outcomes.append(await uow.sessions.delete(session.id))
            await uow.commit()
    assert outcomes == [True, False]


async def test_ending_a_users_sessions_keeps_the_one_asked_and_others_users(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alice, bob = await _user(uow_factory), await _user(uow_factory)
    kept, gone = _session(alice)[0], _session(alice, minutes=1)[0]
    other = _session(bob)[0]
    await _stored(uow_factory, kept, gone, other)
    async with uow_factory() as uow:
        ended = await uow.sessions.delete_for_user(alice.id, keep=kept.id)
        await uow.commit()
    async with uow_factory() as uow:
        ended_all = await uow.sessions.delete_for_user(alice.id)
        await uow.commit()
    async with uow_factory(autocommit=True) as uow:
        alices = await uow.sessions.list_for_user(alice.id)
        bobs = await uow.sessions.list_for_user(bob.id)
    assert (ended, ended_all) == (1, 1)
    assert alices == [] and [s.id for s in bobs] == [other.id]


async def test_only_expired_sessions_are_forgotten(uow_factory: UnitOfWorkFactory) -> None:
    user = await _user(uow_factory)
    idle, live, old = (
        _session(user)[0],
        _session(user, minutes=200)[0],
        _session(user, minutes=-7 * 24 * 60 + 60)[0],
    )
    old.touch(T0 + timedelta(minutes=190), LIFETIME)  # used lately, but a week old
    await _stored(uow_factory, idle, live, old)
    at = T0 + timedelta(minutes=201)  # idle: 2 h since T0; old: past its absolute end
    async with uow_factory() as uow:
        forgotten = await uow.sessions.delete_expired_for_user(user.id, at)
        await uow.commit()
    async with uow_factory(autocommit=True) as uow:
        left = await uow.sessions.list_for_user(user.id)
    assert forgotten == 2
    assert [s.id for s in left] == [live.id]


async def test_an_uncommitted_session_is_invisible_to_others(
    uow_factory: UnitOfWorkFactory,
) -> None:
    user = await _user(uow_factory)
    session, secret = _session(user)
    async with uow_factory() as writer:
        await writer.sessions.add(session)
        async with uow_factory(autocommit=True) as reader:
            assert await reader.sessions.find_with_user(hash_session_secret(secret)) is None
        await writer.commit()
    async with uow_factory(autocommit=True) as reader:
        assert await reader.sessions.find_with_user(hash_session_secret(secret)) is not None


# --- set-password links ---------------------------------------------------------------------


def _link(user: User, hours: int = 24) -> tuple[PasswordLink, str]:
    return PasswordLink.issue(user_id=user.id, now=T0, ttl=timedelta(hours=hours))


async def test_a_link_is_found_by_the_hash_of_its_secret(uow_factory: UnitOfWorkFactory) -> None:
    user = await _user(uow_factory)
    link, secret = _link(user)
    async with uow_factory() as uow:
        await uow.password_links.add(link)
        await uow.commit()
    async with uow_factory(autocommit=True) as uow:
        found = await uow.password_links.find(hash_link_secret(secret))
        missing = await uow.password_links.find(hash_link_secret(secret + "x"))
    assert missing is None and found is not None
    assert (found.id, found.user_id, found.created_at, found.expires_at) == (
        link.id,
        user.id,
        T0,
        T0 + timedelta(hours=24),
    )


async def test_a_link_needs_an_existing_user(uow_factory: UnitOfWorkFactory) -> None:
    link, _ = _link(factories.user())
    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            await uow.password_links.add(link)
            await uow.commit()


async def test_a_link_is_used_up_once(uow_factory: UnitOfWorkFactory) -> None:
    user = await _user(uow_factory)
    link, secret = _link(user)
    async with uow_factory() as uow:
        await uow.password_links.add(link)
        await uow.commit()
    async with uow_factory() as second:
        assert await second.password_links.find(hash_link_secret(secret)) is not None
        async with uow_factory() as first:  # uses it while the second holds it, and commits
            assert await first.password_links.delete(link.id)
            await first.commit()
        assert not await second.password_links.delete(link.id)
    async with uow_factory(autocommit=True) as uow:
        assert await uow.password_links.find(hash_link_secret(secret)) is None


async def test_deleting_a_users_links_leaves_others_links(uow_factory: UnitOfWorkFactory) -> None:
    alice, bob = await _user(uow_factory), await _user(uow_factory)
    links = [_link(alice)[0], _link(alice)[0], _link(bob)[0]]
    async with uow_factory() as uow:
        for link in links:
            await uow.password_links.add(link)
        await uow.commit()
    async with uow_factory() as uow:
        deleted = await uow.password_links.delete_for_user(alice.id)
        await uow.commit()
    async with uow_factory(autocommit=True) as uow:
        bobs = await uow.password_links.find(links[2].link_hash)
        alices = await uow.password_links.find(links[0].link_hash)
    assert deleted == 2 and alices is None and bobs is not None
