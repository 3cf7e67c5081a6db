"""Signing in, sessions and passwords as use cases (`application.accounts`,
`application.passwords`), on memory and PostgreSQL alike."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from dependency_injector import providers

from application.accounts import AccountService
from application.auth_throttle import FailedAuthenticationThrottle
from application.context import RequestContext
from application.passwords import PasswordService
from application.users import CreateUser
from domain import events
from domain.errors import (
    AuthenticationFailed,
    Conflict,
    NotFound,
    PermissionDenied,
    TooManyAttempts,
    ValidationFailed,
)
from domain.events import Event, EventFilter
from domain.pagination import MAX_LIMIT, PageRequest
from domain.users import User, UserChanges
from infrastructure.container import Container
from infrastructure.passwords import Argon2Parameters, Argon2PasswordHasher, OffloadedHasher
from tests.support.clock import SteppingClock

PASSWORD = "violet staple orbit 42"
NEW_PASSWORD = "amber lantern river 7"
IP = "203.0.113.5"
SYSTEM = RequestContext.system()


class CountingHasher(Argon2PasswordHasher):
    """The test parameters' argon2id, counting the checks it makes."""

    def __init__(self) -> None:
        super().__init__(Argon2Parameters(time_cost=1, memory_kib=8, parallelism=1))
        self.verifications = 0

    def verify(self, password_hash: str, password: str) -> bool:
        self.verifications += 1
        return super().verify(password_hash, password)


@dataclass
class World:
    container: Container
    clock: SteppingClock
    hasher: CountingHasher
    accounts: AccountService
    passwords: PasswordService
    alice: User
    admin: User

    def ctx(self, user: User | None = None, ip: str = IP) -> RequestContext:
        return RequestContext(actor=user, client_ip=ip, user_agent="pytest")


@pytest.fixture
async def world(container: Container) -> World:
    clock = SteppingClock()
    hasher = CountingHasher()
    container.clock.override(providers.Object(clock))
    container.password_hasher.override(providers.Object(hasher))
    container.auth_throttle.override(providers.Object(FailedAuthenticationThrottle(3)))
    users = container.users()
    alice = await users.create(SYSTEM, CreateUser("alice@example.com", "Alice"))
    admin = await users.create(SYSTEM, CreateUser("root@example.com", "Root", role="admin"))
    passwords: PasswordService = container.passwords()
    await passwords.set_password(SYSTEM, alice.id, PASSWORD)
    return World(container, clock, hasher, container.accounts(), passwords, alice, admin)


async def trail(container: Container, action: str) -> list[Event]:
    async with container.uow_factory()(autocommit=True) as uow:
        page = await uow.events.list(EventFilter(action=action), PageRequest(limit=MAX_LIMIT))
    return list(page.items)


# --- signing in -----------------------------------------------------------------------------


async def test_signing_in_opens_a_session_that_resumes(world: World) -> None:
    signed = await world.accounts.sign_in("Alice@Example.com ", PASSWORD, world.ctx())
    secret, session, user = signed

    principal = await world.accounts.resume(secret, IP)

    assert user.id == world.alice.id and user.last_login_ip == IP
    assert (principal.user.id, principal.session_id) == (world.alice.id, session.id)
    assert principal.csrf_secret == session.csrf_secret
    assert principal.context(IP).actor_id == world.alice.id
    assert secret not in repr(signed) and session.csrf_secret not in repr(principal)
    [event] = await trail(world.container, events.USER_SIGNED_IN)
    assert (event.actor_id, event.subject_id, event.client_ip) == (user.id, str(user.id), IP)
    async with world.container.uow_factory()(autocommit=True) as uow:
        stored = await uow.users.get(user.id)
    assert stored is not None and stored.last_login_at == user.last_login_at


