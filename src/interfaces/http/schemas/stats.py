"""Schemas of the stats route."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class Figures(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class CategoryFigures(Figures):
    category_id: UUID
    category: str
    document_count: int
    total_size_bytes: int
    average_size_bytes: int
    last_upload_at: datetime | None


class DayFigure(Figures):
    day: date
    count: int


class UploadOutcomesFigure(Figures):
    day: date
    attempts: int
    stored: int
    duplicate: int
    rejected: int
    failed: int
    failure_rate: float = Field(description="(rejected + failed) / attempts; 0 without any.")


class TagFigure(Figures):
    tag_id: UUID
    name: str
    document_count: int


class DocumentFigure(Figures):
    document_id: UUID
    title: str
    count: int


class Stats(Figures):
    categories: list[CategoryFigures]
    uploads_per_day: list[DayFigure]
    upload_outcomes_per_day: list[UploadOutcomesFigure]
    popular_tags: list[TagFigure]
    most_viewed: list[DocumentFigure]
    most_downloaded: list[DocumentFigure]
