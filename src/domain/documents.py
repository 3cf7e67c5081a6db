"""Documents and what hangs off them: categories, tags, file types and grants."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal
from uuid import UUID, uuid4

from domain.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed
from domain.values import (
    JSON_MAX_BYTES,
    AccessLevel,
    bounded_text,
    check_json_value,
    optional_department,
)

if TYPE_CHECKING:
    from domain.blobs import StoredBlob  # domain.blobs imports this module

TITLE_MAX: Final = 500
SOURCE_MAX: Final = 500
FILENAME_MAX: Final = 255
CATEGORY_NAME_MAX: Final = 100
TAG_NAME_MAX: Final = 50
MAX_TAGS: Final = 50  # tags on one document
DESCRIPTION_MAX: Final = 2000  # of a category, a tag or a file type
DEFAULT_TAG_COLOR: Final = "#007bff"
_COLOR_RE: Final = re.compile(r"^#[0-9a-fA-F]{6}$")
_EXTENSION_RE: Final = re.compile(r"^[a-z0-9]{1,10}$")
METADATA_MAX_BYTES: Final = JSON_MAX_BYTES


class DocumentType(enum.StrEnum):
    PDF = "PDF"
    DOCX = "DOCX"
    TXT = "TXT"
    MARKDOWN = "MARKDOWN"


# Which document type a file extension is read as.
TYPE_OF_EXTENSION: Final[dict[str, DocumentType]] = {
    "pdf": DocumentType.PDF,
    "docx": DocumentType.DOCX,
    "txt": DocumentType.TXT,
    "md": DocumentType.MARKDOWN,
    "markdown": DocumentType.MARKDOWN,
}


# The upload policy of a fresh installation (migration 0002 seeds the same rows).
DEFAULT_MAX_SIZE_BYTES: Final = 10 * 1024 * 1024


class Access(enum.IntEnum):
    """A grant's strength. Ordered: delete implies write, write implies read."""

    READ = 1
    WRITE = 2
    DELETE = 3

    @classmethod
    def parse(cls, raw: str) -> Access:
        try:
            return cls[raw.upper()] if isinstance(raw, str) else cls(raw)
        except (KeyError, ValueError):
            raise ValidationFailed.on("access", "must be read, write or delete") from None

    @property
    def label(self) -> str:
        return self.name.lower()


