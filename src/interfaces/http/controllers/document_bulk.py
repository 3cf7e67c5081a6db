"""`POST /documents/bulk` (SPEC.md §3, ingestion): one action over many documents.

Each document is decided as its single route would decide it, and answered in `results`
instead of failing the request: `not_found` for one the caller cannot read (its existence
does not leak), `forbidden` for one they can read but not change, `conflict` for one in the
trash or changed meanwhile. The request itself is refused (422, or 404 with suggestions for
an unknown taxonomy path) only when the action could apply to no document.
"""

from __future__ import annotations

from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from application.context import RequestContext
from application.document_bulk import DocumentBulk
from interfaces.http.problems import problems
from interfaces.http.schemas.document_bulk import BulkEditRequest, BulkEditResponse, ByFilter


class DocumentBulkController(Controller):
    path = "/documents"
    tags = ["documents"]

    @post(
        "/bulk",
        operation_id="bulkEditDocuments",
        summary="Add or remove tags, set the category, trash, restore or classify many documents",
        description="`edit` over the documents `select` names by `ids` (at most 1,000) or "
        "selects by `filter` among those you may read (1,000 a request, oldest first; "
        "`next_cursor` carries on). Done in units of work of 100 documents, with an event "
        "for each document changed.",
        status_code=200,
        responses=problems(400, 401, 404, 422),
    )
    async def bulk_edit(
        self,
        data: JSONBody[BulkEditRequest],
        ctx: NamedDependency[RequestContext],
        document_bulk: NamedDependency[DocumentBulk],
    ) -> BulkEditResponse:
        edit, select = data.edit.edit(), data.select
        if isinstance(select, ByFilter):
            filters = select.filter.to_filter()
            report = await document_bulk.apply_to_filter(ctx, edit, filters, select.cursor)
        else:
            report = await document_bulk.apply(ctx, edit, select.ids)
        return BulkEditResponse.of(report)
