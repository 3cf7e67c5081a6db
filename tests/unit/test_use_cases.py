"""Use cases on the in-memory adapters with a deterministic clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dependency_injector import providers

from application.context import RequestContext
from application.settings import SettingWrite
from application.tokens import TokenIssue
from application.users import CreateUser
from domain.errors import (
    AuthenticationFailed,
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from domain.events import EventFilter
from domain.pagination import PageRequest
from domain.users import User, UserChanges
from infrastructure.config import AppSettings
from infrastructure.container import Container, build_container
from tests.support.clock import SteppingClock

SYSTEM = RequestContext.system()


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
def app(clock: SteppingClock) -> Container:
    container = build_container(AppSettings(storage="memory"))
    container.clock.override(providers.Object(clock))
    return container


async def _user(app: Container, email: str, role: str = "member") -> User:
    return await app.users().create(SYSTEM, CreateUser(email=email, name=email[:3], role=role))


async def _actions(app: Container) -> list[str]:
    async with app.uow_factory()(autocommit=True) as uow:
        page = await uow.events.list(EventFilter(), PageRequest(200))
    return [e.action for e in reversed(page.items)]


async def test_authenticate_returns_the_owner_of_a_valid_token(app: Container) -> None:
    user = await _user(app, "ann@example.com")
    issued = await app.tokens().issue(SYSTEM, TokenIssue("cli", user_id=user.id))
    principal = await app.tokens().authenticate(issued.secret, "192.0.2.1")
    assert (principal.user.id, principal.token_id) == (user.id, issued.token.id)


@pytest.mark.parametrize("secret", ["", "garbage", "arv_" + "A" * 43])
async def test_malformed_and_unknown_secrets_fail(app: Container, secret: str) -> None:
    with pytest.raises(AuthenticationFailed):
        await app.tokens().authenticate(secret)


async def test_an_expired_token_fails(app: Container, clock: SteppingClock) -> None:
    user = await _user(app, "ann@example.com")
    issued = await app.tokens().issue(SYSTEM, TokenIssue("cli", 1, user.id))
    clock.advance(timedelta(days=1))
    with pytest.raises(AuthenticationFailed, match="expired"):
        await app.tokens().authenticate(issued.secret)


async def test_a_revoked_token_fails(app: Container) -> None:
    user = await _user(app, "ann@example.com")
    issued = await app.tokens().issue(SYSTEM, TokenIssue("cli", user_id=user.id))
    await app.tokens().revoke(RequestContext(actor=user), issued.token.id)
    with pytest.raises(AuthenticationFailed, match="revoked"):
        await app.tokens().authenticate(issued.secret)


async def test_deactivating_a_user_stops_their_token_at_once(app: Container) -> None:
    user = await _user(app, "ann@example.com")
    issued = await app.tokens().issue(SYSTEM, TokenIssue("cli", user_id=user.id))
    await app.tokens().authenticate(issued.secret)
    await app.users().update(SYSTEM, user.id, UserChanges({"is_active": False}))
    with pytest.raises(AuthenticationFailed, match="inactive"):
        await app.tokens().authenticate(issued.secret)


async def test_last_used_and_last_login_are_written_once_per_minute(
    app: Container, clock: SteppingClock
) -> None:
    user = await _user(app, "ann@example.com")
    issued = await app.tokens().issue(SYSTEM, TokenIssue("cli", user_id=user.id))
    await app.tokens().authenticate(issued.secret, "192.0.2.1")
    first = (await app.tokens().list(RequestContext(actor=user), PageRequest())).items[0]
    await app.tokens().authenticate(issued.secret, "192.0.2.2")  # a second later: no write
    second = (await app.tokens().list(RequestContext(actor=user), PageRequest())).items[0]
    clock.advance(timedelta(minutes=1))
    await app.tokens().authenticate(issued.secret, "192.0.2.3")
    third = (await app.tokens().list(RequestContext(actor=user), PageRequest())).items[0]
    me = await app.users().get(SYSTEM, user.id)
    assert first.last_used_at is not None and second.last_used_at == first.last_used_at
    assert third.last_used_at is not None and third.last_used_at > first.last_used_at
    assert (me.last_login_at, me.last_login_ip) == (third.last_used_at, "192.0.2.3")


async def test_token_lifetime_defaults_to_the_setting(app: Container) -> None:
    user = await _user(app, "ann@example.com")
    await app.settings().put(SYSTEM, "default_token_ttl_days", SettingWrite(7))
    issued = await app.tokens().issue(SYSTEM, TokenIssue("cli", user_id=user.id))
    assert issued.token.expires_at - issued.token.created_at == timedelta(days=7)


async def test_a_member_cannot_issue_for_someone_else(app: Container) -> None:
    ann, bob = await _user(app, "ann@example.com"), await _user(app, "bob@example.com")
    with pytest.raises(PermissionDenied):
        await app.tokens().issue(RequestContext(actor=ann), TokenIssue("x", user_id=bob.id))


async def test_an_inactive_user_gets_no_new_token(app: Container) -> None:
    ann = await _user(app, "ann@example.com")
    await app.users().update(SYSTEM, ann.id, UserChanges({"is_active": False}))
    with pytest.raises(Conflict):
        await app.tokens().issue(SYSTEM, TokenIssue("x", user_id=ann.id))


async def test_someone_elses_token_is_not_found_for_a_member(app: Container) -> None:
    ann, bob = await _user(app, "ann@example.com"), await _user(app, "bob@example.com")
    issued = await app.tokens().issue(SYSTEM, TokenIssue("x", user_id=bob.id))
    with pytest.raises(NotFound):
        await app.tokens().revoke(RequestContext(actor=ann), issued.token.id)


async def test_the_last_active_admin_can_be_neither_deactivated_nor_demoted(app: Container) -> None:
    root = await _user(app, "root@example.com", role="admin")
    for change in ({"is_active": False}, {"role": "member"}):
        with pytest.raises(Conflict):
            await app.users().update(SYSTEM, root.id, UserChanges(change))
    second = await _user(app, "two@example.com", role="admin")
    await app.users().update(SYSTEM, root.id, UserChanges({"role": "member"}))
    with pytest.raises(Conflict):
        await app.users().update(SYSTEM, second.id, UserChanges({"is_active": False}))


async def test_every_change_is_audited_and_a_refused_one_is_not(app: Container) -> None:
    ann = await _user(app, "ann@example.com")
    with pytest.raises(Conflict):
        await _user(app, "ANN@example.com")
    with pytest.raises(ValidationFailed):
        await app.users().update(SYSTEM, ann.id, UserChanges({"access_level": 0}))
    await app.users().update(SYSTEM, ann.id, UserChanges({"name": "Annie"}))
    issued = await app.tokens().issue(SYSTEM, TokenIssue("x", user_id=ann.id))
    await app.tokens().revoke(SYSTEM, issued.token.id)
    await app.tokens().revoke(SYSTEM, issued.token.id)  # idempotent: no second event
    assert await _actions(app) == ["user.created", "user.updated", "token.issued", "token.revoked"]


async def test_members_see_public_settings_and_cannot_write(app: Container) -> None:
    ann = await _user(app, "ann@example.com")
    await app.settings().put(SYSTEM, "internal.secret_note", SettingWrite("x", "string"))
    member = RequestContext(actor=ann)
    keys = [s.key for s in await app.settings().list(member)]
    assert "internal.secret_note" not in keys and "default_token_ttl_days" in keys
    with pytest.raises(NotFound):
        await app.settings().get(member, "internal.secret_note")
    with pytest.raises(PermissionDenied):
        await app.settings().put(member, "trash_retention_days", SettingWrite(3))


async def test_bootstrap_creates_one_admin_only_on_an_empty_store(app: Container) -> None:
    first = await app.bootstrap().ensure_initial_admin("admin@example.com", "Admin")
    again = await app.bootstrap().ensure_initial_admin("admin@example.com", "Admin")
    assert first is not None and first.user.is_admin and first.user.access_level == 3
    assert again is None
