"""Schemas of the document change routes (change, tag)."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from domain.documents import CATEGORY_NAME_MAX, MAX_TAGS, SOURCE_MAX, TAG_NAME_MAX, TITLE_MAX
from domain.values import DEPARTMENT_MAX
from interfaces.http.openapi import LINE, OPTIONAL_LINE, schema_only
from interfaces.http.schemas.common import Input, refuse_nulls


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
        return refuse_nulls(sent, self.NOT_NULL)


class DocumentTags(Input):
    tags: list[str] = Field(
        max_length=MAX_TAGS,
        description="Tag names; unknown ones are created.",
        json_schema_extra=schema_only(LINE, max_length=TAG_NAME_MAX, items=True),
    )
