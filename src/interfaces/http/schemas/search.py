"""Schemas of the search routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from domain.documents import TAG_NAME_MAX
from domain.search import FacetCount, HistoryEntry, SearchHit
from domain.search import Feedback as DomainFeedback
from domain.search import SearchAnalytics as DomainAnalytics
from domain.search import SearchFacets as DomainFacets
from domain.values import clip_json_value
from interfaces.http.openapi import (
    LINE,
    NON_BLANK_TEXT,
    OPTIONAL_LINE,
    TAXONOMY_PATH,
    VERSION,
    schema_only,
)
from interfaces.http.schemas.common import Input
from interfaces.http.schemas.documents import DocumentTypeName


class SearchFiltersIn(Input):
    tags: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="All must match.",
        json_schema_extra=schema_only(LINE, max_length=TAG_NAME_MAX, items=True),
    )
    category: str | None = Field(default=None, max_length=100)
    document_type: DocumentTypeName | None = None
    department: str | None = Field(default=None, max_length=50)
    metadata: dict[str, Any] | None = Field(default=None, description="JSON containment.")
    taxonomy: str | None = Field(
        default=None,
        max_length=2100,
        description="A/B: the subtree.",
        json_schema_extra=schema_only(TAXONOMY_PATH),
    )
    taxonomy_version: str | None = Field(
        default=None, max_length=20, json_schema_extra=schema_only(VERSION)
    )
    created_after: datetime | None = None
    created_before: datetime | None = None


class SearchRequest(Input):
    query: str = Field(
        max_length=1000,
        json_schema_extra=schema_only(NON_BLANK_TEXT),
        description="A question or words: documents holding any of its words, ranked by how "
        'many and how rare (BM25). Operators: "a phrase" and a OR b must match, -word must '
        "not; bare words then only rank. The last word also matches as a prefix.",
    )
    filters: SearchFiltersIn | None = None
    limit: int = Field(default=10, ge=1, le=50)
    session_id: str | None = Field(
        default=None, max_length=100, json_schema_extra=schema_only(LINE)
    )
    cursor: str | None = Field(
        default=None,
        max_length=4096,
        description="A previous page's `next_cursor`, with the same query and filters.",
        json_schema_extra=schema_only(LINE),
    )
    facets: bool = Field(
        default=False, description="Count the whole result set by type, category, tag, department."
    )


class SearchResultItem(BaseModel):
    document_id: UUID
    title: str
    document_type: DocumentTypeName
    score: float
    snippet: str = Field(description="HTML-escaped text; matches wrapped in <mark>.")

    @classmethod
    def of(cls, hit: SearchHit) -> SearchResultItem:
        return cls(
            document_id=hit.document_id,
            title=hit.title,
            document_type=hit.document_type,
            score=hit.score,
            snippet=hit.snippet,
        )


class FacetCountOut(BaseModel):
    value: str | None = Field(description="null: no category, or no department.")
    count: int


class SearchFacetsOut(BaseModel):
    document_type: list[FacetCountOut]
    category: list[FacetCountOut]
    tag: list[FacetCountOut]
    department: list[FacetCountOut]

    @classmethod
    def of(cls, facets: DomainFacets | None) -> SearchFacetsOut | None:
        if facets is None:
            return None

        def out(counts: tuple[FacetCount, ...]) -> list[FacetCountOut]:
            return [FacetCountOut(value=c.value, count=c.count) for c in counts]

        return cls(
            document_type=out(facets.document_type),
            category=out(facets.category),
            tag=out(facets.tag),
            department=out(facets.department),
        )


class SearchResponse(BaseModel):
    query_id: UUID
    answer: str = Field(
        description="The best snippet of the top hit, as text; empty if none (and on later pages)."
    )
    results: list[SearchResultItem]
    response_time_ms: int
    total: int = Field(
        default=0, description="How many hits the search ranked (at most 2,000), all pages."
    )
    next_cursor: str | None = Field(
        default=None, description="Send as `cursor` for the next page; null on the last."
    )
    facets: SearchFacetsOut | None = Field(
        default=None, description="Counts over every ranked hit, when `facets` was asked."
    )
    relaxed: bool = Field(
        default=False,
        description=(
            "True when the query's quoted phrases or OR alternatives matched nothing and the "
            "results are for its words instead (exclusions still hold)."
        ),
    )


class SimilarResponse(BaseModel):
    results: list[SearchResultItem]
    total: int = Field(description="How many documents were ranked.")


class FeedbackIn(Input):
    rating: int = Field(ge=1, le=5)
    comment: str | None = Field(
        default=None, max_length=2000, json_schema_extra=schema_only(OPTIONAL_LINE)
    )


class Feedback(BaseModel):
    id: UUID
    query_id: UUID
    rating: int
    comment: str | None
    timestamp: datetime

    @classmethod
    def of(cls, f: DomainFeedback) -> Feedback:
        return cls(
            id=f.id, query_id=f.query_id, rating=f.rating, comment=f.comment, timestamp=f.timestamp
        )


class SearchHistoryItem(BaseModel):
    query_id: UUID
    user_id: UUID
    query: str
    session_id: str | None
    filters: dict[str, Any]
    timestamp: datetime
    answer: str | None
    result_count: int | None
    response_time_ms: int | None
    sources: list[dict[str, Any]]
    rating: int | None

    @classmethod
    def of(cls, entry: HistoryEntry) -> SearchHistoryItem:
        q, r, f = entry.query, entry.response, entry.feedback
        return cls(
            query_id=q.id,
            user_id=q.user_id,
            query=q.query,
            session_id=q.session_id,
            filters=clip_json_value(q.filters),
            timestamp=q.timestamp,
            answer=r.answer if r else None,
            result_count=r.result_count if r else None,
            response_time_ms=r.response_time_ms if r else None,
            sources=clip_json_value(r.sources) if r else [],
            rating=f.rating if f else None,
        )


class CountedText(BaseModel):
    query: str
    count: int


class DayCount(BaseModel):
    day: str
    count: int


class SearchAnalytics(BaseModel):
    days: int
    total_queries: int
    queries_per_day: list[DayCount]
    top_queries: list[CountedText]
    zero_result_queries: list[CountedText]
    average_rating: float | None
    rating_histogram: dict[str, int]
    p50_response_ms: float | None
    p95_response_ms: float | None

    @classmethod
    def of(cls, a: DomainAnalytics) -> SearchAnalytics:
        return cls(
            days=a.days,
            total_queries=a.total_queries,
            queries_per_day=[DayCount(day=d, count=n) for d, n in a.queries_per_day],
            top_queries=[CountedText(query=q, count=n) for q, n in a.top_queries],
            zero_result_queries=[CountedText(query=q, count=n) for q, n in a.zero_result_queries],
            average_rating=a.average_rating,
            rating_histogram={str(k): v for k, v in a.rating_histogram.items()},
            p50_response_ms=a.p50_response_ms,
            p95_response_ms=a.p95_response_ms,
        )
