"""Schemas of the upload records route."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel

from domain.uploads import UploadRecord as DomainUploadRecord
from domain.uploads import UploadSource, UploadStatus


class UploadRecord(BaseModel):
    id: UUID
    source: UploadSource
    user_id: UUID | None
    client_ip: str | None
    user_agent: str | None
    filename: str | None
    size_bytes: int | None
    sha256: str | None
    status: UploadStatus
    error_code: str | None
    started_at: datetime
    completed_at: datetime
    document_id: UUID | None

    @classmethod
    def of(cls, record: DomainUploadRecord) -> UploadRecord:
        return cls(
            id=record.id,
            source=record.source,
            user_id=record.user_id,
            client_ip=record.client_ip,
            user_agent=record.user_agent,
            filename=record.filename,
            size_bytes=record.size_bytes,
            sha256=record.sha256,
            status=record.status,
            error_code=record.error_code,
            started_at=record.started_at,
            completed_at=record.completed_at,
            document_id=record.document_id,
        )
