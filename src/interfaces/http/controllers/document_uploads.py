"""Documents, created: a file uploaded (multipart, read as it streams) or text sent as JSON
(SPEC.md §2.5, §3). What may be created, and how large, is the use case's to decide
(`DocumentUploads`); this layer asks it early, streams the body, and caps the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency
from litestar.exceptions import ClientException
from litestar.openapi.spec import (
    Encoding,
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)
from litestar.params import JSONBody

from application.context import Principal, RequestContext
from application.document_store import DocumentFields
from application.document_uploads import DocumentUploads
from application.upload_log import UploadLog
from domain.documents import (
    CATEGORY_NAME_MAX,
    MAX_TAGS,
    SOURCE_MAX,
    TAG_NAME_MAX,
    TITLE_MAX,
    DocumentType,
)
from domain.documents import Document as DomainDocument
from domain.uploads import UploadSource
from domain.values import DEPARTMENT_MAX
from interfaces.http.controllers.documents import with_etag
from interfaces.http.examples import UPLOADED_DOCUMENT, with_examples
from interfaces.http.openapi import FORM_VERSION, LINE_RULE, TAXONOMY_PATH
from interfaces.http.problems import problems
from interfaces.http.schemas.document_uploads import DocumentTextCreate
from interfaces.http.schemas.documents import Document
from interfaces.http.uploads import BODY_MAX_BYTES, received_upload

# JSON bodies of /documents/text: the text plus JSON escaping (an admin raising the txt limit
# beyond this uploads larger text files through POST /documents instead).
TEXT_BODY_MAX_BYTES = 64 * 1024 * 1024

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
                        type=_TEXT,
                        pattern=FORM_VERSION,
                        description="Default: the latest published version.",
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


class DocumentUploadController(Controller):
    path = "/documents"
    tags = ["documents"]

    @post(
        operation_id="uploadDocument",
        summary="Upload a file as a new document (multipart/form-data)",
        description="Stores a file as a new document, streamed: the file's extension picks its "
        "file type (415 for one not accepted) and its size limit (413 beyond it); the text is "
        "extracted, then a thumbnail (and OCR of scanned pages, when enabled) is made in the "
        "background. With curl: `curl -H 'Authorization: Bearer TOKEN' -F file=@invoice.pdf -F "
        "title='Invoice 2025-001' -F tags=finance -F tags=invoice -F 'metadata={\"year\": 2025}' "
        "http://HOST/api/v1/documents`. Members (up to their own access level, for their own "
        "department or none) and admins; 403 otherwise; 404 for an unknown category or taxonomy "
        "path; 409 when a document you can read holds the same bytes (unless "
        "`on_duplicate=allow`), naming it; 422 for an invalid field or a file whose content "
        "does not match its type. The response carries the ETag.",
        operation_class=with_examples(status=201, response=UPLOADED_DOCUMENT, base=UploadOperation),
        request_max_body_size=BODY_MAX_BYTES,
        status_code=201,
        responses=problems(400, 401, 403, 404, 409, 413, 415, 422),
    )
    async def upload_document(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[RequestContext],
        document_uploads: NamedDependency[DocumentUploads],
        upload_log: NamedDependency[UploadLog],
    ) -> Response[Document]:
        # Recorded whatever comes of it; a malformed multipart body (400) is a refusal too.
        refused = (ClientException,)
        async with (
            upload_log.attempt(ctx, UploadSource.HTTP, refused=refused) as trace,
            received_upload(request, ctx, document_uploads, trace) as upload,
        ):
            doc = trace.document = await document_uploads.upload_spooled(
                ctx, upload.spool, upload.fields
            )
        return _created(doc)

    @post(
        "/text",
        operation_id="createTextDocument",
        summary="Create a document from text (TXT or MARKDOWN)",
        description="Stores text sent as JSON as a new TXT or MARKDOWN document (no file upload "
        "needed). Members (up to their own access level, for their own department or none) and "
        "admins; 403 otherwise; 404 for an unknown category or taxonomy path; 409 when a "
        "document you can read holds the same text (unless `on_duplicate` is `allow`); 413 for "
        "text over the type's limit; 422 for an invalid field.",
        request_max_body_size=TEXT_BODY_MAX_BYTES,
        status_code=201,
        responses=problems(400, 401, 403, 404, 409, 413, 415, 422),
    )
    async def create_text_document(
        self,
        data: JSONBody[DocumentTextCreate],
        ctx: NamedDependency[RequestContext],
        document_uploads: NamedDependency[DocumentUploads],
        upload_log: NamedDependency[UploadLog],
    ) -> Response[Document]:
        async with upload_log.attempt(ctx, UploadSource.TEXT) as trace:
            trace.size_bytes = len(data.content.encode())
            doc = trace.document = await self._create_text(ctx, data, document_uploads)
        return _created(doc)

    @staticmethod
    async def _create_text(
        ctx: RequestContext, data: DocumentTextCreate, document_uploads: DocumentUploads
    ) -> DomainDocument:
        return await document_uploads.create_text(
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


def _created(doc: DomainDocument) -> Response[Document]:
    response = with_etag(doc, status_code=201)
    response.headers["Location"] = f"/api/v1/documents/{doc.id}"
    return response
