"""`GET /documents/{id}/thumbnail` (issue #12 item 2): the document's thumbnail (WebP, at most
400 px wide) under the document's own rule: 404 `not_found` when you cannot read the document,
404 `thumbnail_not_ready` while it is not made. The picture of a document never changes under
its ETag (its SHA-256); `no-cache` makes a browser ask again each time (a 304 when unchanged),
so a reader whose access ended sees it no more."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, HeaderParameter

from application.context import RequestContext
from application.document_thumbnails import DocumentThumbnails
from interfaces.http.controllers.documents import none_match
from interfaces.http.problems import problems


class DocumentThumbnailController(Controller):
    path = "/documents"
    tags = ["documents"]

    @get(
        "/{doc_id:uuid}/thumbnail",
        operation_id="getDocumentThumbnail",
        summary="The document's thumbnail (WebP); 404 thumbnail_not_ready until it is made",
        description="The document's thumbnail (WebP, at most 400 pixels wide): the first page "
        "of a PDF, a card of the text otherwise. Made in the background after the upload: 404 "
        "`thumbnail_not_ready` until then (see the document's `processing`). Anyone who can "
        "read the document (404 otherwise); `If-None-Match` with its ETag gives 304.",
        responses={
            200: ResponseSpec(
                data_container=bytes, description="The thumbnail", media_type="image/webp"
            ),
            304: ResponseSpec(
                data_container=None, description="Not Modified: If-None-Match named the ETag"
            ),
            **problems(400, 401, 404),
        },
    )
    async def get_document_thumbnail(
        self,
        doc_id: FromPath[UUID],
        ctx: NamedDependency[RequestContext],
        document_thumbnails: NamedDependency[DocumentThumbnails],
        if_none_match: Annotated[
            str | None,
            HeaderParameter(
                name="If-None-Match",
                required=False,
                description='The thumbnail\'s ETag, "<sha256>": 304 when it still matches.',
            ),
        ] = None,
    ) -> Response[bytes]:
        thumbnail = await document_thumbnails.get(ctx, doc_id)
        headers = {"ETag": f'"{thumbnail.sha256}"', "Cache-Control": "private, no-cache"}
        if none_match(if_none_match, thumbnail.sha256):
            return Response(b"", status_code=304, headers=headers, media_type=thumbnail.media_type)
        return Response(thumbnail.data, headers=headers, media_type=thumbnail.media_type)
