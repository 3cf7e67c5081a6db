"""Ports: what the application needs from storage and the outside world.

Each repository has a SQLAlchemy adapter and an in-memory adapter; `tests/contract` holds
them to the same behaviour. Repositories raise domain errors (`Conflict` for a broken
uniqueness rule), never driver exceptions.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self
from uuid import UUID

from domain.account_ports import (
    PasswordLinkRepository,
    PasswordRepository,
    SessionRepository,
)
from domain.document_ports import (
    CategoryRepository,
    DocumentRepository,
    DocumentViews,
    FileTypeRepository,
    PermissionRepository,
    TagRepository,
)
from domain.events import Event, EventFilter
from domain.jobs import JobQueue
from domain.pagination import Page, PageRequest
from domain.processing import ProcessingRepository
from domain.search_ports import SearchLogRepository, SearchRepository
from domain.settings import Setting
from domain.taxonomy_ports import ClassificationRepository, TaxonomyRepository
from domain.tokens import ApiToken
from domain.uploads import UploadRepository
from domain.users import User, UserFilter


class UserRepository(Protocol):
    async def add(self, user: User) -> None:
        """Insert a new user. Raises `Conflict` if the email is taken."""
        ...

    async def get(self, user_id: UUID) -> User | None: ...

    async def get_by_email(self, email: str) -> User | None:
        """Look up by the normalised (lower-case) email."""
        ...

    async def list(self, filters: UserFilter, page: PageRequest) -> Page[User]:
        """Users matching `filters`, in `(created_at, id)` order, one keyset page."""
        ...

    async def update(self, user: User) -> None:
        """Store every field of an existing user. Raises `Conflict` if the email is taken."""
        ...

    async def record_login(self, user_id: UUID, at: datetime, ip: str | None) -> None:
        """Set last_login_at/last_login_ip without touching anything else."""
        ...

    async def count_active_admins(self) -> int: ...

    async def any_exist(self) -> bool: ...


class ApiTokenRepository(Protocol):
    async def add(self, token: ApiToken) -> None: ...

    async def get(self, token_id: UUID) -> ApiToken | None: ...

    async def find_with_user(self, token_hash: str) -> tuple[ApiToken, User] | None:
        """The token with this hash and its owner, in one lookup; None if unknown."""
        ...

    async def list(self, user_id: UUID | None, page: PageRequest) -> Page[ApiToken]:
        """Tokens of `user_id` (all users' if None), `(created_at, id)` order."""
        ...

    async def update(self, token: ApiToken) -> None: ...

    async def touch(self, token_id: UUID, now: datetime, stale_before: datetime) -> bool:
        """Set last_used_at to `now` unless it is already at or after `stale_before`.

        Returns whether a row changed; concurrent requests race harmlessly.
        """
        ...


class EventRepository(Protocol):
    async def add(self, event: Event) -> None:
        """Append an event; its id is assigned by the store."""
        ...

    async def add_all(self, events: Sequence[Event]) -> None:
        """Append events in their order (one statement on SQL: a batch of uploads)."""
        ...

    async def list(self, filters: EventFilter, page: PageRequest) -> Page[Event]:
        """Matching events, newest first (descending id), one keyset page."""
        ...

    async def delete_before(
        self, actions: Collection[str], cutoff: datetime, limit: int, *, dry_run: bool = False
    ) -> int:
        """Delete up to `limit` of the oldest events of `actions` that occurred before
        `cutoff`; how many (with `dry_run`, how many would go, up to `limit`, deleting none)."""
        ...


class SettingRepository(Protocol):
    async def get(self, key: str) -> Setting | None: ...

    async def list(self) -> Sequence[Setting]:
        """Every stored setting, ordered by key."""
        ...

    async def put(self, setting: Setting) -> None:
        """Insert or replace the setting with this key."""
        ...


class UnitOfWork(Protocol):
    """One transaction. Rolls back on exit unless `commit()` was called.

    Use as `async with uow_factory() as uow: ...; await uow.commit()`.
    """

    users: UserRepository
    tokens: ApiTokenRepository
    events: EventRepository
    settings: SettingRepository
    documents: DocumentRepository
    views: DocumentViews
    categories: CategoryRepository
    tags: TagRepository
    file_types: FileTypeRepository
    permissions: PermissionRepository
    taxonomy: TaxonomyRepository
    classifications: ClassificationRepository
    search: SearchRepository
    search_logs: SearchLogRepository
    jobs: JobQueue
    uploads: UploadRepository
    processing: ProcessingRepository
    passwords: PasswordRepository
    sessions: SessionRepository
    password_links: PasswordLinkRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, autocommit: bool = False) -> UnitOfWork:
        """A new unit of work. `autocommit=True` means no transaction around its statements:
        each commits on its own as it runs (the SQL adapter skips BEGIN/ROLLBACK, one round
        trip instead of three on hot reads). It is for reads, and for a use case whose one
        write is a single atomic statement (opening a document records the view: `views`).
        It has nothing to `commit()` and refuses to."""
        ...
