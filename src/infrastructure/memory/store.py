"""The committed state of one in-memory database. One instance per container or test."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from domain.documents import DEFAULT_FILE_TYPES, Category, Document, FileType, Permission, Tag
from domain.events import Event
from domain.passwords import PasswordLink, StoredPassword
from domain.processing import Processing
from domain.search import Feedback, SearchQueryLog, SearchResponseLog
from domain.sessions import UserSession
from domain.settings import Setting
from domain.taxonomy import Classification, TaxonomyNode, TaxonomyVersion
from domain.tokens import ApiToken
from domain.uploads import UploadRecord
from domain.users import User
from infrastructure.memory.jobs import FinishedJob, JobIds, StoredJob


@dataclass
class InMemoryStore:
    users: dict[UUID, User] = field(default_factory=dict)
    tokens: dict[UUID, ApiToken] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    settings: dict[str, Setting] = field(default_factory=dict)
    last_event_id: int = 0
    documents: dict[UUID, Document] = field(default_factory=dict)
    doc_tags: dict[tuple[UUID, UUID], datetime] = field(default_factory=dict)
    tags: dict[UUID, Tag] = field(default_factory=dict)
    categories: dict[UUID, Category] = field(default_factory=dict)
    permissions: dict[tuple[UUID, UUID], Permission] = field(default_factory=dict)
    taxonomy_versions: dict[str, TaxonomyVersion] = field(default_factory=dict)
    taxonomy_nodes: dict[UUID, TaxonomyNode] = field(default_factory=dict)
    classifications: dict[tuple[UUID, UUID, str], Classification] = field(default_factory=dict)
    search_queries: dict[UUID, SearchQueryLog] = field(default_factory=dict)
    search_responses: dict[UUID, SearchResponseLog] = field(default_factory=dict)  # by query
    feedback: dict[tuple[UUID, UUID], Feedback] = field(default_factory=dict)
    jobs: dict[int, StoredJob] = field(default_factory=dict)
    job_ids: JobIds = field(default_factory=JobIds)
    job_log: list[FinishedJob] = field(default_factory=list)  # pgqueuer's log, in short
    uploads: dict[UUID, UploadRecord] = field(default_factory=dict)
    processing: dict[tuple[UUID, str], Processing] = field(default_factory=dict)
    passwords: dict[UUID, StoredPassword] = field(default_factory=dict)  # by user
    sessions: dict[UUID, UserSession] = field(default_factory=dict)
    password_links: dict[UUID, PasswordLink] = field(default_factory=dict)
    # Seeded like migration 0002 seeds the table.
    file_types: dict[str, FileType] = field(
        default_factory=lambda: {f.extension: copy.deepcopy(f) for f in DEFAULT_FILE_TYPES}
    )