@pytest.mark.parametrize("case", ["unknown", "wrong", "inactive", "no password", "bad email"])
async def test_every_refused_sign_in_reads_alike_and_costs_one_hash_check(
    world: World, case: str
) -> None:
    email, password = "alice@example.com", PASSWORD
    if case == "unknown":
        email = "nobody@example.com"
    elif case == "wrong":
        password = PASSWORD + "!"
    elif case == "inactive":
        await world.container.users().update(
            SYSTEM, world.alice.id, UserChanges({"is_active": False})
        )
    elif case == "no password":
        email = "root@example.com"
    else:
        email = "not an address"
    before = world.hasher.verifications

    with pytest.raises(AuthenticationFailed) as refused:
        await world.accounts.sign_in(email, password, world.ctx())

    assert refused.value.message == "the e-mail address or the password is wrong"
    assert world.hasher.verifications - before == 1
    [event] = await trail(world.container, events.USER_SIGN_IN_FAILED)
    assert event.data["email"] == email.lower() and event.actor_id is None
    assert PASSWORD not in str(event.data) and event.client_ip == IP


async def test_failed_sign_ins_are_throttled_per_address(world: World) -> None:
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            await world.accounts.sign_in("alice@example.com", "wrong password!", world.ctx())

    with pytest.raises(TooManyAttempts) as throttled:
        await world.accounts.sign_in("alice@example.com", PASSWORD, world.ctx())
    elsewhere = await world.accounts.sign_in("alice@example.com", PASSWORD, world.ctx(ip="::1"))

    assert throttled.value.retry_after_seconds >= 1
    assert elsewhere.user.id == world.alice.id


async def test_a_hash_with_old_parameters_is_replaced_at_sign_in(world: World) -> None:
    async with world.container.uow_factory()(autocommit=True) as uow:
        before = await uow.passwords.get(world.alice.id)
    # The operator raised the cost: the service now hashes with stronger parameters.
    stronger = Argon2PasswordHasher(Argon2Parameters(time_cost=2, memory_kib=16, parallelism=1))
    accounts = AccountService(
        world.container.uow_factory(),
        world.clock,
        OffloadedHasher(stronger),
        FailedAuthenticationThrottle(3),
        world.accounts.lifetime,
    )

    await accounts.sign_in("alice@example.com", PASSWORD, world.ctx())

    async with world.container.uow_factory()(autocommit=True) as uow:
        after = await uow.passwords.get(world.alice.id)
    assert before is not None and after is not None
    assert "t=1" in before.password_hash and "t=2" in after.password_hash
    assert after.changed_at == before.changed_at
    assert stronger.verify(after.password_hash, PASSWORD)


# --- resuming and ending sessions -----------------------------------------------------------


async def test_a_session_idle_too_long_is_refused_and_forgotten(world: World) -> None:
    secret, session, _ = await world.accounts.sign_in("alice@example.com", PASSWORD, world.ctx())
    world.clock.advance(world.accounts.lifetime.idle)

    with pytest.raises(AuthenticationFailed, match="expired"):
        await world.accounts.resume(secret)

    async with world.container.uow_factory()(autocommit=True) as uow:
        assert await uow.sessions.get(session.id) is None


async def test_a_session_in_use_lives_until_its_absolute_end(world: World) -> None:
    secret, session, _ = await world.accounts.sign_in("alice@example.com", PASSWORD, world.ctx())
    while world.clock.current + timedelta(hours=1) < session.expires_at:
        world.clock.advance(timedelta(hours=1))
        principal = await world.accounts.resume(secret)
        assert principal.expires_at <= session.expires_at
    world.clock.current = session.expires_at

    with pytest.raises(AuthenticationFailed, match="expired"):
        await world.accounts.resume(secret)


async def test_resuming_writes_at_most_once_a_minute(world: World) -> None:
    secret, session, _ = await world.accounts.sign_in("alice@example.com", PASSWORD, world.ctx())
    seen = []
    for _ in range(3):
        world.clock.advance(timedelta(seconds=25))
        await world.accounts.resume(secret)
        async with world.container.uow_factory()(autocommit=True) as uow:
            stored = await uow.sessions.get(session.id)
        assert stored is not None
        seen.append(stored.last_seen_at)
    assert seen[0] == seen[1] == session.last_seen_at
    assert seen[2] > seen[1]


async def test_a_malformed_or_unknown_secret_is_refused(world: World) -> None:
    for secret in ("", "arv_" + "a" * 43, "arvs_" + "a" * 43):
        with pytest.raises(AuthenticationFailed):
            await world.accounts.resume(secret)


