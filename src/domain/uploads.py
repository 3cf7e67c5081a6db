"""Upload records (SPEC §2.12; issue #12 item 5): every attempt to store a file, whatever came
of it, with where it came from and who sent it. Stored files are documents; these say what was
tried: a file refused for its type or size leaves a record and no bytes."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.pagination import Page, PageRequest
from domain.values import check_instant

FILENAME_MAX = 255
USER_AGENT_MAX = 500
ERROR_CODE_MAX = 100


class UploadSource(enum.StrEnum):
    HTTP = "http"  # POST /documents (multipart)
    TEXT = "text"  # POST /documents/text
    IMPORT = "import"  # archivist import
    CONSUME = "consume"  # the consume folder


class UploadStatus(enum.StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"  # the same bytes were stored already: refused, or skipped
    REJECTED = "rejected"  # refused by a rule: type, size, content, rights, a bad field
    FAILED = "failed"  # not the file's fault: the storage, an unexpected error


@dataclass(frozen=True, slots=True)
class UploadRecord:
    id: UUID
    source: UploadSource
    user_id: UUID | None
    client_ip: str | None
    user_agent: str | None
    filename: str | None
    size_bytes: int | None  # what arrived (for a refused file: up to where it was refused)
    sha256: str | None
    status: UploadStatus
    error_code: str | None
    started_at: datetime
    completed_at: datetime
    document_id: UUID | None  # the document made, or the one it duplicates


@dataclass(frozen=True, slots=True)
class UploadFilter:
    status: UploadStatus | None = None
    source: UploadSource | None = None
    user_id: UUID | None = None
    since: datetime | None = None  # started at or after
    until: datetime | None = None  # started before

    def __post_init__(self) -> None:
        # What PostgreSQL refuses, every storage refuses (a 422, never a 500).
        for name in ("since", "until"):
            instant = getattr(self, name)
            if instant is not None:
                check_instant(instant, name)

    def matches(self, record: UploadRecord) -> bool:
        return (
            (self.status is None or record.status is self.status)
            and (self.source is None or record.source is self.source)
            and (self.user_id is None or record.user_id == self.user_id)
            and (self.since is None or record.started_at >= self.since)
            and (self.until is None or record.started_at < self.until)
        )


class UploadRepository(Protocol):
    async def add(self, record: UploadRecord) -> None: ...

    async def add_all(self, records: Sequence[UploadRecord]) -> None:
        """`add` of each, in one statement on SQL (a batch of uploads)."""
        ...

    async def list(self, filters: UploadFilter, page: PageRequest) -> Page[UploadRecord]:
        """Matching records, newest first (`started_at`, then id), one keyset page."""
        ...

    async def delete_before(self, cutoff: datetime, limit: int, *, dry_run: bool = False) -> int:
        """Delete up to `limit` of the oldest records started before `cutoff`; how many (with
        `dry_run`: how many would go, deleting none)."""
        ...
