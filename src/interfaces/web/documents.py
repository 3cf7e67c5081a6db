"""The documents list (issue #14): the viewer's documents as `GET /api/v1/documents` gives
them (the same filters, sorts and keyset paging, through `DocumentReads.list_documents`),
one action over the selected ones (`DocumentBulk.apply`, as `POST /documents/bulk`), and the
two pictures and files a page shows: a document's thumbnail and its download, each through
the use case the API's route calls, so a document the viewer may not read is the same 404
as one that does not exist. The document's own page is `documents_page`."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Final
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Stream, Template

from application.context import RequestContext
from application.document_bulk import BulkAction, BulkEdit, BulkReport, Outcome
from domain.errors import NotFound, ThumbnailNotReady, ValidationFailed
from domain.pagination import PageRequest
from infrastructure.container import Container
from interfaces.http.controllers.documents import content_disposition, none_match
from interfaces.web.documents_forms import split_tags
from interfaces.web.documents_listing import (
    LIMITS,
    LIST_PATH,
    N_,
    PROCESSING_LABELS,
    REVERSED,
    SORT_LABELS,
    Listing,
    Window,
    backward_window,
    forward_window,
    read_listing,
)
from interfaces.web.documents_page import DocumentPage
from interfaces.web.documents_views import People, ProcessingView, Row
from interfaces.web.form_support import (
    field_errors,
    services,
    status_of,
    use_case_context,
    viewer_of,
)
from interfaces.web.navigation import same_site_path
from interfaces.web.rendering import STATIC_DIR, page

PLACEHOLDER: Final = STATIC_DIR / "documents-placeholder.svg"
# What the list's redirect may say (`?done=`): the template words each.
LIST_NOTICES: Final = frozenset({"purged"})
BULK_ACTIONS: Final = {
    BulkAction.ADD_TAGS: N_("Add tags"),
    BulkAction.REMOVE_TAGS: N_("Remove tags"),
    BulkAction.SET_CATEGORY: N_("Set the category"),
    BulkAction.TRASH: N_("Move to the trash"),
    BulkAction.RESTORE: N_("Restore from the trash"),
}
OUTCOME_LABELS: Final = {
    Outcome.CHANGED: N_("Changed"),
    Outcome.UNCHANGED: N_("Already so, unchanged"),
    Outcome.NOT_FOUND: N_("Not found"),
    Outcome.FORBIDDEN: N_("Not allowed"),
    Outcome.CONFLICT: N_("In the trash or changed meanwhile"),
    Outcome.INVALID: N_("Not applicable"),
}


def _placeholder() -> bytes:
    return Path(PLACEHOLDER).read_bytes()


class DocumentsController(Controller):
    path = LIST_PATH
    include_in_schema = False

    @get()
    async def list_documents(self, request: Request[Any, Any, Any]) -> Template:
        """The documents the viewer may read (or their trash) that match the query."""
        query = request.query_params
        listing = read_listing({name: query.getall(name) for name in query})
        container, ctx = services(request), use_case_context(request)
        window = Window([], None, None)
        if listing.filters is not None:
            try:
                window = await _window(container, ctx, listing)
            except ValidationFailed as error:
                for name, message in field_errors(error).items():
                    listing.errors.setdefault("tag" if name == "tags" else name, message)
            except NotFound as error:  # no such taxonomy version, or none published
                field = "taxonomy_version" if listing.values.get("taxonomy_version") else "taxonomy"
                listing.errors[field] = error.message
        states = await container.document_processing().of(window.items)
        people = People(container, ctx, viewer_of(request))
        rows = [
            Row(doc, await people.of(doc.owner_id), ProcessingView.of(states.get(doc.id, {})))
            for doc in window.items
        ]
        done = request.query_params.get("done")
        return page(
            request,
            "documents/list.html",
            status=422 if listing.errors else 200,
            listing=listing,
            rows=rows,
            next_link=listing.link(cursor=window.next_cursor) if window.next_cursor else None,
            previous_link=listing.link(before=window.before) if window.before else None,
            paged=listing.cursor is not None or listing.before is not None,
            categories=[c.name for c in await container.catalog().categories()],
            sorts=SORT_LABELS,
            limits=LIMITS,
            processing_states=PROCESSING_LABELS,
            bulk_actions=_bulk_actions(listing),
            may_bulk=viewer_of(request).may_upload,
            here_query=request.url.query,
            done=done if done in LIST_NOTICES else None,
        )

    @post("/bulk", status_code=200)
    async def bulk(self, request: Request[Any, Any, Any]) -> Template:
        """One action over the selected documents; the page tells how each ended, counted."""
        form = await request.form()
        back = same_site_path(_text(form.get("back")))
        if back is None or not (back == LIST_PATH or back.startswith(f"{LIST_PATH}?")):
            back = LIST_PATH
        try:
            ids = _ids(form.getall("ids", []))
            edit = _edit(_text(form.get("action")), form)
            report = (
                await services(request).document_bulk().apply(use_case_context(request), edit, ids)
            )
        except ValidationFailed as error:
            return page(
                request,
                "documents/bulk_result.html",
                status=status_of(error),
                errors=field_errors(error),
                counts=[],
                back=back,
            )
        return page(
            request,
            "documents/bulk_result.html",
            errors={},
            counts=_counts(report),
            back=back,
        )

    @get("/{doc_id:uuid}/thumbnail")
    async def thumbnail(
        self, request: Request[Any, Any, Any], doc_id: FromPath[UUID]
    ) -> Response[bytes]:
        """The document's thumbnail (`DocumentThumbnails.get`), or a placeholder while it
        is not made."""
        try:
            made = (
                await services(request).document_thumbnails().get(use_case_context(request), doc_id)
            )
        except ThumbnailNotReady:
            picture = _placeholder()
            return Response(
                picture,
                media_type="image/svg+xml",
                headers={"Cache-Control": "no-store", "ETag": f'"{_sha256(picture)}"'},
            )
        headers = {"ETag": f'"{made.sha256}"', "Cache-Control": "private, no-cache"}
        if none_match(request.headers.get("if-none-match"), made.sha256):
            return Response(b"", status_code=304, headers=headers, media_type=made.media_type)
        return Response(made.data, headers=headers, media_type=made.media_type)

    @get("/{doc_id:uuid}/file")
    async def download(self, request: Request[Any, Any, Any], doc_id: FromPath[UUID]) -> Stream:
        """The original file, as an attachment (`DocumentReads.download`: records the
        download)."""
        found = await services(request).document_reads().download(use_case_context(request), doc_id)
        doc = found.document
        return Stream(
            found.chunks,
            media_type=doc.mime_type,
            headers={
                "Content-Disposition": content_disposition(doc.original_filename, doc.extension),
                "Content-Length": str(doc.size_bytes),
                "Cache-Control": "private, no-cache",
            },
        )


# The documents pages, as `web_router` registers them.
DOCUMENT_PAGES: Final = (DocumentsController, DocumentPage)


async def _window(container: Container, ctx: RequestContext, listing: Listing) -> Window:
    """The page `listing` asks for, read the way its cursor points."""
    assert listing.filters is not None
    reads = container.document_reads()
    if listing.before is not None:
        earlier = await reads.list_documents(
            ctx,
            listing.filters,
            REVERSED[listing.sort],
            PageRequest(listing.limit, listing.before),
        )
        if earlier.next_cursor is not None:
            return backward_window(listing, earlier.items, earlier.next_cursor)
        listing.before = None  # back at the start: the first page, full
    first = await reads.list_documents(
        ctx, listing.filters, listing.sort, PageRequest(listing.limit, listing.cursor)
    )
    return forward_window(listing, first.items, first.next_cursor)


def _bulk_actions(listing: Listing) -> dict[str, str]:
    """What may be done to documents in this view: the trash holds documents to restore."""
    if listing.trash:
        return {BulkAction.RESTORE.value: BULK_ACTIONS[BulkAction.RESTORE]}
    return {a.value: label for a, label in BULK_ACTIONS.items() if a is not BulkAction.RESTORE}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _ids(raw: list[Any]) -> list[UUID]:
    try:
        return [UUID(value) for value in raw if isinstance(value, str)]
    except ValueError:
        raise ValidationFailed.on("ids", "must be document ids") from None


def _edit(action: str | None, form: Any) -> BulkEdit:
    try:
        chosen = BulkAction(action or "")
    except ValueError:
        names = ", ".join(a.value for a in BULK_ACTIONS)
        raise ValidationFailed.on("action", f"must be one of {names}") from None
    if chosen not in BULK_ACTIONS:
        raise ValidationFailed.on("action", f"{chosen.value} is not offered here")
    if chosen in (BulkAction.ADD_TAGS, BulkAction.REMOVE_TAGS):
        return BulkEdit(chosen, tags=tuple(split_tags(_text(form.get("tags")))))
    if chosen is BulkAction.SET_CATEGORY:
        return BulkEdit(chosen, category=_text(form.get("category")) or None)
    return BulkEdit(chosen)


def _counts(report: BulkReport) -> list[tuple[str, int]]:
    return [(label, report.count(o)) for o, label in OUTCOME_LABELS.items() if report.count(o)]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
