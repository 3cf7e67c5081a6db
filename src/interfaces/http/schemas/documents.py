"""Schemas of the document reading routes; `Document` is also what the upload and change
routes answer."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from domain.document_ports import DuplicateGroup as DomainDuplicateGroup
from domain.documents import Document as DomainDocument
from domain.processing import Processing as DomainProcessing
from domain.processing import needs_ocr
from domain.values import clip_json_value

DocumentTypeName = Literal["PDF", "DOCX", "TXT", "MARKDOWN"]
ProcessingStateName = Literal["pending", "done", "failed", "not_applicable"]


class Processing(BaseModel):
    """One kind of background work on a document ("thumbnail", "ocr")."""

    state: ProcessingStateName
    reason: str | None = Field(description="Why it failed (failed only), else null.")
    updated_at: datetime

    @classmethod
    def of(cls, p: DomainProcessing) -> Processing:
        return cls(state=p.state.value, reason=p.reason, updated_at=p.updated_at)


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
    category: str | None = Field(description="The category's name; null with no category.")
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
    processing: dict[str, Processing] | None = Field(
        default=None,
        description="Background work on the document by kind (thumbnail, ocr): in "
        "GET /documents/{id} and listings; null in the answers of uploads and changes.",
    )
    needs_ocr: bool | None = Field(
        default=None,
        description="The ocr kind is pending or failed: the text lacks what OCR would add. "
        "Null where `processing` is.",
    )

    @classmethod
    def of(
        cls,
        doc: DomainDocument,
        *,
        with_content: bool = True,
        processing: Mapping[str, DomainProcessing] | None = None,
    ) -> Document:
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
            category=doc.category_name if doc.category_id is not None else None,
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
            processing=(
                None
                if processing is None
                else {kind: Processing.of(p) for kind, p in sorted(processing.items())}
            ),
            needs_ocr=None if processing is None else needs_ocr(processing),
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
