"""Ports of the documents area. Every read that a caller's rights limit takes the reader
and filters inside the store's query (SPEC.md principle 5), never after a LIMIT."""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Protocol
from uuid import UUID

from domain.documents import (
    Access,
    Category,
    Document,
    DocumentType,
    FileType,
    Permission,
    Tag,
    check_metadata,
)
from domain.errors import ValidationFailed
from domain.events import Event
from domain.pagination import Keyset, Kind, Page, PageRequest
from domain.processing import ProcessingFilter
from domain.users import User
from domain.values import check_instant, check_text


class DocumentSort(enum.StrEnum):
    """A listing's order: a column, ascending, or descending with a leading `-`."""

    CREATED = "created_at"
    CREATED_DESC = "-created_at"
    TITLE = "title"
    TITLE_DESC = "-title"
    SIZE = "size_bytes"
    SIZE_DESC = "-size_bytes"

    @property
    def keyset(self) -> Keyset:
        """The order of the listing in this sort: the sorted column, then the id."""
        return _KEYSETS[self]


_KEYSETS: Final = {
    DocumentSort.CREATED: Keyset("documents", (Kind.INSTANT, Kind.ID)),
    DocumentSort.CREATED_DESC: Keyset("documents-newest", (Kind.INSTANT, Kind.ID), True),
    DocumentSort.TITLE: Keyset("documents-by-title", (Kind.TEXT, Kind.ID)),
    DocumentSort.SIZE: Keyset("documents-by-size", (Kind.INT, Kind.ID)),
    DocumentSort.TITLE_DESC: Keyset("documents-by-title-desc", (Kind.TEXT, Kind.ID), True),
    DocumentSort.SIZE_DESC: Keyset("documents-by-size-desc", (Kind.INT, Kind.ID), True),
}

# `title_contains` (the listing's `q`): long enough for any real part of a title, short
# enough that its trigrams stay few (`sqlalchemy/document_filters.py`).
TITLE_QUERY_MAX: Final = 100


@dataclass(frozen=True, slots=True)
class DocumentFilter:
    tags: tuple[str, ...] = ()  # every one must be on the document (names, any case)
    category_id: UUID | None = None
    # A category by name, resolved by the repository with the other filters; an unknown name
    # is a ValidationFailed on "category".
    category: str | None = None
    document_type: DocumentType | None = None
    department: str | None = None
    access_level: int | None = None
    owner_id: UUID | None = None
    metadata: dict[str, Any] | None = None  # JSON containment
    created_after: datetime | None = None
    created_before: datetime | None = None
    deleted: bool = False  # True: the trash the reader may read (`policy.can_read`)
    # Classified at or below this path in this version (the use case fills the version in).
    taxonomy_path: tuple[str, ...] | None = None
    taxonomy_version: str | None = None
    # A kind of background work in a state (`processing=failed`, `thumbnail:failed`).
    processing: ProcessingFilter | None = None
    # True: OCR is pending or failed (the "ocr" kind); False: it is neither.
    needs_ocr: bool | None = None
    # The title holds this text, compared lower-cased (`%` and `_` are plain characters).
    title_contains: str | None = None

    def __post_init__(self) -> None:
        # What PostgreSQL refuses, every storage refuses (a 422, never a 500).
        for name in ("category", "department", "taxonomy_version"):
            text = getattr(self, name)
            if text is not None:
                check_text(text, name)
        for tag in self.tags:
            check_text(tag, "tags")
        for label in self.taxonomy_path or ():
            check_text(label, "taxonomy")
        for name in ("created_after", "created_before"):
            instant = getattr(self, name)
            if instant is not None:
                check_instant(instant, name)
        check_metadata(self.metadata)
        if self.title_contains is not None:  # the listing's `q`
            check_text(self.title_contains, "q")
            if not 1 <= len(self.title_contains) <= TITLE_QUERY_MAX:
                raise ValidationFailed.on("q", f"must be 1 to {TITLE_QUERY_MAX} characters")


@dataclass(frozen=True, slots=True)
class Readable:
    """A document the reader may read, with the reader's grant on it (if any)."""

    document: Document
    grant: Access | None


@dataclass(frozen=True, slots=True)
class DuplicateGroup:
    sha256: str
    documents: Sequence[Document] = field(default_factory=tuple)


class DocumentViews(Protocol):
    """Opening a document: reading it and recording that it was read, as one write.

    Not a part of `DocumentRepository`, which writes no audit events: the one use case that
    writes as it reads (`DocumentReads.get`) runs it in an autocommit unit of work, where it
    is a single statement that commits as it runs, with no transaction around it."""

    async def open(self, doc_id: UUID, reader: User, viewed: Event) -> Readable | None:
        """The document if `reader` may read it (as `DocumentRepository.get_readable`), with
        `viewed` appended to the audit trail in the same statement; None, and no event,
        otherwise."""
        ...


