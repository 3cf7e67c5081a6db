"""Documents: upload, read, download, list, change, tag, trash and purge (SPEC.md §3).

Who may do what is decided by the use cases: a document the caller cannot read is a 404 on
every route (its existence does not leak); one they can read but not change is a 403.

Conditional requests:
- `GET /documents/{id}` carries `ETag: W/"<version>"`; PATCH, DELETE, restore and the tag
  routes honour `If-Match` with that tag (`"<version>"` and `*` are accepted too). A tag of a
  version that is not current is 412; an `If-Match` that is not one such tag is 400 — a
  malformed header is a bad request, not a failed precondition (lists of tags are refused).
- `GET /documents/{id}/file` carries the strong `ETag: "<sha256>"` and answers 304 to a
  matching `If-None-Match`. A 304 still records `document.downloaded`: the audit trail says who
  fetched a document's file and when, and a revalidation is such a fetch (the caller proved
  read access and was told their copy is current) — only the bytes were not resent.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.exceptions import ClientException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    Encoding,
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, Parameter
from litestar.response import Stream

from application.context import Principal, RequestContext
from application.document_lifecycle import DocumentLifecycle
from application.document_reads import DocumentReads
from application.document_reads import Download as DownloadResult
from application.document_uploads import DocumentFields, DocumentUploads
from domain.document_ports import DocumentFilter, DocumentSort
from domain.documents import (
    CATEGORY_NAME_MAX,
    MAX_TAGS,
    SOURCE_MAX,
    TAG_NAME_MAX,
    TITLE_MAX,
    DocumentChanges,
    DocumentType,
)
from domain.documents import Document as DomainDocument
from domain.errors import ValidationFailed
from domain.pagination import MAX_LIMIT, PageRequest
from domain.taxonomy import parse_path, parse_version
from domain.values import DEPARTMENT_MAX
from interfaces.http.document_schemas import (
    Document,
    DocumentTags,
    DocumentTextCreate,
    DocumentUpdate,
    DuplicateGroup,
    Event,
    json_object,
)
from interfaces.http.instants import DATE_TIME, rfc3339
from interfaces.http.openapi import (
    LINE,
    LINE_RULE,
    TAXONOMY_PATH,
    VERSION_PARAMETER,
    schema_only,
)
from interfaces.http.problems import problems
from interfaces.http.schemas import ListOf
from interfaces.http.uploads import BODY_MAX_BYTES, received_upload

# JSON bodies of /documents/text: the text plus JSON escaping (an admin raising the txt limit
# beyond this uploads larger text files through POST /documents instead).
TEXT_BODY_MAX_BYTES = 64 * 1024 * 1024
METADATA_QUERY_MAX = 8192

_IF_MATCH = re.compile(r'^(?:W/)?"(\d{1,18})"$')
_STRONG_TAG = re.compile(r'^(?:W/)?"([^"]*)"$')

_IF_MATCH_HEADER = HeaderParameter(
    name="If-Match",
    required=False,
    description='The document\'s ETag, W/"<version>": the change applies only to that version.',
    # Stated for clients (and `make fuzz`), enforced by expected_version() with a 400.
    schema_extra={"pattern": r'^[ \t]*((\*|(W/)?"[0-9]{1,18}")[ \t]*)?$'},
)


# --- conditional requests ---------------------------------------------------------------------


def version_etag(version: int) -> str:
    return f'W/"{version}"'


def expected_version(if_match: str | None) -> int | None:
    """The version an `If-Match` header asks for; None when absent, empty (an empty list of
    tags, RFC 9110 §5.6.1) or `*`."""
    if if_match is None or if_match.strip() in {"", "*"}:
        return None
    found = _IF_MATCH.match(if_match.strip())
    if found is None:
        raise ClientException(
            'If-Match must be one entity tag of this document, W/"<version>" as in its ETag'
        )
    return int(found.group(1))


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


def with_etag(doc: DomainDocument, status_code: int = 200) -> Response[Document]:
    return Response(
        Document.of(doc),
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


# --- the multipart body, for the OpenAPI document ---------------------------------------------

_TEXT = OpenAPIType.STRING
UPLOAD_BODY = RequestBody(
    required=True,
    description="The file and its fields. Read as it streams in: an extension that is not "
    "accepted is refused (415) before the file's bytes are read, and a file over its type's "
    "limit (see GET /file-types) as soon as the limit is passed (413).",
    content={
        "multipart/form-data": OpenAPIMediaType(
            # The metadata field holds JSON text (a JSON object).
            encoding={"metadata": Encoding(content_type="application/json")},
            schema=Schema(
                type=OpenAPIType.OBJECT,
                required=["file"],
                additional_properties=False,  # an unknown field is refused (422)
                properties={
                    "file": Schema(
                        type=_TEXT,
                        format=OpenAPIFormat.BINARY,
                        description="The file; its name's extension picks the file type.",
                    ),
                    "title": Schema(
                        type=_TEXT,
                        pattern=LINE_RULE.pattern(non_blank=False, max_length=TITLE_MAX),
                        description="Default: the file name.",
                    ),
                    "access_level": Schema(
                        type=OpenAPIType.INTEGER, minimum=1, maximum=3, default=1
                    ),
                    "department": Schema(
                        type=_TEXT,
                        pattern=LINE_RULE.pattern(non_blank=False, max_length=DEPARTMENT_MAX),
                    ),
                    "category": Schema(
                        type=_TEXT, max_length=CATEGORY_NAME_MAX, description="A category name."
                    ),
                    "tags": Schema(
                        type=OpenAPIType.ARRAY,
                        items=Schema(
                            type=_TEXT,
                            pattern=LINE_RULE.pattern(non_blank=True, max_length=TAG_NAME_MAX),
                        ),
                        max_items=MAX_TAGS,
                        description="Repeat the field for several tags; unknown ones are created.",
                    ),
                    "metadata": Schema(type=OpenAPIType.OBJECT, description="A JSON object."),
                    "source": Schema(
                        type=_TEXT,
                        pattern=LINE_RULE.pattern(non_blank=False, max_length=SOURCE_MAX),
                    ),
                    "on_duplicate": Schema(
                        type=_TEXT,
                        enum=["reject", "allow"],
                        default="reject",
                        description="reject: 409 naming a readable document with the same bytes.",
                    ),
                    "taxonomy_path": Schema(
                        type=_TEXT,
                        pattern=TAXONOMY_PATH,
                        description="Classify at upload: A/B/C (taxonomy path).",
                    ),
                    "taxonomy_version": Schema(
                        type=_TEXT, description="Default: the latest published version."
                    ),
                },
            ),
        )
    },
)


@dataclass
class UploadOperation(Operation):
    """The upload handler reads the body itself (streaming), so Litestar cannot infer it."""

    def __post_init__(self) -> None:
        self.request_body = UPLOAD_BODY


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValidationFailed.on(name, "needs a time zone offset (RFC 3339)")
    return value


class DocumentController(Controller):
    path = "/documents"
    tags = ["documents"]

    # --- creating ---------------------------------------------------------------------------

    @post(
        operation_id="uploadDocument",
        summary="Upload a file as a new document (multipart/form-data)",
        operation_class=UploadOperation,
        request_max_body_size=BODY_MAX_BYTES,
        status_code=201,
        responses=problems(400, 401, 403, 404, 409, 413, 415, 422),
    )
    async def upload_document(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[RequestContext],
        document_uploads: NamedDependency[DocumentUploads],
    ) -> Response[Document]:
        async with received_upload(request, request.user.user, document_uploads) as upload:
            doc = await document_uploads.upload(
                ctx, upload.filename, upload.chunks(), upload.fields
            )
        return _created(doc)

    @post(
        "/text",
        operation_id="createTextDocument",
        summary="Create a document from text (TXT or MARKDOWN)",
        request_max_body_size=TEXT_BODY_MAX_BYTES,
        status_code=201,
        responses=problems(400, 401, 403, 404, 409, 413, 415, 422),
    )
    async def create_text_document(
        self,
        data: JSONBody[DocumentTextCreate],
        ctx: NamedDependency[RequestContext],
        document_uploads: NamedDependency[DocumentUploads],
    ) -> Response[Document]:
        doc = await document_uploads.create_text(
            ctx,
            data.content,
            DocumentType(data.document_type),
            DocumentFields(
                title=data.title,
                access_level=data.access_level,
                department=data.department,
                category=data.category,
                tags=tuple(data.tags),
                metadata=data.metadata,
                source=data.source,
                on_duplicate=data.on_duplicate,
                taxonomy_path=data.taxonomy_path,
                taxonomy_version=data.taxonomy_version,
            ),
        )
        return _created(doc)

    # --- reading ----------------------------------------------------------------------------

    @get(
        operation_id="listDocuments",
        summary="Documents you can read, filtered; deleted=true lists your trash",
        responses=problems(400, 401, 404, 422),  # 404: an unknown taxonomy version
    )
    async def list_documents(
        self,
        ctx: NamedDependency[RequestContext],
        document_reads: NamedDependency[DocumentReads],
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
        document_type: FromQuery[DocumentType | None] = None,
        department: str | None = Parameter(default=None, max_length=DEPARTMENT_MAX),
        access_level: int | None = Parameter(default=None, ge=1, le=3),
        owner_id: FromQuery[UUID | None] = None,
        metadata: str | None = Parameter(
            default=None,
            max_length=METADATA_QUERY_MAX,
            description="A JSON object the document's metadata must contain.",
            schema_extra={"content_media_type": "application/json"},
        ),
        created_after: str | None = Parameter(default=None, schema_extra=DATE_TIME),
        created_before: str | None = Parameter(default=None, schema_extra=DATE_TIME),
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
        sort: FromQuery[DocumentSort] = DocumentSort.CREATED_DESC,
        limit: int = Parameter(default=50, ge=1, le=MAX_LIMIT),
        cursor: str | None = Parameter(default=None, max_length=512),
    ) -> ListOf[Document]:
        filters = DocumentFilter(
            tags=tuple(tag or ()),
            category=category,
            document_type=document_type,
            department=department,
            access_level=access_level,
            owner_id=owner_id,
            metadata=json_object(metadata, "metadata"),
            created_after=_aware(rfc3339(created_after, "created_after"), "created_after"),
            created_before=_aware(rfc3339(created_before, "created_before"), "created_before"),
            deleted=deleted,
            taxonomy_path=parse_path(taxonomy, "taxonomy") if taxonomy is not None else None,
            # Checked whether or not `taxonomy` is given (the schema states one rule); an
            # empty value is as good as none.
            taxonomy_version=parse_version(taxonomy_version) if taxonomy_version else None,
        )
        page = await document_reads.list_documents(ctx, filters, sort, PageRequest(limit, cursor))
        return ListOf[Document](
            items=[Document.of(d, with_content=False) for d in page.items],
            next_cursor=page.next_cursor,
        )

    @get(
        "/duplicates",
        operation_id="listDuplicateDocuments",
        summary="Groups of documents you can read that hold the same bytes",
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
        responses=problems(400, 401, 404),
    )
    async def get_document(
        self,
        doc_id: FromPath[UUID],
        ctx: NamedDependency[RequestContext],
        document_reads: NamedDependency[DocumentReads],
    ) -> Response[Document]:
        found = await document_reads.get(ctx, doc_id)
        return with_etag(found.document)

    @get(
        "/{doc_id:uuid}/file",
        operation_id="downloadDocument",
        summary="The original file, streamed; records a download (a 304 too)",
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

    # --- changing ---------------------------------------------------------------------------

    @patch(
        "/{doc_id:uuid}",
        operation_id="updateDocument",
        summary="Change title, access level, department, category, metadata or source",
        responses=problems(400, 401, 403, 404, 409, 412, 422),
    )
    async def update_document(
        self,
        doc_id: FromPath[UUID],
        data: JSONBody[DocumentUpdate],
        ctx: NamedDependency[RequestContext],
        document_lifecycle: NamedDependency[DocumentLifecycle],
        if_match: Annotated[str | None, _IF_MATCH_HEADER] = None,
    ) -> Response[Document]:
        version = expected_version(if_match)
        doc = await document_lifecycle.update(
            ctx, doc_id, DocumentChanges(data.changes()), expected_version=version
        )
        return with_etag(doc)

    @delete(
        "/{doc_id:uuid}",
        operation_id="deleteDocument",
        summary="Move to the trash; ?purge=true deletes for good (owner or admin)",
        responses=problems(400, 401, 403, 404, 409, 412, 422),
    )
    async def delete_document(
        self,
        doc_id: FromPath[UUID],
        ctx: NamedDependency[RequestContext],
        document_lifecycle: NamedDependency[DocumentLifecycle],
        purge: bool = Parameter(default=False, description="Delete for good, not to the trash."),
        if_match: Annotated[str | None, _IF_MATCH_HEADER] = None,
    ) -> None:
        version = expected_version(if_match)
        if purge:
            await document_lifecycle.purge(ctx, doc_id, expected_version=version)
        else:
            await document_lifecycle.delete(ctx, doc_id, expected_version=version)

    @post(
        "/{doc_id:uuid}/restore",
        operation_id="restoreDocument",
        summary="Take a document out of the trash",
        status_code=200,
        responses=problems(400, 401, 403, 404, 409, 412),
    )
    async def restore_document(
        self,
        doc_id: FromPath[UUID],
        ctx: NamedDependency[RequestContext],
        document_lifecycle: NamedDependency[DocumentLifecycle],
        if_match: Annotated[str | None, _IF_MATCH_HEADER] = None,
    ) -> Response[Document]:
        version = expected_version(if_match)
        return with_etag(await document_lifecycle.restore(ctx, doc_id, expected_version=version))

    # --- tags on a document -----------------------------------------------------------------

    @put(
        "/{doc_id:uuid}/tags",
        operation_id="replaceDocumentTags",
        summary="Replace a document's tags (unknown names are created)",
        responses=problems(400, 401, 403, 404, 409, 412, 422),
    )
    async def replace_tags(
        self,
        doc_id: FromPath[UUID],
        data: JSONBody[DocumentTags],
        ctx: NamedDependency[RequestContext],
        document_lifecycle: NamedDependency[DocumentLifecycle],
        if_match: Annotated[str | None, _IF_MATCH_HEADER] = None,
    ) -> Response[Document]:
        version = expected_version(if_match)
        doc = await document_lifecycle.replace_tags(
            ctx, doc_id, data.tags, expected_version=version
        )
        return with_etag(doc)

    @post(
        "/{doc_id:uuid}/tags",
        operation_id="addDocumentTags",
        summary="Add tags to a document (unknown names are created)",
        status_code=200,
        responses=problems(400, 401, 403, 404, 409, 412, 422),
    )
    async def add_tags(
        self,
        doc_id: FromPath[UUID],
        data: JSONBody[DocumentTags],
        ctx: NamedDependency[RequestContext],
        document_lifecycle: NamedDependency[DocumentLifecycle],
        if_match: Annotated[str | None, _IF_MATCH_HEADER] = None,
    ) -> Response[Document]:
        version = expected_version(if_match)
        doc = await document_lifecycle.add_tags(ctx, doc_id, data.tags, expected_version=version)
        return with_etag(doc)

    @delete(
        "/{doc_id:uuid}/tags/{name:str}",
        operation_id="removeDocumentTag",
        summary="Take a tag off a document",
        responses=problems(400, 401, 403, 404, 409, 412, 422),
    )
    async def remove_tag(
        self,
        doc_id: FromPath[UUID],
        ctx: NamedDependency[RequestContext],
        document_lifecycle: NamedDependency[DocumentLifecycle],
        name: str = Parameter(
            max_length=TAG_NAME_MAX,
            description="The tag's name, any case.",
            schema_extra=schema_only(LINE),
        ),
        if_match: Annotated[str | None, _IF_MATCH_HEADER] = None,
    ) -> None:
        version = expected_version(if_match)
        await document_lifecycle.remove_tag(ctx, doc_id, name, expected_version=version)


def _created(doc: DomainDocument) -> Response[Document]:
    response = with_etag(doc, status_code=201)
    response.headers["Location"] = f"/api/v1/documents/{doc.id}"
    return response
