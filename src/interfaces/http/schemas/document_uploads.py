"""Schemas of the document creation routes (the multipart upload's body is described in
`controllers/document_uploads.py`: it is read as it streams, not by a model)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from domain.documents import CATEGORY_NAME_MAX, MAX_TAGS, SOURCE_MAX, TAG_NAME_MAX, TITLE_MAX
from domain.values import DEPARTMENT_MAX
from interfaces.http.openapi import (
    LINE,
    OPTIONAL_LINE,
    TAXONOMY_PATH,
    VERSION,
    schema_only,
)
from interfaces.http.schemas.common import Input

OnDuplicate = Literal["reject", "allow"]


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