async def test_deactivating_a_user_ends_their_sessions_at_once(world: World) -> None:
    secret, _, _ = await world.accounts.sign_in("alice@example.com", PASSWORD, world.ctx())
    await world.accounts.sign_in("alice@example.com", PASSWORD, world.ctx(ip="::1"))

    await world.container.users().update(
        world.ctx(world.admin), world.alice.id, UserChanges({"is_active": False})
    )

    with pytest.raises(AuthenticationFailed):
        await world.accounts.resume(secret)
    async with world.container.uow_factory()(autocommit=True) as uow:
        assert await uow.sessions.list_for_user(world.alice.id) == []


async def test_signing_out_ends_that_session_only(world: World) -> None:
    first, one, _ = await world.accounts.sign_in("alice@example.com", PASSWORD, world.ctx())
    second, _, _ = await world.accounts.sign_in("alice@example.com", PASSWORD, world.ctx())

    assert await world.accounts.sign_out(world.ctx(world.alice), one.id)
    assert not await world.accounts.sign_out(world.ctx(world.alice), one.id)

    with pytest.raises(AuthenticationFailed):
        await world.accounts.resume(first)
    assert (await world.accounts.resume(second)).user.id == world.alice.id
    assert len(await trail(world.container, events.USER_SIGNED_OUT)) == 1


async def test_signing_out_everywhere_ends_every_session_of_the_user(world: World) -> None:
    secrets = [
        (await world.accounts.sign_in("alice@example.com", PASSWORD, world.ctx())).secret
        for _ in range(2)
    ]

    ended = await world.accounts.sign_out_everywhere(world.ctx(world.alice))

    assert ended == 2
    for secret in secrets:
        with pytest.raises(AuthenticationFailed):
            await world.accounts.resume(secret)
    [event] = await trail(world.container, events.USER_SESSIONS_ENDED)
    assert event.data == {"sessions": 2}


async def test_only_an_admin_signs_someone_else_out(world: World) -> None:
    with pytest.raises(NotFound):
        await world.accounts.sign_out_everywhere(world.ctx(world.alice), world.admin.id)
    assert await world.accounts.sign_out_everywhere(world.ctx(world.admin), world.alice.id) == 0


async def test_a_user_lists_their_live_sessions(world: World) -> None:
    _, old, _ = await world.accounts.sign_in("alice@example.com", PASSWORD, world.ctx())
    world.clock.advance(world.accounts.lifetime.idle)
    _, new, _ = await world.accounts.sign_in("alice@example.com", PASSWORD, world.ctx())

    listed = await world.accounts.list_sessions(world.ctx(world.alice))

    assert [s.id for s in listed] == [new.id]  # the expired one went at sign-in anyway
    assert old.id != new.id


# --- passwords ------------------------------------------------------------------------------


async def test_changing_your_password_ends_your_other_sessions(world: World) -> None:
    here, this, _ = await world.accounts.sign_in("alice@example.com", PASSWORD, world.ctx())
    there, _, _ = await world.accounts.sign_in("alice@example.com", PASSWORD, world.ctx())

    await world.passwords.change_own_password(
        world.ctx(world.alice), PASSWORD, NEW_PASSWORD, keep_session=this.id
    )

    assert (await world.accounts.resume(here)).session_id == this.id
    with pytest.raises(AuthenticationFailed):
        await world.accounts.resume(there)
    with pytest.raises(AuthenticationFailed):
        await world.accounts.sign_in("alice@example.com", PASSWORD, world.ctx(ip="::2"))
    await world.accounts.sign_in("alice@example.com", NEW_PASSWORD, world.ctx(ip="::3"))
    [event] = await trail(world.container, events.USER_PASSWORD_CHANGED)
    assert event.data == {"sessions_ended": 1}


async def test_a_wrong_current_password_is_refused_and_counted(world: World) -> None:
    for _ in range(3):
        with pytest.raises(ValidationFailed) as refused:
            await world.passwords.change_own_password(
                world.ctx(world.alice), "not it at all", NEW_PASSWORD
            )
        assert refused.value.errors[0].field == "current_password"

    with pytest.raises(TooManyAttempts):
        await world.passwords.change_own_password(world.ctx(world.alice), PASSWORD, NEW_PASSWORD)


async def test_a_new_password_the_policy_refuses_names_new_password(world: World) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await world.passwords.change_own_password(
            world.ctx(world.alice), PASSWORD, "alice is my name!"
        )
    assert refused.value.errors[0].field == "new_password"