def safe_filename(raw: str) -> str:
    """The last path component of an uploaded name, refused if it is empty, a traversal, or
    holds control or separator characters (a client's name is never trusted as a path)."""
    if not isinstance(raw, str):
        raise ValidationFailed.on("file", "needs a filename")
    name = raw.strip()
    if not name or name in {".", ".."} or len(name) > FILENAME_MAX:
        raise ValidationFailed.on("file", f"filename must be 1-{FILENAME_MAX} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise ValidationFailed.on("file", "filename must not contain control characters")
    if "/" in name or "\\" in name or ".." in name.split("."):
        raise ValidationFailed.on("file", "filename must not contain a path")
    return name


def extension_of(filename: str) -> str:
    """Lower-case extension without the dot; ValidationFailed if there is none."""
    _, dot, ext = filename.rpartition(".")
    ext = ext.lower()
    if not dot or not _EXTENSION_RE.match(ext):
        raise ValidationFailed.on("file", "filename needs an extension of 1-10 letters or digits")
    return ext


def check_metadata(value: Any, field_name: str = "metadata") -> dict[str, Any] | None:
    """Metadata is a JSON object (or absent) within the bounds of `check_json_value`."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValidationFailed.on(field_name, "must be a JSON object")
    return dict(check_json_value(value, field_name))


def tag_name(raw: str) -> str:
    return bounded_text(raw, "tags", TAG_NAME_MAX)


def tag_color(raw: str | None) -> str:
    if raw is None:
        return DEFAULT_TAG_COLOR
    if not isinstance(raw, str) or not _COLOR_RE.match(raw):
        raise ValidationFailed.on("color", "must be #RRGGBB")
    return raw.lower()


@dataclass(eq=False, slots=True)
class Document:
    id: UUID
    title: str
    content: str | None  # None when not loaded (listings leave the extracted text out)
    document_type: DocumentType
    source: str
    access_level: AccessLevel
    department: str | None
    metadata: dict[str, Any] | None
    owner_id: UUID
    category_id: UUID | None
    original_filename: str
    extension: str
    mime_type: str
    size_bytes: int
    sha256: str
    storage_key: str
    created_at: datetime
    updated_at: datetime
    thumbnail_key: str | None = None
    version: int = 1
    deleted_at: datetime | None = None
    tags: list[str] = field(default_factory=list)
    category_name: str | None = None  # read model: the category's name, joined on read

    @classmethod
    def create(
        cls,
        *,
        owner_id: UUID,
        title: str | None,
        content: str,
        filename: str,
        file_type: FileType,
        blob: StoredBlob,
        now: datetime,
        access_level: int = AccessLevel.L1,
        department: str | None = None,
        metadata: dict[str, Any] | None = None,
        source: str | None = None,
        category_id: UUID | None = None,
        tags: Iterable[str] = (),
        category_name: str | None = None,
    ) -> Document:
        """A new document, version 1, for a file of `file_type` stored as `blob`; the title
        defaults to the file's name without its extension. `ValidationFailed` for a bad
        title, filename, level, department, metadata or source."""
        return cls(
            id=uuid4(),
            title=cls.title_for(title, filename),
            content=content,
            document_type=TYPE_OF_EXTENSION[file_type.extension],
            source=cls.clean_source(source),
            access_level=AccessLevel.parse(access_level),
            department=cls.clean_department(department),
            metadata=check_metadata(metadata),
            owner_id=owner_id,
            category_id=category_id,
            original_filename=safe_filename(filename),
            extension=file_type.extension,
            mime_type=file_type.mime_type,
            size_bytes=blob.size_bytes,
            sha256=blob.sha256,
            storage_key=blob.key,
            created_at=now,
            updated_at=now,
            tags=sorted(tags, key=str.encode),
            category_name=category_name if category_id is not None else None,
        )

    @property
    def in_trash(self) -> bool:
        return self.deleted_at is not None

    # Each transition leaves this document as it is and answers the next version (or this
    # document itself when there is nothing to change); the service writes it over this
    # version, so a concurrent change of the same version makes the write fail.

    def check_version(self, expected: int | None) -> None:
        """An If-Match precondition: `PreconditionFailed` unless this is version `expected`
        (None: no precondition)."""
        if expected is not None and expected != self.version:
            raise PreconditionFailed(f"the document is at version {self.version}, not {expected}")

    def check_changeable(self, expected_version: int | None = None) -> None:
        """`Conflict` for a document in the trash, then `check_version`."""
        if self.in_trash:
            raise Conflict("the document is in the trash; restore it first")
        self.check_version(expected_version)

    def change(
        self, changes: DocumentChanges, now: datetime, *, category_id: UUID | None = None
    ) -> tuple[Document, dict[str, Any]]:
        """The document with `changes` applied, and {field: new value} for the fields that
        really change (`category` becomes `category_id`: the id found for the category it
        names). `Conflict` in the trash; `ValidationFailed` as `DocumentChanges.normalized`."""
        self.check_changeable()
        changed = {
            name: value
            for name, value in changes.normalized(category_id).items()
            if getattr(self, name) != value
        }
        if not changed:
            return self, {}
        if "category_id" not in changed:
            return self._next(now, **changed), changed
        # The read model follows: the name the change found the category by.
        name = changes.values.get("category") if changed["category_id"] else None
        return self._next(now, **changed, category_name=name), changed

    def tags_after(
        self, names: Sequence[str], mode: Literal["replace", "add", "remove"]
    ) -> list[str]:
        """The tag names this document would have after replacing its tags with `names`,
        adding them, or removing them (names compare without case). `NotFound` when none of
        the names to remove is on the document."""
        current = {n.lower() for n in self.tags}
        if mode == "replace":
            return list(names)
        if mode == "add":
            return list(self.tags) + [n for n in names if n.lower() not in current]
        gone = {n.lower() for n in names}
        if not gone & current:
            raise NotFound("tag on document", names[0])
        return [n for n in self.tags if n.lower() not in gone]

    def retag(self, names: Sequence[str], now: datetime) -> Document:
        """The document tagged with exactly `names` (the tags' own spelling); this document
        itself when those are its tags already. `Conflict` in the trash."""
        self.check_changeable()
        new_names = sorted(names, key=str.encode)
        if sorted({n.lower() for n in names}) == sorted({n.lower() for n in self.tags}):
            return self
        return self._next(now, tags=new_names)

    def with_recognised_text(self, content: str, now: datetime) -> Document:
        """The document whose text is `content`, read from its own file by OCR (so in the
        trash too); this document itself when that is its text already."""
        if content == self.content:
            return self
        return self._next(now, content=content)

    def trash(self, now: datetime) -> Document:
        """The document moved to the trash; this document itself if it is there already."""
        if self.in_trash:
            return self
        return self._next(now, deleted_at=now)

    def restore(self, now: datetime) -> Document:
        """The document taken out of the trash. `Conflict` if it is not in the trash."""
        if not self.in_trash:
            raise Conflict("the document is not in the trash")
        return self._next(now, deleted_at=None)

    def _next(self, now: datetime, **changes: Any) -> Document:
        return replace(self, **changes, version=self.version + 1, updated_at=now)

    @staticmethod
    def clean_title(raw: str) -> str:
        return bounded_text(raw, "title", TITLE_MAX)

    @classmethod
    def title_for(cls, title: str | None, filename: str) -> str:
        """The title of a new document: `title`, or the file's name without its extension."""
        return cls.clean_title(title or filename.rsplit(".", 1)[0])

    @staticmethod
    def clean_source(raw: str | None) -> str:
        return bounded_text(raw or "", "source", SOURCE_MAX, allow_empty=True)

    @staticmethod
    def clean_department(raw: str | None) -> str | None:
        return optional_department(raw)


@dataclass(frozen=True, slots=True)
class DocumentChanges:
    """A partial update; only keys present in `values` change."""

    values: dict[str, Any] = field(default_factory=dict)

    def normalized(self, category_id: UUID | None = None) -> dict[str, Any]:
        """{document field: checked new value}, checked in the order sent: `ValidationFailed`
        for a key that cannot be changed, a bad value, or a `category` name for which no
        `category_id` was found (a null category clears it)."""
        out: dict[str, Any] = {}
        for key, value in self.values.items():
            if key == "title":
                out[key] = Document.clean_title(value)
            elif key == "access_level":
                out[key] = AccessLevel.parse(value)
            elif key == "department":
                out[key] = Document.clean_department(value)
            elif key == "metadata":
                out[key] = check_metadata(value)
            elif key == "source":
                out[key] = Document.clean_source(value)
            elif key == "category":
                out["category_id"] = category_found(value, category_id)
            else:
                raise ValidationFailed.on(key, "cannot be changed")
        return out


def category_found(name: str | None, category_id: UUID | None) -> UUID | None:
    """The id found for the category `name` (None for no name); `ValidationFailed` if a name
    was given but no category has it."""
    if name is not None and category_id is None:
        raise ValidationFailed.on("category", f"no category named {name!r}")
    return category_id if name is not None else None


@dataclass(eq=False, slots=True)
class Category:
    id: UUID
    name: str
    description: str
    is_active: bool
    created_at: datetime


@dataclass(eq=False, slots=True)
class Tag:
    id: UUID
    name: str
    color: str
    description: str
    is_active: bool
    created_at: datetime


@dataclass(eq=False, slots=True)
class FileType:
    extension: str
    mime_type: str
    is_allowed: bool
    max_size_bytes: int
    description: str


@dataclass(eq=False, slots=True)
class Permission:
    id: UUID
    user_id: UUID
    document_id: UUID
    access: Access
    granted_by: UUID | None
    granted_at: datetime


DEFAULT_FILE_TYPES: Final = (
    FileType("pdf", "application/pdf", True, DEFAULT_MAX_SIZE_BYTES, "PDF document"),
    FileType(
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        True,
        DEFAULT_MAX_SIZE_BYTES,
        "Word document",
    ),
    FileType("txt", "text/plain", True, DEFAULT_MAX_SIZE_BYTES, "Plain text"),
    FileType("md", "text/markdown", True, DEFAULT_MAX_SIZE_BYTES, "Markdown"),
)
