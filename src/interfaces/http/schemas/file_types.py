"""Schemas of the file types routes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from application.catalog import MAX_UPLOAD_LIMIT
from domain.documents import DESCRIPTION_MAX
from domain.documents import FileType as DomainFileType
from interfaces.http.openapi import MEDIA_TYPE, OPTIONAL_LINE, schema_only
from interfaces.http.schemas.common import Input


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
