"""Pydantic schemas of the documents area: `XCreate` / `XUpdate` / `XPut` in, `X` out."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from application.catalog import MAX_UPLOAD_LIMIT
from domain.document_ports import DuplicateGroup as DomainDuplicateGroup
from domain.documents import (
    CATEGORY_NAME_MAX,
    MAX_TAGS,
    SOURCE_MAX,
    TAG_NAME_MAX,
    TITLE_MAX,
)
from domain.documents import Category as DomainCategory
from domain.documents import Document as DomainDocument
from domain.documents import FileType as DomainFileType
from domain.documents import Permission as DomainPermission
from domain.documents import Tag as DomainTag
from domain.errors import ValidationFailed
from domain.events import Event as DomainEvent
from domain.values import DEPARTMENT_MAX, clip_json_value
from interfaces.http.openapi import (
    COLOR,
    LINE,
    MEDIA_TYPE,
    OPTIONAL_LINE,
    TAXONOMY_PATH,
    VERSION,
    schema_only,
)
from interfaces.http.schemas import Input

DocumentTypeName = Literal["PDF", "DOCX", "TXT", "MARKDOWN"]
AccessName = Literal["read", "write", "delete"]
OnDuplicate = Literal["reject", "allow"]
DESCRIPTION_MAX = 2000


def json_object(raw: str | None, field_name: str) -> dict[str, Any] | None:
    """A JSON object sent as text (a multipart field, a query parameter); None if absent."""
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, dict):
        raise ValidationFailed.on(field_name, "must be a JSON object (sent as text)")
    return value


def _refuse_nulls(sent: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    for name in names:
        if name in sent and sent[name] is None:
            raise ValidationFailed.on(name, "must not be null")
    return sent


# --- documents --------------------------------------------------------------------------------


class Document(BaseModel):
    id: UUID
    title: str
    document_type: DocumentTypeName
    source: str
    access_level: int
    department: str | None
    metadata: dict[str, Any] | None
    owner_id: UUID
    category_id: UUID | None
    tags: list[str]
    original_filename: str
    extension: str
    mime_type: str
    size_bytes: int
    sha256: str
    version: int
    deleted_at: datetime | None
    created_at: datetime
    updated_at: datetime
    content: str | None = Field(
        default=None,
        description="The extracted text: in single-document answers, null in listings.",
    )

    @classmethod
    def of(cls, doc: DomainDocument, *, with_content: bool = True) -> Document:
        return cls(
            id=doc.id,
            title=doc.title,
            document_type=doc.document_type.value,
            source=doc.source,
            access_level=int(doc.access_level),
            department=doc.department,
            metadata=clip_json_value(doc.metadata),
            owner_id=doc.owner_id,
            category_id=doc.category_id,
            tags=list(doc.tags),
            original_filename=doc.original_filename,
            extension=doc.extension,
            mime_type=doc.mime_type,
            size_bytes=doc.size_bytes,
            sha256=doc.sha256,
            version=doc.version,
            deleted_at=doc.deleted_at,
            created_at=doc.created_at,
            updated_at=doc.updated_at,
            content=doc.content if with_content else None,
        )


class DocumentTextCreate(Input):
    """A document whose file is this text, stored as UTF-8 (`.txt` or `.md`)."""

    title: str = Field(min_length=1, max_length=TITLE_MAX, json_schema_extra=schema_only(LINE))
    content: str = Field(min_length=1, description="The text; the txt/md upload limit applies.")
    document_type: Literal["TXT", "MARKDOWN"] = "TXT"
    access_level: int = Field(default=1, ge=1, le=3)
    department: str | None = Field(
        default=None, max_length=DEPARTMENT_MAX, json_schema_extra=schema_only(OPTIONAL_LINE)
    )
    category: str | None = Field(default=None, max_length=CATEGORY_NAME_MAX)
    tags: list[str] = Field(
        default_factory=list,
        max_length=MAX_TAGS,
        json_schema_extra=schema_only(LINE, max_length=TAG_NAME_MAX, items=True),
    )
    metadata: dict[str, Any] | None = None
    source: str | None = Field(
        default=None, max_length=SOURCE_MAX, json_schema_extra=schema_only(OPTIONAL_LINE)
    )
    on_duplicate: OnDuplicate = "reject"
    taxonomy_path: str | None = Field(
        default=None,
        max_length=2100,
        description="Classify at creation: A/B/C.",
        json_schema_extra=schema_only(TAXONOMY_PATH),
    )
    taxonomy_version: str | None = Field(
        default=None,
        max_length=20,
        description="Default: the latest published version.",
        json_schema_extra=schema_only(VERSION),
    )


class DocumentUpdate(Input):
    """Every field optional; only those sent change. `department`, `category` and `metadata`
    may be null (clearing them)."""

    title: str | None = Field(
        default=None, min_length=1, max_length=TITLE_MAX, json_schema_extra=schema_only(LINE)
    )
    access_level: int | None = Field(default=None, ge=1, le=3)
    department: str | None = Field(
        default=None, max_length=DEPARTMENT_MAX, json_schema_extra=schema_only(OPTIONAL_LINE)
    )
    category: str | None = Field(
        default=None, max_length=CATEGORY_NAME_MAX, description="A category name."
    )
    metadata: dict[str, Any] | None = None
    source: str | None = Field(
        default=None, max_length=SOURCE_MAX, json_schema_extra=schema_only(OPTIONAL_LINE)
    )

    # Fields that may be left out but not sent as null (the schema says so too).
    NOT_NULL: ClassVar[tuple[str, ...]] = ("title", "access_level", "source")

    def changes(self) -> dict[str, Any]:
        sent = self.model_dump(include=self.model_fields_set)
        return _refuse_nulls(sent, self.NOT_NULL)


class DocumentTags(Input):
    tags: list[str] = Field(
        max_length=MAX_TAGS,
        description="Tag names; unknown ones are created.",
        json_schema_extra=schema_only(LINE, max_length=TAG_NAME_MAX, items=True),
    )


class DuplicateGroup(BaseModel):
    sha256: str
    documents: list[Document]

    @classmethod
    def of(cls, group: DomainDuplicateGroup) -> DuplicateGroup:
        return cls(
            sha256=group.sha256,
            documents=[Document.of(d, with_content=False) for d in group.documents],
        )


# --- tags and categories ----------------------------------------------------------------------


class Tag(BaseModel):
    id: UUID
    name: str
    color: str
    description: str
    is_active: bool
    created_at: datetime
    document_count: int | None = Field(
        default=None,
        description="With ?sort=popular: how many live documents you can read carry it.",
    )

    @classmethod
    def of(cls, tag: DomainTag, document_count: int | None = None) -> Tag:
        return cls(
            id=tag.id,
            name=tag.name,
            color=tag.color,
            description=tag.description,
            is_active=tag.is_active,
            created_at=tag.created_at,
            document_count=document_count,
        )


class TagCreate(Input):
    name: str = Field(min_length=1, max_length=TAG_NAME_MAX, json_schema_extra=schema_only(LINE))
    color: str | None = Field(
        default=None,
        description="#RRGGBB; default #007bff.",
        json_schema_extra=schema_only(COLOR),
    )
    description: str | None = Field(
        default=None, max_length=DESCRIPTION_MAX, json_schema_extra=schema_only(OPTIONAL_LINE)
    )


class TagUpdate(Input):
    name: str | None = Field(
        default=None, min_length=1, max_length=TAG_NAME_MAX, json_schema_extra=schema_only(LINE)
    )
    color: str | None = Field(default=None, json_schema_extra=schema_only(COLOR))
    description: str | None = Field(
        default=None, max_length=DESCRIPTION_MAX, json_schema_extra=schema_only(OPTIONAL_LINE)
    )
    is_active: bool | None = None

    # Fields that may be left out but not sent as null (the schema says so too).
    NOT_NULL: ClassVar[tuple[str, ...]] = ("name", "color", "is_active")

    def changes(self) -> dict[str, Any]:
        sent = self.model_dump(include=self.model_fields_set)
        return _refuse_nulls(sent, self.NOT_NULL)


class Category(BaseModel):
    id: UUID
    name: str
    description: str
    is_active: bool
    created_at: datetime

    @classmethod
    def of(cls, category: DomainCategory) -> Category:
        return cls(
            id=category.id,
            name=category.name,
            description=category.description,
            is_active=category.is_active,
            created_at=category.created_at,
        )


class CategoryCreate(Input):
    name: str = Field(
        min_length=1, max_length=CATEGORY_NAME_MAX, json_schema_extra=schema_only(LINE)
    )
    description: str | None = Field(
        default=None, max_length=DESCRIPTION_MAX, json_schema_extra=schema_only(OPTIONAL_LINE)
    )


class CategoryUpdate(Input):
    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=CATEGORY_NAME_MAX,
        json_schema_extra=schema_only(LINE),
    )
    description: str | None = Field(
        default=None, max_length=DESCRIPTION_MAX, json_schema_extra=schema_only(OPTIONAL_LINE)
    )
    is_active: bool | None = None

    # Fields that may be left out but not sent as null (the schema says so too).
    NOT_NULL: ClassVar[tuple[str, ...]] = ("name", "is_active")

    def changes(self) -> dict[str, Any]:
        sent = self.model_dump(include=self.model_fields_set)
        return _refuse_nulls(sent, self.NOT_NULL)


# --- grants -----------------------------------------------------------------------------------


class Permission(BaseModel):
    id: UUID
    user_id: UUID
    document_id: UUID
    access: AccessName
    granted_by: UUID | None
    granted_at: datetime

    @classmethod
    def of(cls, permission: DomainPermission) -> Permission:
        return cls(
            id=permission.id,
            user_id=permission.user_id,
            document_id=permission.document_id,
            access=permission.access.label,
            granted_by=permission.granted_by,
            granted_at=permission.granted_at,
        )


class PermissionPut(Input):
    access: AccessName = Field(description="Ordered: delete implies write, write implies read.")


# --- file types -------------------------------------------------------------------------------


class FileType(BaseModel):
    extension: str
    mime_type: str
    is_allowed: bool
    max_size_bytes: int
    description: str

    @classmethod
    def of(cls, file_type: DomainFileType) -> FileType:
        return cls(
            extension=file_type.extension,
            mime_type=file_type.mime_type,
            is_allowed=file_type.is_allowed,
            max_size_bytes=file_type.max_size_bytes,
            description=file_type.description,
        )


class FileTypePut(Input):
    mime_type: str = Field(min_length=1, max_length=100, json_schema_extra=schema_only(MEDIA_TYPE))
    is_allowed: bool = True
    max_size_bytes: int = Field(
        ge=1,
        description="Uploads above this size get 413.",
        json_schema_extra={"maximum": MAX_UPLOAD_LIMIT},  # enforced by the use case
    )
    description: str | None = Field(
        default=None, max_length=DESCRIPTION_MAX, json_schema_extra=schema_only(OPTIONAL_LINE)
    )


# --- events -----------------------------------------------------------------------------------


class Event(BaseModel):
    id: int
    occurred_at: datetime
    actor_id: UUID | None
    action: str
    subject_type: str
    subject_id: str
    client_ip: str | None
    user_agent: str | None
    data: dict[str, Any]

    @classmethod
    def of(cls, event: DomainEvent) -> Event:
        return cls(
            id=event.id or 0,
            occurred_at=event.occurred_at,
            actor_id=event.actor_id,
            action=event.action,
            subject_type=event.subject_type,
            subject_id=event.subject_id,
            client_ip=event.client_ip,
            user_agent=event.user_agent,
            data=clip_json_value(event.data),
        )
