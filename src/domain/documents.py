"""Documents and what hangs off them: categories, tags, file types and grants."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final
from uuid import UUID, uuid4

from domain.errors import ValidationFailed
from domain.values import (
    JSON_MAX_BYTES,
    AccessLevel,
    bounded_text,
    check_json_value,
    optional_department,
)

TITLE_MAX: Final = 500
SOURCE_MAX: Final = 500
FILENAME_MAX: Final = 255
CATEGORY_NAME_MAX: Final = 100
TAG_NAME_MAX: Final = 50
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

    @property
    def in_trash(self) -> bool:
        return self.deleted_at is not None

    @staticmethod
    def new_id() -> UUID:
        return uuid4()

    @staticmethod
    def clean_title(raw: str) -> str:
        return bounded_text(raw, "title", TITLE_MAX)

    @staticmethod
    def clean_source(raw: str | None) -> str:
        return bounded_text(raw or "", "source", SOURCE_MAX, allow_empty=True)

    @staticmethod
    def clean_department(raw: str | None) -> str | None:
        return optional_department(raw)


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
