"""The in-memory unit of work: stages every write, applies all of it on commit or none."""

from __future__ import annotations

from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from domain.errors import Conflict
from infrastructure import constraints
from infrastructure.memory.accounts import (
    InMemoryPasswordLinkRepository,
    InMemoryPasswordRepository,
    InMemorySessionRepository,
)
from infrastructure.memory.categories import InMemoryCategoryRepository
from infrastructure.memory.documents import InMemoryDocumentRepository, InMemoryDocumentViews
from infrastructure.memory.file_types import InMemoryFileTypeRepository
from infrastructure.memory.jobs import InMemoryJobQueue
from infrastructure.memory.permissions import InMemoryPermissionRepository
from infrastructure.memory.processing import InMemoryProcessingRepository
from infrastructure.memory.repositories import (
    InMemoryApiTokenRepository,
    InMemoryEventRepository,
    InMemorySettingRepository,
    InMemoryUserRepository,
    check_unique_on_commit,
)
from infrastructure.memory.search_logs import InMemorySearchLogRepository
from infrastructure.memory.search_repository import InMemorySearchRepository
from infrastructure.memory.store import InMemoryStore
from infrastructure.memory.table import StagedTable
from infrastructure.memory.tags import InMemoryTagRepository
from infrastructure.memory.taxonomy_repositories import (
    InMemoryClassificationRepository,
    InMemoryTaxonomyRepository,
)
from infrastructure.memory.uploads import InMemoryUploadRepository
from infrastructure.tuning import Tuning


