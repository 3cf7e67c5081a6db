"""The composition root: builds every adapter and use case once. Nothing runs at import;
`build_container()` is called by the app factory, the CLI and the tests."""

from __future__ import annotations

from dependency_injector import containers, providers

from application.bootstrap import AdminBootstrap
from application.settings import SettingsService
from application.tokens import TokenService
from application.users import UserService
from domain.clock import SystemClock
from infrastructure.config import AppSettings
from infrastructure.memory.store import InMemoryStore
from infrastructure.memory.uow import InMemoryUnitOfWorkFactory
from infrastructure.sqlalchemy.database import Database
from infrastructure.sqlalchemy.migrations import AlwaysReady, SqlReadiness
from infrastructure.sqlalchemy.uow import SqlAlchemyUnitOfWorkFactory


def _engine_of(database: Database) -> object:
    return database.engine


class Container(containers.DeclarativeContainer):
    config = providers.Configuration()
    app_settings = providers.Dependency(instance_of=AppSettings)

    clock = providers.Singleton(SystemClock)

    memory_store = providers.Singleton(InMemoryStore)
    database = providers.Singleton(Database, config.database_url, app_settings)

    uow_factory = providers.Selector(
        config.storage,
        memory=providers.Singleton(InMemoryUnitOfWorkFactory, memory_store),
        postgres=providers.Singleton(
            SqlAlchemyUnitOfWorkFactory, providers.Callable(_engine_of, database)
        ),
    )

    readiness = providers.Selector(
        config.storage,
        memory=providers.Singleton(AlwaysReady),
        postgres=providers.Singleton(SqlReadiness, providers.Callable(_engine_of, database)),
    )

    users = providers.Singleton(UserService, uow_factory, clock)
    tokens = providers.Singleton(TokenService, uow_factory, clock)
    settings = providers.Singleton(SettingsService, uow_factory, clock)
    bootstrap = providers.Singleton(AdminBootstrap, uow_factory, clock, users, tokens)


def build_container(settings: AppSettings, database_url: str | None = None) -> Container:
    """A container for `settings`. With postgres storage, `database_url` must already be
    resolved (the embedded server started) — the container starts no processes."""
    container = Container(app_settings=settings)
    container.config.from_dict(
        {"storage": settings.storage, "database_url": database_url or settings.database_url}
    )
    return container


async def shutdown_container(container: Container) -> None:
    """Release what the container holds (the engine's pool)."""
    if container.config.storage() == "postgres":
        await container.database().dispose()
