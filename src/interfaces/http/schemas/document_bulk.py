"""Schemas of `POST /documents/bulk`: one action over documents named by id or selected by the
listing's filters, and a result per document."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Discriminator, Field, Tag

from application.document_bulk import MAX_DOCUMENTS, BulkAction, BulkEdit, BulkReport, Outcome
from domain.document_ports import DocumentFilter
from domain.documents import CATEGORY_NAME_MAX, MAX_TAGS, TAG_NAME_MAX, DocumentType
from domain.taxonomy import parse_path, parse_version
from domain.values import DEPARTMENT_MAX
from interfaces.http.openapi import LINE, TAXONOMY_PATH, VERSION, schema_only
from interfaces.http.schemas.common import Input
from interfaces.http.schemas.taxonomy import PATH_DOC


class BulkFilter(Input):
    """The filters of `GET /documents`, as JSON: the documents you may read that match all."""

    tag: list[str] = Field(
        default_factory=list,
        max_length=MAX_TAGS,
        description="Every tag must be on the document.",
        json_schema_extra=schema_only(LINE, max_length=TAG_NAME_MAX, items=True),
    )
    category: str | None = Field(
        default=None, max_length=CATEGORY_NAME_MAX, description="A category name."
    )
    document_type: DocumentType | None = None
    department: str | None = Field(default=None, max_length=DEPARTMENT_MAX)
    access_level: int | None = Field(default=None, ge=1, le=3)
    owner_id: UUID | None = None
    metadata: dict[str, Any] | None = Field(
        default=None, description="A JSON object the document's metadata must contain."
    )
    created_after: AwareDatetime | None = None
    created_before: AwareDatetime | None = None
    deleted: bool = Field(default=False, description="true: the trash.")
    taxonomy: str | None = Field(
        default=None,
        max_length=2100,
        description="A/B: classified at A/B or below.",
        json_schema_extra=schema_only(TAXONOMY_PATH),
    )
    taxonomy_version: str | None = Field(
        default=None,
        max_length=20,
        description="Default: the latest published version.",
        json_schema_extra=schema_only(VERSION),
    )

    def to_filter(self) -> DocumentFilter:
        return DocumentFilter(
            tags=tuple(self.tag),
            category=self.category,
            document_type=self.document_type,
            department=self.department,
            access_level=self.access_level,
            owner_id=self.owner_id,
            metadata=self.metadata,
            created_after=self.created_after,
            created_before=self.created_before,
            deleted=self.deleted,
            taxonomy_path=(
                parse_path(self.taxonomy, "taxonomy") if self.taxonomy is not None else None
            ),
            taxonomy_version=(
                parse_version(self.taxonomy_version) if self.taxonomy_version else None
            ),
        )


# --- what to do: one model per action, holding just the fields that action takes -----------


class BulkAddTags(Input):
    action: Literal[BulkAction.ADD_TAGS]
    tags: list[str] = Field(
        min_length=1,
        max_length=MAX_TAGS,
        description="Tag names; unknown ones are created.",
        json_schema_extra=schema_only(LINE, max_length=TAG_NAME_MAX, items=True),
    )

    def edit(self) -> BulkEdit:
        return BulkEdit(self.action, tags=tuple(self.tags))


class BulkRemoveTags(Input):
    action: Literal[BulkAction.REMOVE_TAGS]
    tags: list[str] = Field(
        min_length=1,
        max_length=MAX_TAGS,
        description="Tag names (any case); a document with none of them is unchanged.",
        json_schema_extra=schema_only(LINE, max_length=TAG_NAME_MAX, items=True),
    )

    def edit(self) -> BulkEdit:
        return BulkEdit(self.action, tags=tuple(self.tags))


class BulkSetCategory(Input):
    action: Literal[BulkAction.SET_CATEGORY]
    category: str | None = Field(
        max_length=CATEGORY_NAME_MAX, description="A category name; null: none."
    )

    def edit(self) -> BulkEdit:
        return BulkEdit(self.action, category=self.category)


class BulkTrash(Input):
    action: Literal[BulkAction.TRASH]

    def edit(self) -> BulkEdit:
        return BulkEdit(self.action)


class BulkRestore(Input):
    action: Literal[BulkAction.RESTORE]

    def edit(self) -> BulkEdit:
        return BulkEdit(self.action)


class BulkClassify(Input):
    action: Literal[BulkAction.CLASSIFY]
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
    confidence: float = Field(default=1.0, ge=0.0, le=1.0, allow_inf_nan=False)
    hitl_required: bool = False

    NOT_NULL: ClassVar[tuple[str, ...]] = ("version",)

    def edit(self) -> BulkEdit:
        return BulkEdit(
            self.action,
            path=self.path,
            version=self.version,
            confidence=self.confidence,
            hitl_required=self.hitl_required,
        )


def _action_of(value: Any) -> str | None:
    """Which model an edit is, by its `action` (a tagged union: a wrong field is reported
    against the action's own model, not against all six)."""
    action = value.get("action") if isinstance(value, dict) else getattr(value, "action", None)
    return str(action) if isinstance(action, str) else None


Edit = Annotated[
    Annotated[BulkAddTags, Tag(BulkAction.ADD_TAGS)]
    | Annotated[BulkRemoveTags, Tag(BulkAction.REMOVE_TAGS)]
    | Annotated[BulkSetCategory, Tag(BulkAction.SET_CATEGORY)]
    | Annotated[BulkTrash, Tag(BulkAction.TRASH)]
    | Annotated[BulkRestore, Tag(BulkAction.RESTORE)]
    | Annotated[BulkClassify, Tag(BulkAction.CLASSIFY)],
    Discriminator(_action_of),
]


# --- over which documents: named by id, or selected by a filter ----------------------------


class ByIds(Input):
    """Each of `ids`, in order (repeats count once)."""

    ids: list[UUID] = Field(min_length=1, max_length=MAX_DOCUMENTS)


class ByFilter(Input):
    """The documents you may read that `filter` selects, oldest first, 1,000 a request:
    `cursor` (the previous answer's `next_cursor`) carries on."""

    filter: BulkFilter
    cursor: str | None = Field(default=None, max_length=512)

    NOT_NULL: ClassVar[tuple[str, ...]] = ("cursor",)


def _selection_of(value: Any) -> str | None:
    if isinstance(value, dict):
        return "ids" if "ids" in value else "filter"
    return "ids" if isinstance(value, ByIds) else "filter"


Selection = Annotated[
    Annotated[ByIds, Tag("ids")] | Annotated[ByFilter, Tag("filter")],
    Discriminator(_selection_of),
]


class BulkEditRequest(Input):
    select: Selection
    edit: Edit


class BulkItem(BaseModel):
    id: UUID
    outcome: Outcome
    detail: str | None = Field(description="Why, when not changed.")
    version: int | None = Field(description="The document's version after the action.")


class BulkEditResponse(BaseModel):
    results: list[BulkItem] = Field(description="One per document, in the order sent.")
    counts: dict[Outcome, int] = Field(description="How many documents ended each way.")
    next_cursor: str | None = Field(
        description="With `filter`: more documents were selected; send this as `cursor`."
    )

    @classmethod
    def of(cls, report: BulkReport) -> BulkEditResponse:
        return cls(
            results=[
                BulkItem(id=r.id, outcome=r.outcome, detail=r.detail, version=r.version)
                for r in report.results
            ],
            counts={outcome: report.count(outcome) for outcome in Outcome},
            next_cursor=report.next_cursor,
        )