class InMemoryUnitOfWork:
    users: InMemoryUserRepository
    tokens: InMemoryApiTokenRepository
    events: InMemoryEventRepository
    settings: InMemorySettingRepository
    documents: InMemoryDocumentRepository
    views: InMemoryDocumentViews
    categories: InMemoryCategoryRepository
    tags: InMemoryTagRepository
    file_types: InMemoryFileTypeRepository
    permissions: InMemoryPermissionRepository
    taxonomy: InMemoryTaxonomyRepository
    classifications: InMemoryClassificationRepository
    search: InMemorySearchRepository
    search_logs: InMemorySearchLogRepository
    jobs: InMemoryJobQueue
    uploads: InMemoryUploadRepository
    processing: InMemoryProcessingRepository
    passwords: InMemoryPasswordRepository
    sessions: InMemorySessionRepository
    password_links: InMemoryPasswordLinkRepository

    def __init__(
        self, store: InMemoryStore, *, autocommit: bool = False, tuning: Tuning | None = None
    ) -> None:
        self._store = store
        self._autocommit = autocommit
        self._tuning = tuning or Tuning()
        self._open = False

    async def __aenter__(self) -> Self:
        self._users = StagedTable(self._store.users)
        self._tokens = StagedTable(self._store.tokens)
        self._settings = StagedTable(self._store.settings)
        self.users = InMemoryUserRepository(self._users)
        self.tokens = InMemoryApiTokenRepository(self._tokens, self._users)
        self.events = InMemoryEventRepository(self._store, autocommit=self._autocommit)
        self.settings = InMemorySettingRepository(self._settings)
        self._documents = StagedTable(self._store.documents)
        self._doc_tags = StagedTable(self._store.doc_tags)
        self._tags = StagedTable(self._store.tags)
        self._categories = StagedTable(self._store.categories)
        self._permissions = StagedTable(self._store.permissions)
        self._file_types = StagedTable(self._store.file_types)
        self._taxonomy_versions = StagedTable(self._store.taxonomy_versions)
        self._taxonomy_nodes = StagedTable(self._store.taxonomy_nodes)
        self._classifications = StagedTable(self._store.classifications)
        self._search_queries = StagedTable(self._store.search_queries)
        self._search_responses = StagedTable(self._store.search_responses)
        self._feedback = StagedTable(self._store.feedback)
        self._processing = StagedTable(self._store.processing)
        self.documents = InMemoryDocumentRepository(
            self._documents,
            self._doc_tags,
            self._tags,
            self._permissions,
            self._users,
            self._categories,
            self._classifications,
            # The wall clock, not the Clock: what this stands for is PostgreSQL's now() (the
            # server's transaction start, the default of document_tags.created_at), which no
            # Clock the application is given moves either.
            datetime.now(UTC),
            processing=self._processing,
        )
        self.views = InMemoryDocumentViews(self.documents, self.events)
        self.categories = InMemoryCategoryRepository(self._categories)
        self.tags = InMemoryTagRepository(self._tags, self._doc_tags, self.documents)
        self.file_types = InMemoryFileTypeRepository(self._file_types)
        self.permissions = InMemoryPermissionRepository(
            self._permissions, self._users, self._documents
        )
        self.taxonomy = InMemoryTaxonomyRepository(self._taxonomy_versions, self._taxonomy_nodes)
        self.classifications = InMemoryClassificationRepository(
            self._classifications, self._documents, self._taxonomy_nodes, self._permissions
        )
        self.search = InMemorySearchRepository(self.documents, self._documents, self._tuning)
        self.search_logs = InMemorySearchLogRepository(
            self.documents, self._search_queries, self._search_responses, self._feedback
        )
        self._jobs = StagedTable(self._store.jobs)
        self.jobs = InMemoryJobQueue(
            self._jobs, self._store.job_ids, autocommit=self._autocommit, log=self._store.job_log
        )
        self._uploads = StagedTable(self._store.uploads)
        self.uploads = InMemoryUploadRepository(self._uploads)
        self.processing = InMemoryProcessingRepository(
            self._processing, self._documents, autocommit=self._autocommit
        )
        self._passwords = StagedTable(self._store.passwords)
        self._sessions = StagedTable(self._store.sessions)
        self._password_links = StagedTable(self._store.password_links)
        self.passwords = InMemoryPasswordRepository(self._passwords, self._users)
        self.sessions = InMemorySessionRepository(self._sessions, self._users)
        self.password_links = InMemoryPasswordLinkRepository(self._password_links, self._users)
        self._open = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # An autocommit unit of work's events are written as they are added; it writes
        # nothing else (its use cases read, or open a document: `views`).
        await self.rollback()
        self._open = False

    async def commit(self) -> None:
        if not self._open:
            raise RuntimeError("commit() outside the unit of work")
        if self._autocommit:
            raise RuntimeError("an autocommit unit of work has nothing to commit")
        # Check everything first, then apply without an await in between: all or nothing.
        self.tags.settle_ensured(self._store.tags)
        self.jobs.settle(self._store.jobs)
        self.processing.settle(self._documents)
        if self._documents.stale():
            raise Conflict("the document was changed by someone else meanwhile; send it again")
        if self._password_links.stale():
            raise Conflict("the set-password link was used meanwhile")
        check_unique_on_commit(
            self._users, self._store.users, "email", constraints.message(constraints.IX_USERS_EMAIL)
        )
        check_unique_on_commit(
            self._tokens,
            self._store.tokens,
            "token_hash",
            constraints.message(constraints.UQ_API_TOKENS_TOKEN_HASH),
        )
        check_unique_on_commit(
            self._categories,
            self._store.categories,
            "name",
            constraints.message(constraints.UQ_CATEGORIES_NAME),
        )
        check_unique_on_commit(
            self._tags,
            self._store.tags,
            "name",
            constraints.message(constraints.UQ_TAGS_NAME_LOWER),
            normalize=str.lower,
        )
        for table in self._tables():
            table.apply()
        self.events.commit_into(self._store)

    def _tables(self) -> list[StagedTable[Any, Any]]:
        return [
            self._users,
            self._tokens,
            self._settings,
            self._categories,
            self._tags,
            self._documents,
            self._doc_tags,
            self._permissions,
            self._file_types,
            self._taxonomy_versions,
            self._taxonomy_nodes,
            self._classifications,
            self._search_queries,
            self._search_responses,
            self._feedback,
            self._jobs,
            self._uploads,
            self._processing,
            self._passwords,
            self._sessions,
            self._password_links,
        ]

    async def rollback(self) -> None:
        if not self._open:
            return
        for table in self._tables():
            table.discard()
        self.events.pending.clear()


class InMemoryUnitOfWorkFactory:
    def __init__(self, store: InMemoryStore, tuning: Tuning | None = None) -> None:
        self.store = store
        self.tuning = tuning or Tuning()

    def __call__(self, *, autocommit: bool = False) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.store, autocommit=autocommit, tuning=self.tuning)
