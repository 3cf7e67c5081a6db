"""Documents, read: list, get, download, duplicates and a document's audit trail (SPEC.md §3).
Creating them is `document_uploads`, changing them `document_changes`.

Who may do what is decided by the use cases: a document the caller cannot read is a 404 on
every route (its existence does not leak).

Conditional requests:
- `GET /documents/{id}` carries `ETag: W/"<version>"`, which the change routes take in
  `If-Match` (`document_changes`).
- `GET /documents/{id}/file` carries the strong `ETag: "<sha256>"` and answers 304 to a
  matching `If-None-Match`. A 304 still records `document.downloaded`: the audit trail says who
  fetched a document's file and when, and a revalidation is such a fetch (the caller proved
  read access and was told their copy is current) — only the bytes were not resent.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterator, Mapping
from typing import Annotated
from urllib.parse import quote
from uuid import UUID

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, HeaderParameter, Parameter
from litestar.response import Stream

from application.context import RequestContext
from application.document_reads import DocumentReads
from application.document_reads import Download as DownloadResult
from application.processing import DocumentProcessing
from domain.document_ports import TITLE_QUERY_MAX, DocumentFilter, DocumentSort
from domain.documents import CATEGORY_NAME_MAX, TAG_NAME_MAX, DocumentType
from domain.documents import Document as DomainDocument
from domain.errors import ValidationFailed
from domain.pagination import MAX_LIMIT, PageRequest
from domain.processing import Processing, ProcessingFilter
from domain.taxonomy import parse_path, parse_version
from domain.values import DEPARTMENT_MAX
from interfaces.http.examples import DOCUMENT_LIST, with_examples
from interfaces.http.instants import DATE_TIME_OR_DATE, instant_or_day
from interfaces.http.openapi import LINE_RULE, TAXONOMY_PATH, VERSION_PARAMETER, schema_only
from interfaces.http.problems import problems
from interfaces.http.schemas.common import ListOf, json_object
from interfaces.http.schemas.documents import Document, DuplicateGroup
from interfaces.http.schemas.events import Event

METADATA_QUERY_MAX = 8192
# `processing=`: a state, or a kind and a state (`domain.processing.ProcessingFilter`).
PROCESSING_PATTERN = r"^(?:[a-z][a-z0-9_.-]{0,49}:)?(?:pending|done|failed|not_applicable)$"

_STRONG_TAG = re.compile(r'^(?:W/)?"([^"]*)"$')
# `document_type=`: a type's name in any case ("pdf", "Pdf"), as a JSON Schema pattern can say
# it (no case-insensitive flag there).
DOCUMENT_TYPE_PATTERN = "^(?:{})$".format(
    "|".join(
        "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in t.value)
        for t in DocumentType
    )
)


def document_type_of(raw: str | None) -> DocumentType | None:
    """The document type `raw` names in any case; a 422 on `document_type` otherwise."""
    if raw is None:
        return None
    try:
        if not raw.isascii():
            raise ValueError(raw)
        return DocumentType(raw.upper())
    except ValueError:
        names = ", ".join(t.value for t in DocumentType)
        raise ValidationFailed.on("document_type", f"must be one of {names}") from None


# --- conditional requests ---------------------------------------------------------------------


def version_etag(version: int) -> str:
    return f'W/"{version}"'


def none_match(if_none_match: str | None, tag: str) -> bool:
    """Whether `If-None-Match` names `tag` (weak comparison, RFC 9110 §13.1.2)."""
    if if_none_match is None:
        return False
    for candidate in if_none_match.split(","):
        value = candidate.strip()
        if value == "*":
            return True
        found = _STRONG_TAG.match(value)
        if found is not None and found.group(1) == tag:
            return True
    return False


def with_etag(
    doc: DomainDocument,
    status_code: int = 200,
    processing: Mapping[str, Processing] | None = None,
) -> Response[Document]:
    return Response(
        Document.of(doc, processing=processing),
        status_code=status_code,
        headers={"ETag": version_etag(doc.version)},
    )


# --- downloads --------------------------------------------------------------------------------


def content_disposition(filename: str, extension: str) -> str:
    """`attachment` with the UTF-8 name (RFC 6266 / RFC 8187 `filename*`) and an ASCII
    fallback for clients that do not read `filename*`."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    fallback = "".join(
        ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in ascii_name
    ).strip()
    if not fallback.strip("._ ") or fallback.startswith("."):
        fallback = f"document.{extension}"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def _close(chunks: AsyncIterator[bytes]) -> None:
    aclose = getattr(chunks, "aclose", None)
    if aclose is not None:
        await aclose()


async def _nothing() -> AsyncIterator[bytes]:
    empty: tuple[bytes, ...] = ()
    for chunk in empty:
        yield chunk


