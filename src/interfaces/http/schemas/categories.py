"""Schemas of the categories routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, Field

from domain.documents import CATEGORY_NAME_MAX, DESCRIPTION_MAX
from domain.documents import Category as DomainCategory
from interfaces.http.openapi import LINE, OPTIONAL_LINE, schema_only
from interfaces.http.schemas.common import Input, refuse_nulls


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
        return refuse_nulls(sent, self.NOT_NULL)
