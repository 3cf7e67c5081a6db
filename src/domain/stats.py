"""Statistics for administrators (SPEC.md §2.12): read-only figures over the whole archive.

They are not limited by a reader's rights (only admins see them), so the port reads the
committed state directly instead of through a unit of work: no figure is written, and the
figures need not be consistent with each other to the row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from uuid import UUID


@dataclass(frozen=True, slots=True)
class CategoryStatistics:
    """One row of the `category_statistics` view: live documents of one category."""

    category_id: UUID
    category: str
    document_count: int
    total_size_bytes: int
    average_size_bytes: int  # rounded half away from zero; 0 for an empty category
    last_upload_at: datetime | None  # None for an empty category


@dataclass(frozen=True, slots=True)
class DailyCount:
    day: date  # a UTC calendar day
    count: int


@dataclass(frozen=True, slots=True)
class DailyUploadOutcomes:
    """Upload attempts of one UTC day by what came of them (the `uploads` records)."""

    day: date
    stored: int = 0
    duplicate: int = 0
    rejected: int = 0
    failed: int = 0

    @property
    def attempts(self) -> int:
        return self.stored + self.duplicate + self.rejected + self.failed

    @property
    def failure_rate(self) -> float:
        """The share of attempts refused or failed (0 on a day without any)."""
        return (self.rejected + self.failed) / self.attempts if self.attempts else 0.0


@dataclass(frozen=True, slots=True)
class TagUsage:
    tag_id: UUID
    name: str
    document_count: int  # live (not trashed) documents carrying the tag


@dataclass(frozen=True, slots=True)
class DocumentActivity:
    document_id: UUID
    title: str
    count: int  # how many events of the asked action the document has


@dataclass(frozen=True, slots=True)
class ArchiveSize:
    """How much the archive holds: for the `/metrics` gauges."""

    live_documents: int
    trashed_documents: int
    blob_bytes: int  # the documents' stored contents, each blob (storage key) once


class StatsRepository(Protocol):
    """Aggregates over the committed state. Every ordering is total, so both adapters agree
    row for row; names and titles order by their UTF-8 bytes (PostgreSQL's "C" collation)."""

    async def category_statistics(self) -> Sequence[CategoryStatistics]:
        """Every category (empty ones too, with zeros), counting live documents only,
        ordered by category name."""
        ...

    async def uploads_per_day(self, since: datetime) -> Sequence[DailyCount]:
        """`document.uploaded` events at or after `since`, counted per UTC day; only days
        with at least one upload, oldest first. Purged documents' uploads still count."""
        ...

    async def upload_outcomes_per_day(self, since: datetime) -> Sequence[DailyUploadOutcomes]:
        """Upload records started at or after `since`, counted per UTC day and status; only
        days with at least one, oldest first."""
        ...

    async def popular_tags(self, limit: int) -> Sequence[TagUsage]:
        """Tags on at least one live document, by that count (most first), then name;
        at most `limit`."""
        ...

    async def most_active_documents(self, action: str, limit: int) -> Sequence[DocumentActivity]:
        """Live documents by how many `action` events (e.g. `document.viewed`) name them,
        most first, then title, then id; documents without such events are left out; at
        most `limit`."""
        ...

    async def archive_size(self) -> ArchiveSize:
        """Documents live and in the trash (not purged), and the bytes of their contents,
        each storage key counted once (thumbnails not included)."""
        ...
