"""`archivist purge` forgets expired web sessions and set-password links (a used link is gone
already): counted in a dry run, deleted in a real one, live ones kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dependency_injector import providers

from application.context import RequestContext
from application.users import CreateUser
from domain.users import User
from infrastructure.config import AppSettings
from infrastructure.container import Container, build_container
from interfaces.cli.maintenance import format_purge_report
from tests.conftest import FAST_PASSWORD_HASHING
from tests.support.clock import SteppingClock

SYSTEM = RequestContext.system()
PASSWORD = "a long and unusual passphrase"


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
def app(clock: SteppingClock) -> Container:
    container = build_container(
        AppSettings(
            storage="memory",
            session_idle_minutes=60,
            password_link_hours=2,
            **FAST_PASSWORD_HASHING,
        )
    )
    container.clock.override(providers.Object(clock))
    return container


async def _person(app: Container, email: str) -> User:
    user = await app.users().create(SYSTEM, CreateUser(email=email, name=email.split("@")[0]))
    await app.passwords().set_password(SYSTEM, user.id, PASSWORD)
    return user


async def _sessions_of(app: Container, user: User) -> int:
    async with app.uow_factory()(autocommit=True) as uow:
        return len(await uow.sessions.list_for_user(user.id))


async def test_purge_forgets_expired_sessions_and_links_and_keeps_live_ones(
    app: Container, clock: SteppingClock
) -> None:
    ann = await _person(app, "ann@example.com")
    bob = await _person(app, "bob@example.com")
    await app.accounts().sign_in(ann.email, PASSWORD, SYSTEM)
    old_link = await app.passwords().issue_password_link(SYSTEM, ann.id)
    clock.advance(timedelta(minutes=90))  # ann's session idle past 60 minutes, her link 2 hours
    await app.accounts().sign_in(bob.email, PASSWORD, SYSTEM)
    live_link = await app.passwords().issue_password_link(SYSTEM, bob.id)
    clock.advance(timedelta(minutes=40))

    dry = await app.maintenance().purge(dry_run=True)
    assert (dry.sessions, dry.password_links) == (1, 1)
    assert await _sessions_of(app, ann) == 1

    report = await app.maintenance().purge(dry_run=False)

    assert (report.sessions, report.password_links) == (1, 1)
    assert (await _sessions_of(app, ann), await _sessions_of(app, bob)) == (0, 1)
    assert (await app.passwords().password_link_user(live_link.secret)).id == bob.id
    async with app.uow_factory()(autocommit=True) as uow:
        assert await uow.password_links.find(old_link.link.link_hash) is None
    assert (
        "Sign-ins: purged 1 expired web session(s) and 1 expired set-password link(s)"
        in format_purge_report(report)
    )
    assert "Sign-ins: would purge 1 expired web session(s)" in format_purge_report(dry)
