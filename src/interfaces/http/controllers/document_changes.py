"""Documents, changed: fields, tags, the trash and purge (SPEC.md §3).

Who may do what is decided by the use cases: a document the caller cannot read is a 404 on
every route (its existence does not leak); one they can read but not change is a 403.

Every route honours `If-Match` with the `ETag` of `GET /documents/{id}`, `W/"<version>"`
(`"<version>"` and `*` are accepted too). A tag of a version that is not current is 412; an
`If-Match` that is not one such tag is 400 — a malformed header is a bad request, not a failed
precondition (lists of tags are refused).
"""

from __future__ import annotations

import re
from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, delete, patch, post, put
from litestar.di import NamedDependency
from litestar.exceptions import ClientException
from litestar.params import FromPath, HeaderParameter, JSONBody, Parameter

from application.context import RequestContext
from application.document_lifecycle import DocumentLifecycle
from domain.documents import TAG_NAME_MAX, DocumentChanges
from interfaces.http.controllers.documents import with_etag
from interfaces.http.openapi import LINE, schema_only
from interfaces.http.problems import problems
from interfaces.http.schemas.document_changes import DocumentTags, DocumentUpdate
from interfaces.http.schemas.documents import Document

_IF_MATCH = re.compile(r'^(?:W/)?"(\d{1,18})"$')

_IF_MATCH_HEADER = HeaderParameter(
    name="If-Match",
    required=False,
    description='The document\'s ETag, W/"<version>": the change applies only to that version.',
    # Stated for clients (and `make fuzz`), enforced by expected_version() with a 400.
    schema_extra={"pattern": r'^[ \t]*((\*|(W/)?"[0-9]{1,18}")[ \t]*)?$'},
)


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


class DocumentChangeController(Controller):
    path = "/documents"
    tags = ["documents"]

    @patch(
        "/{doc_id:uuid}",
        operation_id="updateDocument",
        summary="Change title, access level, department, category, metadata or source",
        description="Changes the fields sent: title, access level, department, category, "
        "metadata, source. Send `If-Match` with the document's ETag to apply the change only to "
        "that version (412 otherwise). Callers with write rights (the level and department "
        "also need the right to reclassify): 404 for a document you cannot read, 403 without "
        "the rights; 409 for a document in the trash; 422 for an invalid field. The response "
        "carries the new ETag.",
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
        description="Moves a document to the trash (its owner may restore it); `purge=true` "
        "deletes it for good, with its file once no other document holds the same bytes. "
        "Callers with delete rights; purging is for its owner and admins. 404 for a document "
        "you cannot read, 403 without the rights; 409 when trashing a document already in the "
        "trash; 412 for a stale `If-Match`.",
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
        description="Takes a document out of the trash. Callers with delete rights: 404 for a "
        "document you cannot read, 403 without the rights; 409 when it is not in the trash; 412 "
        "for a stale `If-Match`.",
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

    @put(
        "/{doc_id:uuid}/tags",
        operation_id="replaceDocumentTags",
        summary="Replace a document's tags (unknown names are created)",
        description="Replaces a document's tags with the names sent (unknown names become new "
        "tags). Callers with write rights: 404 for a document you cannot read, 403 without "
        "them; 409 for a document in the trash; 412 for a stale `If-Match`; 422 for an invalid "
        "name or too many tags.",
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
        description="Adds the names sent to a document's tags (unknown names become new tags; "
        "ones it has are ignored). Callers with write rights: 404 for a document you cannot "
        "read, 403 without them; 409 for a document in the trash; 412 for a stale `If-Match`; "
        "422 for an invalid name or too many tags.",
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
        description="Takes the tag `name` (any case) off a document. Callers with write rights: "
        "404 for a document you cannot read or a tag it does not carry, 403 without the "
        "rights; 409 for a document in the trash; 412 for a stale `If-Match`.",
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
