"""Path resolution answers from the in-process cache without touching storage."""

from __future__ import annotations

from typing import Any

from dependency_injector import providers

from application.context import RequestContext
from application.users import CreateUser
from infrastructure.config import AppSettings
from infrastructure.container import build_container
from infrastructure.memory.store import InMemoryStore
from infrastructure.memory.uow import InMemoryUnitOfWorkFactory


class CountingFactory(InMemoryUnitOfWorkFactory):
    def __init__(self, store: InMemoryStore) -> None:
        super().__init__(store)
        self.opened = 0

    def __call__(self, *, autocommit: bool = False) -> Any:
        self.opened += 1
        return super().__call__(autocommit=autocommit)


async def test_a_warm_lookup_opens_no_unit_of_work_and_publishing_refreshes_latest() -> None:
    container = build_container(AppSettings(storage="memory"))
    counting = CountingFactory(InMemoryStore())
    container.uow_factory.override(providers.Object(counting))
    system = RequestContext.system()
    admin = await container.users().create(
        system, CreateUser(email="a@example.com", name="A", role="admin", access_level=3)
    )
    ctx = RequestContext(actor=admin)
    taxonomy = container.taxonomy()
    await taxonomy.create_version(ctx, "1")
    await taxonomy.add_node(ctx, "1", "AI")
    await taxonomy.publish(ctx, "1")

    cold = await taxonomy.resolve("AI")
    before = counting.opened
    warm = await taxonomy.resolve("AI")
    explicit = await taxonomy.resolve("AI", "1")

    assert warm.node_id == cold.node_id == explicit.node_id
    assert counting.opened == before
    await taxonomy.create_version(ctx, "2", copy_from="1")
    await taxonomy.publish(ctx, "2")
    newer = await taxonomy.resolve("AI")
    assert newer.version == "2"
    assert taxonomy.resolver.cache.hit_ratio > 0