async def test_someone_without_a_password_cannot_set_one_themselves(world: World) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await world.passwords.change_own_password(world.ctx(world.admin), "", NEW_PASSWORD)
    assert refused.value.errors[0].field == "current_password"


async def test_an_admin_sets_a_password_and_the_users_sessions_end(world: World) -> None:
    secret, _, _ = await world.accounts.sign_in("alice@example.com", PASSWORD, world.ctx())

    await world.passwords.set_password(world.ctx(world.admin), world.alice.id, NEW_PASSWORD)

    with pytest.raises(AuthenticationFailed):
        await world.accounts.resume(secret)
    await world.accounts.sign_in("alice@example.com", NEW_PASSWORD, world.ctx())
    set_events = await trail(world.container, events.USER_PASSWORD_SET)
    assert set_events[0].data == {"by": "administrator", "sessions_ended": 1}
    assert set_events[0].actor_id == world.admin.id


async def test_only_an_admin_sets_someone_elses_password(world: World) -> None:
    with pytest.raises(PermissionDenied):
        await world.passwords.set_password(world.ctx(world.alice), world.admin.id, NEW_PASSWORD)
    with pytest.raises(NotFound):
        await world.passwords.set_password(world.ctx(world.admin), uuid.UUID(int=1), NEW_PASSWORD)


# --- set-password links ---------------------------------------------------------------------


async def test_a_link_sets_the_password_once(world: World) -> None:
    issued = await world.passwords.issue_password_link(world.ctx(world.admin), world.admin.id)
    assert issued.path == f"/set-password?token={issued.secret}"
    assert (await world.passwords.password_link_user(issued.secret)).id == world.admin.id

    user = await world.passwords.set_password_with_link(issued.secret, NEW_PASSWORD, world.ctx())

    assert user.id == world.admin.id
    await world.accounts.sign_in("root@example.com", NEW_PASSWORD, world.ctx())
    with pytest.raises(AuthenticationFailed):
        await world.passwords.set_password_with_link(issued.secret, PASSWORD, world.ctx())
    [event] = await trail(world.container, events.USER_PASSWORD_LINK_ISSUED)
    assert issued.secret not in str(event.data)
    used = (await trail(world.container, events.USER_PASSWORD_SET))[0]  # newest first
    assert used.data["by"] == "link" and used.actor_id == world.admin.id


async def test_a_refused_password_leaves_the_link_usable(world: World) -> None:
    issued = await world.passwords.issue_password_link(SYSTEM, world.alice.id)

    with pytest.raises(ValidationFailed) as refused:
        await world.passwords.set_password_with_link(issued.secret, "short", world.ctx())
    await world.passwords.set_password_with_link(issued.secret, NEW_PASSWORD, world.ctx())

    assert refused.value.errors[0].field == "password"


async def test_a_link_expires(world: World) -> None:
    issued = await world.passwords.issue_password_link(SYSTEM, world.alice.id)
    world.clock.current = issued.expires_at

    with pytest.raises(AuthenticationFailed):
        await world.passwords.set_password_with_link(issued.secret, NEW_PASSWORD)


@pytest.mark.parametrize("how", ["a new link", "a password set", "deactivation"])
async def test_a_link_stops_working_when(world: World, how: str) -> None:
    issued = await world.passwords.issue_password_link(SYSTEM, world.alice.id)
    if how == "a new link":
        await world.passwords.issue_password_link(SYSTEM, world.alice.id)
    elif how == "a password set":
        await world.passwords.set_password(SYSTEM, world.alice.id, NEW_PASSWORD)
    else:
        await world.container.users().update(
            SYSTEM, world.alice.id, UserChanges({"is_active": False})
        )

    with pytest.raises(AuthenticationFailed):
        await world.passwords.password_link_user(issued.secret)


async def test_no_link_for_an_inactive_or_unknown_user_and_none_from_a_member(
    world: World,
) -> None:
    await world.container.users().update(SYSTEM, world.alice.id, UserChanges({"is_active": False}))
    with pytest.raises(Conflict):
        await world.passwords.issue_password_link(SYSTEM, world.alice.id)
    with pytest.raises(PermissionDenied):
        await world.passwords.issue_password_link(world.ctx(world.alice), world.admin.id)