def _file_response(download: DownloadResult, if_none_match: str | None) -> Stream:
    doc = download.document
    headers = {"ETag": f'"{doc.sha256}"', "Cache-Control": "private, no-cache"}
    if none_match(if_none_match, doc.sha256):
        return Stream(_nothing(), status_code=304, headers=headers, media_type=doc.mime_type)
    headers["Content-Disposition"] = content_disposition(doc.original_filename, doc.extension)
    headers["Content-Length"] = str(doc.size_bytes)
    return Stream(download.chunks, headers=headers, media_type=doc.mime_type)


class DocumentController(Controller):
    path = "/documents"
    tags = ["documents"]

    @get(
        operation_id="listDocuments",
        summary="Documents you can read, filtered; deleted=true lists your trash",
        description="The documents you can read, newest first (or by `sort`), filtered by type, "
        "tag, category, department, access level, owner, metadata containment, taxonomy "
        "subtree, creation time or background processing state, paged by `cursor` (the "
        "previous page's `next_cursor`). The items leave the text out (GET /documents/{id} "
        "has it). `deleted=true` lists your trash instead. Any user; 400 or 422 for a "
        "malformed filter or cursor.",
        operation_class=with_examples(status=200, response=DOCUMENT_LIST),
        responses=problems(400, 401, 404, 422),  # 404: an unknown taxonomy version
    )
    async def list_documents(
        self,
        ctx: NamedDependency[RequestContext],
        document_reads: NamedDependency[DocumentReads],
        document_processing: NamedDependency[DocumentProcessing],
        tag: list[str] | None = Parameter(
            default=None,
            description="Repeatable; every tag must be on the document.",
            # Each value is stripped, then holds 1-50 characters and no control character.
            schema_extra=schema_only(
                LINE_RULE.pattern(non_blank=True, max_length=TAG_NAME_MAX), items=True
            ),
        ),
        category: str | None = Parameter(
            default=None, max_length=CATEGORY_NAME_MAX, description="A category name."
        ),
        document_type: str | None = Parameter(
            default=None,
            description="PDF, DOCX, TXT or MARKDOWN, in any case (pdf, Pdf).",
            schema_extra=schema_only(DOCUMENT_TYPE_PATTERN),
        ),
        department: str | None = Parameter(default=None, max_length=DEPARTMENT_MAX),
        access_level: int | None = Parameter(default=None, ge=1, le=3),
        owner_id: FromQuery[UUID | None] = None,
        metadata: str | None = Parameter(
            default=None,
            max_length=METADATA_QUERY_MAX,
            description="A JSON object the document's metadata must contain.",
            schema_extra={"content_media_type": "application/json"},
        ),
        created_after: str | None = Parameter(
            default=None,
            description="Created at or after (inclusive): an RFC 3339 date-time, or a date "
            "(2026-01-31: the start of that day, UTC).",
            schema_extra=DATE_TIME_OR_DATE,
        ),
        created_before: str | None = Parameter(
            default=None,
            description="Created before (exclusive): an RFC 3339 date-time, or a date "
            "(2026-01-31: the start of that day, UTC, so the 31st itself is left out).",
            schema_extra=DATE_TIME_OR_DATE,
        ),
        q: str | None = Parameter(
            default=None,
            max_length=TITLE_QUERY_MAX,
            description="A part of the title, in any case (`%` and `_` are plain "
            "characters); the file name is not searched. Empty: no filter.",
        ),
        deleted: bool = Parameter(default=False, description="true: the trash."),
        taxonomy: str | None = Parameter(
            default=None,
            max_length=2100,
            description="A/B: classified at A/B or below.",
            schema_extra=schema_only(TAXONOMY_PATH),
        ),
        taxonomy_version: str | None = Parameter(
            default=None,
            max_length=20,
            description="Default: the latest published version.",
            schema_extra=schema_only(VERSION_PARAMETER),
        ),
        processing: str | None = Parameter(
            default=None,
            max_length=80,
            description="<state> or <kind>:<state> (failed, thumbnail:failed): documents "
            "with a kind of background work (any kind, or that one) in that state; state "
            "one of pending, done, failed, not_applicable.",
            schema_extra=schema_only(PROCESSING_PATTERN),
        ),
        needs_ocr: bool | None = Parameter(
            default=None,
            description="true: OCR is pending or failed; false: it is neither.",
        ),
        sort: DocumentSort = Parameter(
            default=DocumentSort.CREATED_DESC,
            description="created_at, title or size_bytes; a leading `-` for descending "
            "(-created_at, newest first, is the default). Titles sort in byte order.",
        ),
        limit: int = Parameter(default=50, ge=1, le=MAX_LIMIT),
        cursor: str | None = Parameter(default=None, max_length=512),
    ) -> ListOf[Document]:
        filters = DocumentFilter(
            tags=tuple(tag or ()),
            category=category,
            document_type=document_type_of(document_type),
            department=department,
            access_level=access_level,
            owner_id=owner_id,
            metadata=json_object(metadata, "metadata"),
            created_after=instant_or_day(created_after, "created_after"),
            created_before=instant_or_day(created_before, "created_before"),
            deleted=deleted,
            taxonomy_path=parse_path(taxonomy, "taxonomy") if taxonomy is not None else None,
            # Checked whether or not `taxonomy` is given (the schema states one rule); an
            # empty value is as good as none.
            taxonomy_version=parse_version(taxonomy_version) if taxonomy_version else None,
            processing=ProcessingFilter.parse(processing) if processing is not None else None,
            needs_ocr=needs_ocr,
            title_contains=(q.strip() or None) if q is not None else None,
        )
        page = await document_reads.list_documents(ctx, filters, sort, PageRequest(limit, cursor))
        states = await document_processing.of(page.items)  # one query for the page
        return ListOf[Document](
            items=[
                Document.of(d, with_content=False, processing=states.get(d.id, {}))
                for d in page.items
            ],
            next_cursor=page.next_cursor,
        )

    @get(
        "/duplicates",
        operation_id="listDuplicateDocuments",
        summary="Groups of documents you can read that hold the same bytes",
        description="Groups of documents you can read that hold the same bytes (same SHA-256). "
        "Any user.",
        responses=problems(400, 401, 422),
    )
    async def list_duplicates(
        self,
        ctx: NamedDependency[RequestContext],
        document_reads: NamedDependency[DocumentReads],
        limit: int = Parameter(default=50, ge=1, le=MAX_LIMIT),
    ) -> ListOf[DuplicateGroup]:
        groups = await document_reads.duplicates(ctx, limit)
        return ListOf[DuplicateGroup](items=[DuplicateGroup.of(g) for g in groups])

    @get(
        "/{doc_id:uuid}",
        operation_id="getDocument",
        summary="One document with its text; records a view",
        description="One document with its extracted text and processing state; records a "
        "`document.viewed` event. The response carries the ETag (send it as `If-Match` to "
        "change the document). Anyone who can read it; 404 otherwise (a document you may not "
        "read is not revealed).",
        responses=problems(400, 401, 404),
    )
    async def get_document(
        self,
        doc_id: FromPath[UUID],
        ctx: NamedDependency[RequestContext],
        document_reads: NamedDependency[DocumentReads],
        document_processing: NamedDependency[DocumentProcessing],
    ) -> Response[Document]:
        found = await document_reads.get(ctx, doc_id)
        states = await document_processing.of([found.document])
        return with_etag(found.document, processing=states.get(doc_id, {}))

    @get(
        "/{doc_id:uuid}/file",
        operation_id="downloadDocument",
        summary="The original file, streamed; records a download (a 304 too)",
        description="The original file, streamed with its media type and file name; records a "
        "`document.downloaded` event (a 304 to `If-None-Match` too). Anyone who can read it; "
        "404 otherwise.",
        responses={
            # The stored file's own media type (application/pdf, text/plain, ...).
            200: ResponseSpec(data_container=bytes, description="The file", media_type="*/*"),
            304: ResponseSpec(
                data_container=None, description="Not Modified: If-None-Match named the ETag"
            ),
            **problems(400, 401, 404),
        },
    )
    async def download_document(
        self,
        doc_id: FromPath[UUID],
        ctx: NamedDependency[RequestContext],
        document_reads: NamedDependency[DocumentReads],
        if_none_match: Annotated[
            str | None,
            HeaderParameter(
                name="If-None-Match",
                required=False,
                description='The file\'s ETag, "<sha256>": 304 when it still matches.',
            ),
        ] = None,
    ) -> Stream:
        download = await document_reads.download(ctx, doc_id)
        response = _file_response(download, if_none_match)
        if response.status_code == 304:
            await _close(download.chunks)
        return response

    @get(
        "/{doc_id:uuid}/events",
        operation_id="listDocumentEvents",
        summary="The audit trail of a document you can read, newest first",
        description=(
            "`client_ip` and `user_agent` are shown to administrators and the document's "
            "owner; for other readers they are null."
        ),
        responses=problems(400, 401, 404, 422),
    )
    async def list_document_events(
        self,
        doc_id: FromPath[UUID],
        ctx: NamedDependency[RequestContext],
        document_reads: NamedDependency[DocumentReads],
        limit: int = Parameter(default=50, ge=1, le=MAX_LIMIT),
        cursor: str | None = Parameter(default=None, max_length=512),
    ) -> ListOf[Event]:
        page = await document_reads.events(ctx, doc_id, PageRequest(limit, cursor))
        return ListOf[Event](items=[Event.of(e) for e in page.items], next_cursor=page.next_cursor)
