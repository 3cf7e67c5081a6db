"""Schemas of the document reading routes; `Document` is also what the upload and change
routes answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from domain.document_ports import DuplicateGroup as DomainDuplicateGroup
from domain.documents import Document as DomainDocument
from domain.values import clip_json_value

DocumentTypeName = Literal["PDF", "DOCX", "TXT", "MARKDOWN"]


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


class DuplicateGroup(BaseModel):
    sha256: str
    documents: list[Document]

    @classmethod
    def of(cls, group: DomainDuplicateGroup) -> DuplicateGroup:
        return cls(
            sha256=group.sha256,
            documents=[Document.of(d, with_content=False) for d in group.documents],
        )
