"""What the purge forgets of signing in: expired sessions (idle or absolute) and expired
set-password links, anyone's, a bounded batch at a time; on memory and PostgreSQL alike."""

from __future__ import annotations

from datetime import timedelta

from domain.passwords import PasswordLink
from domain.ports import UnitOfWorkFactory
from domain.sessions import SessionLifetime, UserSession
from domain.users import User
from tests.support import factories

LIFETIME = SessionLifetime(idle=timedelta(hours=2), absolute=timedelta(days=7))
T0 = factories.BASE + timedelta(days=30)


async def _users(uow_factory: UnitOfWorkFactory, count: int) -> list[User]:
    users = [factories.user() for _ in range(count)]
    async with uow_factory() as uow:
        for user in users:
            await uow.users.add(user)
        await uow.commit()
    return users


async def _sessions(uow_factory: UnitOfWorkFactory, *sessions: UserSession) -> None:
    async with uow_factory() as uow:
        for session in sessions:
            await uow.sessions.add(session)
        await uow.commit()


def _session(user: User, started: timedelta) -> UserSession:
    session, _ = UserSession.start(user_id=user.id, now=T0 + started, lifetime=LIFETIME)
    return session


async def _session_ids(uow_factory: UnitOfWorkFactory, *users: User) -> set[object]:
    async with uow_factory(autocommit=True) as uow:
        return {s.id for user in users for s in await uow.sessions.list_for_user(user.id)}


async def test_expired_sessions_of_everyone_go_and_live_ones_stay(
    uow_factory: UnitOfWorkFactory,
) -> None:
    ann, bob = await _users(uow_factory, 2)
    idle = _session(ann, timedelta(hours=-3))  # idle for more than 2 hours at T0
    old = _session(bob, timedelta(days=-8))  # past its absolute end, whatever its use
    old.last_seen_at = old.idle_expires_at = T0 - timedelta(minutes=1)
    live = _session(ann, timedelta(hours=-1))
    just_now = _session(bob, timedelta(0))
    await _sessions(uow_factory, idle, old, live, just_now)

    async with uow_factory(autocommit=True) as uow:
        counted = await uow.sessions.delete_expired(T0, 100, dry_run=True)
    assert counted == 2
    assert await _session_ids(uow_factory, ann, bob) == {idle.id, old.id, live.id, just_now.id}

    async with uow_factory() as uow:
        gone = await uow.sessions.delete_expired(T0, 100)
        await uow.commit()

    assert gone == 2
    assert await _session_ids(uow_factory, ann, bob) == {live.id, just_now.id}


async def test_a_session_expires_at_its_idle_end_exactly(uow_factory: UnitOfWorkFactory) -> None:
    (ann,) = await _users(uow_factory, 1)
    session = _session(ann, -LIFETIME.idle)
    await _sessions(uow_factory, session)

    async with uow_factory() as uow:
        before = await uow.sessions.delete_expired(T0 - timedelta(microseconds=1), 10)
        at = await uow.sessions.delete_expired(T0, 10)
        await uow.commit()

    assert (before, at) == (0, 1)


async def test_expired_sessions_go_at_most_a_batch_at_a_time(
    uow_factory: UnitOfWorkFactory,
) -> None:
    (ann,) = await _users(uow_factory, 1)
    await _sessions(uow_factory, *(_session(ann, timedelta(days=-1)) for _ in range(5)))

    async with uow_factory() as uow:
        first = await uow.sessions.delete_expired(T0, 3)
        await uow.commit()
    async with uow_factory() as uow:
        second = await uow.sessions.delete_expired(T0, 3)
        await uow.commit()

    assert (first, second) == (3, 2)
    assert await _session_ids(uow_factory, ann) == set()


async def test_expired_set_password_links_go_and_live_ones_stay(
    uow_factory: UnitOfWorkFactory,
) -> None:
    ann, bob, cyd = await _users(uow_factory, 3)
    expired, _ = PasswordLink.issue(
        user_id=ann.id, now=T0 - timedelta(hours=25), ttl=timedelta(hours=24)
    )
    at_end, _ = PasswordLink.issue(
        user_id=bob.id, now=T0 - timedelta(hours=24), ttl=timedelta(hours=24)
    )
    live, _ = PasswordLink.issue(
        user_id=cyd.id, now=T0 - timedelta(hours=1), ttl=timedelta(hours=24)
    )
    async with uow_factory() as uow:
        for link in (expired, at_end, live):
            await uow.password_links.add(link)
        await uow.commit()

    async with uow_factory(autocommit=True) as uow:
        counted = await uow.password_links.delete_expired(T0, 100, dry_run=True)
    async with uow_factory() as uow:
        limited = await uow.password_links.delete_expired(T0, 1)
        rest = await uow.password_links.delete_expired(T0, 100)
        await uow.commit()

    assert (counted, limited, rest) == (2, 1, 1)
    async with uow_factory(autocommit=True) as uow:
        left = [await uow.password_links.find(k.link_hash) for k in (expired, at_end, live)]
    assert [k.id if k else None for k in left] == [None, None, live.id]
