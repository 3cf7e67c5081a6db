"""Failed-authentication throttling (issue #9, item 11): after `auth_failures_per_minute`
refused credentials from one client address, that address gets 429 with `Retry-After` before
any token is looked up; other addresses, and valid tokens from them, are never affected."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from dependency_injector import providers
from litestar import Litestar

from application.auth_throttle import FailedAuthenticationThrottle, throttle_key
from application.context import Principal
from application.tokens import TokenService
from infrastructure.config import AppSettings
from infrastructure.container import Container, build_container
from interfaces.http.app import create_app
from tests.api.conftest import API, PROBLEM_JSON, bearer

LIMIT = 3
ATTACKER = "203.0.113.7"
BYSTANDER = "198.51.100.20"
BAD_TOKEN = "arv_" + "x" * 43  # well-formed, unknown: costs a lookup unless throttled


class FakeMonotonic:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingTokenService(TokenService):
    """Counts the lookups authentication makes (each one a database query on PostgreSQL)."""

    lookups = 0

    async def authenticate(self, secret: str, client_ip: str | None = None) -> Principal:
        self.lookups += 1
        return await super().authenticate(secret, client_ip)


class Setup:
    def __init__(self, container: Container, app: Litestar, clock: FakeMonotonic) -> None:
        self.container = container
        self.app = app
        self.clock = clock
        self.tokens: CountingTokenService = container.tokens()
        self.admin_secret = ""

    @asynccontextmanager
    async def client_from(self, address: str) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=self.app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


@pytest.fixture
async def setup() -> Setup:
    container = build_container(AppSettings(storage="memory", auth_failures_per_minute=LIMIT))
    clock = FakeMonotonic()
    container.tokens.override(
        providers.Singleton(CountingTokenService, container.uow_factory, container.clock)
    )
    container.auth_throttle.override(
        providers.Object(FailedAuthenticationThrottle(LIMIT, clock=clock))
    )
    created = await container.bootstrap().create_admin("admin@example.com", "Ada Admin")
    built = Setup(container, create_app(container), clock)
    built.admin_secret = created.issued.secret
    return built


async def fail_auth(client: httpx.AsyncClient, times: int) -> list[int]:
    return [
        (await client.get(f"{API}/me", headers=bearer(BAD_TOKEN))).status_code for _ in range(times)
    ]


async def test_the_failure_after_the_limit_is_429_with_retry_after(setup: Setup) -> None:
    async with setup.client_from(ATTACKER) as client:
        assert await fail_auth(client, LIMIT) == [401] * LIMIT
        setup.clock.now += 15

        response = await client.get(f"{API}/me", headers=bearer(BAD_TOKEN))

    assert response.status_code == 429
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert response.json()["code"] == "too_many_requests"
    assert response.headers["retry-after"] == "45"  # the window opened 15 s ago


async def test_a_throttled_address_costs_no_token_lookup(setup: Setup) -> None:
    async with setup.client_from(ATTACKER) as client:
        await fail_auth(client, LIMIT)
        before = setup.tokens.lookups

        statuses = await fail_auth(client, 50)

    assert statuses == [429] * 50
    assert setup.tokens.lookups == before


async def test_a_throttled_address_is_refused_even_with_a_valid_token(setup: Setup) -> None:
    # The decision (docs/decisions.md): checking tokens from a throttled address would hand
    # the attacker the lookups the throttle exists to stop.
    async with setup.client_from(ATTACKER) as client:
        await fail_auth(client, LIMIT)

        response = await client.get(f"{API}/me", headers=bearer(setup.admin_secret))

    assert response.status_code == 429


async def test_valid_tokens_from_other_addresses_are_not_throttled(setup: Setup) -> None:
    async with setup.client_from(ATTACKER) as attacker:
        await fail_auth(attacker, LIMIT + 5)
    async with setup.client_from(BYSTANDER) as bystander:
        statuses = [
            (await bystander.get(f"{API}/me", headers=bearer(setup.admin_secret))).status_code
            for _ in range(LIMIT * 5)
        ]
        # ... and their own failures are counted apart from the attacker's.
        assert await fail_auth(bystander, 1) == [401]

    assert statuses == [200] * (LIMIT * 5)


async def test_the_address_is_let_through_again_when_the_window_passes(setup: Setup) -> None:
    async with setup.client_from(ATTACKER) as client:
        await fail_auth(client, LIMIT + 1)
        setup.clock.now += 60

        response = await client.get(f"{API}/me", headers=bearer(setup.admin_secret))

    assert response.status_code == 200


async def test_missing_credentials_do_not_count_as_failures(setup: Setup) -> None:
    async with setup.client_from(ATTACKER) as client:
        statuses = [(await client.get(f"{API}/me")).status_code for _ in range(LIMIT * 3)]

    assert statuses == [401] * (LIMIT * 3)


async def test_zero_turns_throttling_off() -> None:
    container = build_container(AppSettings(storage="memory", auth_failures_per_minute=0))
    transport = httpx.ASGITransport(app=create_app(container), client=(ATTACKER, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        statuses = await fail_auth(client, 30)

    assert statuses == [401] * 30


async def test_the_setting_configures_the_limit() -> None:
    container = build_container(AppSettings(storage="memory", auth_failures_per_minute=2))
    transport = httpx.ASGITransport(app=create_app(container), client=(ATTACKER, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        statuses = await fail_auth(client, 3)

    assert statuses == [401, 401, 429]


# --- the throttle itself ----------------------------------------------------------------------


def throttle(limit: int = 2, **kwargs: Any) -> tuple[FailedAuthenticationThrottle, FakeMonotonic]:
    clock = FakeMonotonic()
    return FailedAuthenticationThrottle(limit, clock=clock, **kwargs), clock


def test_memory_is_bounded_by_evicting_the_oldest_windows() -> None:
    limiter, clock = throttle(limit=1, max_addresses=100)
    for i in range(1000):
        clock.now += 0.001
        limiter.record_failure(f"10.0.{i // 256}.{i % 256}")

    assert len(limiter) == 100
    assert limiter.retry_after("10.0.0.0") is None  # the oldest: evicted
    assert limiter.retry_after("10.0.3.231") is not None  # the newest: kept (i = 999)


def test_retry_after_rounds_up_and_is_at_least_one_second() -> None:
    limiter, clock = throttle(limit=1)
    limiter.record_failure("192.0.2.1")
    clock.now += 59.9

    assert limiter.retry_after("192.0.2.1") == 1


def test_an_expired_window_is_forgotten() -> None:
    limiter, clock = throttle(limit=1)
    limiter.record_failure("192.0.2.1")
    clock.now += 60
    limiter.record_failure("192.0.2.2")

    assert limiter.retry_after("192.0.2.1") is None
    assert len(limiter) == 1


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("192.0.2.1", "192.0.2.1"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
    ],
)
def test_ipv6_clients_are_counted_per_64_network(address: str, key: str) -> None:
    # One IPv6 host usually holds a whole /64: counting single addresses would let it rotate.
    assert throttle_key(address) == key


def test_no_throttling_without_an_ip_peer() -> None:
    # Unix sockets and test clients have no IP: every client would share one counter.
    assert throttle_key(None) is None
