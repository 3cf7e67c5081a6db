"""Schemas of the tags routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, Field

from domain.documents import DESCRIPTION_MAX, TAG_NAME_MAX
from domain.documents import Tag as DomainTag
from interfaces.http.openapi import COLOR, LINE, OPTIONAL_LINE, schema_only
from interfaces.http.schemas.common import Input, refuse_nulls


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
        return refuse_nulls(sent, self.NOT_NULL)