class DocumentRepository(Protocol):
    async def add(self, doc: Document) -> None:
        """Insert a document with its tag links (`doc.tags` must name existing tags)."""
        ...

    async def add_all(self, docs: Sequence[Document]) -> None:
        """`add` of each, all or nothing, in one statement on SQL (a batch of uploads)."""
        ...

    async def get_readable(
        self, doc_id: UUID, reader: User, *, include_trash: bool = True
    ) -> Readable | None:
        """The document if `reader` may read it (trash included for its owner and admins),
        else None — whether it is missing or hidden is not told apart."""
        ...

    async def list_readable(
        self, reader: User, filters: DocumentFilter, sort: DocumentSort, page: PageRequest
    ) -> Page[Document]:
        """A keyset page of the documents `reader` may read that match `filters`."""
        ...

    async def update(self, doc: Document, expected_version: int) -> bool:
        """Store `doc` (its version already raised) if the stored version is still
        `expected_version`; False if someone else changed it first."""
        ...

    async def set_tags(self, doc_id: UUID, tag_ids: Sequence[UUID]) -> None:
        """Replace the document's tag links."""
        ...

    async def purge(self, doc_id: UUID) -> None:
        """Delete the row for good (grants and tag links cascade)."""
        ...

    async def readable_with_sha256(self, sha256: str, reader: User) -> Sequence[Document]:
        """Live (not trashed) documents with these bytes that `reader` may read."""
        ...

    async def first_readable_with_sha256(
        self, sha256s: Collection[str], reader: User
    ) -> Mapping[str, Document]:
        """For each of `sha256s` that has any, the first (oldest) of `readable_with_sha256`,
        by SHA-256, in one query (a batch of uploads looking for duplicates)."""
        ...

    async def duplicate_groups(self, reader: User, limit: int) -> Sequence[DuplicateGroup]:
        """Groups of two or more readable live documents sharing bytes, largest first."""
        ...

    async def get(self, doc_id: UUID) -> Document | None:
        """The document whoever may read it, trash included: for the system's own work (a
        background job), never for a request."""
        ...

    async def set_thumbnail(self, doc_id: UUID, key: str) -> bool:
        """Record the blob of the document's thumbnail. Not a change of the document (no new
        version): a picture made from it. False if there is no such document."""
        ...

    async def without_thumbnail(self) -> Sequence[UUID]:
        """The documents that have no thumbnail, trash included, oldest first."""
        ...

    async def count_referencing(self, storage_key: str) -> int:
        """How many rows (trash included) reference a blob."""
        ...

    async def storage_keys(self) -> set[str]:
        """Every blob key any row references (for sweeping unreferenced blobs)."""
        ...

    async def trashed_before(self, cutoff: datetime, limit: int) -> Sequence[Document]:
        """Documents in the trash since before `cutoff` (for purge)."""
        ...


class CategoryRepository(Protocol):
    async def add(self, category: Category) -> None:
        """Raises `Conflict` on a taken name."""
        ...

    async def get(self, category_id: UUID) -> Category | None: ...

    async def get_by_name(self, name: str) -> Category | None: ...

    async def list(self) -> Sequence[Category]:
        """Every category, by name."""
        ...

    async def update(self, category: Category) -> None: ...

    async def delete(self, category_id: UUID) -> None:
        """Remove it; documents in it keep existing with no category."""
        ...


class TagRepository(Protocol):
    async def add(self, tag: Tag) -> None:
        """Raises `Conflict` on a name taken in any case."""
        ...

    async def ensure(self, tag: Tag) -> Tag:
        """`tag`, inserted, or the tag already holding its name in any case (a concurrent
        first use of the same new name is not an error)."""
        ...

    async def get(self, tag_id: UUID) -> Tag | None: ...

    async def get_by_names(self, names: Sequence[str]) -> Sequence[Tag]:
        """The tags with these names (compared case-insensitively)."""
        ...

    async def list(self) -> Sequence[Tag]:
        """Every tag, by name."""
        ...

    async def popular(self, reader: User, limit: int) -> Sequence[tuple[Tag, int]]:
        """Tags with how many live documents `reader` may read carry them, most first."""
        ...

    async def update(self, tag: Tag) -> None: ...

    async def delete(self, tag_id: UUID) -> None: ...


class FileTypeRepository(Protocol):
    async def get(self, extension: str) -> FileType | None: ...

    async def list(self) -> Sequence[FileType]: ...

    async def put(self, file_type: FileType) -> None: ...


class PermissionRepository(Protocol):
    async def get(self, user_id: UUID, document_id: UUID) -> Permission | None: ...

    async def list_for(self, document_id: UUID) -> Sequence[Permission]: ...

    async def put(self, permission: Permission) -> None:
        """Create or replace the grant of (user, document)."""
        ...

    async def delete(self, user_id: UUID, document_id: UUID) -> bool: ...
