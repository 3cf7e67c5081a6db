"""Schemas of the taxonomy routes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from domain.taxonomy import Classification as DomainClassification
from domain.taxonomy import TaxonomyNode as DomainNode
from domain.taxonomy import TaxonomyVersion as DomainVersion
from domain.taxonomy import format_path
from interfaces.http.openapi import TAXONOMY_PATH, VERSION, schema_only
from interfaces.http.schemas.common import Input

PATH_DOC = "Labels joined by '/', e.g. AI/RAG."


class TaxonomyCreate(Input):
    version: str = Field(
        min_length=1, max_length=20, examples=["1.0.0"], json_schema_extra=schema_only(VERSION)
    )
    copy_from: str | None = Field(
        default=None, max_length=20, json_schema_extra=schema_only(VERSION)
    )


class Taxonomy(BaseModel):
    version: str
    status: Literal["draft", "published"]
    created_at: datetime
    published_at: datetime | None

    @classmethod
    def of(cls, v: DomainVersion) -> Taxonomy:
        return cls(
            version=v.version,
            status=v.status.value,
            created_at=v.created_at,
            published_at=v.published_at,
        )


class TaxonomyNodeCreate(Input):
    path: str = Field(
        min_length=1,
        max_length=2100,
        description=PATH_DOC,
        json_schema_extra=schema_only(TAXONOMY_PATH),
    )


class TaxonomyNode(BaseModel):
    node_id: UUID
    version: str
    label: str
    path: str
    canonical_path: list[str]
    parent_id: UUID | None
    created_at: datetime

    @classmethod
    def of(cls, n: DomainNode) -> TaxonomyNode:
        return cls(
            node_id=n.node_id,
            version=n.version,
            label=n.label,
            path=format_path(n.canonical_path),
            canonical_path=list(n.canonical_path),
            parent_id=n.parent_id,
            created_at=n.created_at,
        )


class ClassificationCreate(Input):
    path: str = Field(
        min_length=1,
        max_length=2100,
        description=PATH_DOC,
        json_schema_extra=schema_only(TAXONOMY_PATH),
    )
    version: str | None = Field(
        default=None,
        max_length=20,
        description="Default: latest published.",
        json_schema_extra=schema_only(VERSION),
    )
    confidence: float = Field(ge=0.0, le=1.0, allow_inf_nan=False)
    hitl_required: bool = False


class Classification(BaseModel):
    doc_id: UUID
    node_id: UUID
    version: str
    path: str
    canonical_path: list[str]
    confidence: float
    hitl_required: bool
    reviewed_by: UUID | None
    reviewed_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, c: DomainClassification) -> Classification:
        return cls(
            doc_id=c.doc_id,
            node_id=c.node_id,
            version=c.version,
            path=format_path(c.path),
            canonical_path=list(c.path),
            confidence=c.confidence,
            hitl_required=c.hitl_required,
            reviewed_by=c.reviewed_by,
            reviewed_at=c.reviewed_at,
            created_at=c.created_at,
        )
