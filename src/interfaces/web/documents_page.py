"""A document's page (issue #14): its metadata, thumbnail, text and download, its events, and
the changes the viewer's rights allow, each a plain POST form calling the use case the API's
route calls: `DocumentLifecycle` (fields, tags, trash, restore, purge), `TaxonomyService`
(classification, with the nearest paths on a miss), `GrantService` (grants, owner and
admins).

Opening the page is `DocumentReads.get` (a `document.viewed` event, as `GET /documents/{id}`),
so a document the viewer may not read is the same 404 page as one that does not exist. Every
change form carries the version the page showed (the API's ETag, sent as If-Match), so a
change made meanwhile by someone else is refused (`PreconditionFailed`) and the page says
so, keeping what the viewer typed — never written over the other change. Trash, restore and
purge ask for a confirmation first: a page of its own without script (`confirm.html`), a
dialog with (`static/enhance/documents.js` sends `confirmed=yes` along)."""

from __future__ import annotations

from typing import Any, Final
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from application.taxonomy import Classify
from domain import policy
from domain.documents import DocumentChanges
from domain.errors import (
    DomainError,
    ValidationFailed,
)
from domain.pagination import PageRequest
from domain.taxonomy import format_path
from interfaces.http.schemas.document_changes import DocumentUpdate
from interfaces.http.schemas.grants import PermissionPut
from interfaces.http.schemas.taxonomy import ClassificationCreate
from interfaces.web.documents_forms import Refusal, refusal, split_tags, version_of
from interfaces.web.documents_listing import LIST_PATH
from interfaces.web.documents_views import EventView, People, ProcessingView, excerpt, moment
from interfaces.web.form_support import (
    checked,
    form_fields,
    human_bytes,
    optional,
    services,
    use_case_context,
    viewer_of,
    with_query,
)
from interfaces.web.rendering import page

EVENTS_PAGE: Final = 20
# What a redirect after a change may say (`?done=`): the template words each.
PAGE_NOTICES: Final = frozenset(
    {"saved", "tagged", "untagged", "classified", "granted", "revoked", "trashed", "restored"}
)
CONFIRMED: Final = "yes"


def document_path(doc_id: UUID) -> str:
    return f"{LIST_PATH}/{doc_id}"


class DocumentPage(Controller):
    path = f"{LIST_PATH}/{{doc_id:uuid}}"
    include_in_schema = False

    @get()
    async def show(self, request: Request[Any, Any, Any], doc_id: FromPath[UUID]) -> Template:
        return await self._render(request, doc_id)

    async def _render(
        self, request: Request[Any, Any, Any], doc_id: UUID, refused: Refusal | None = None
    ) -> Template:
        container, ctx, viewer = services(request), use_case_context(request), viewer_of(request)
        found = await container.document_reads().get(ctx, doc_id)
        doc, user = found.document, viewer.user
        states = (await container.document_processing().of([doc])).get(doc.id, {})
        may_grant = policy.can_manage_grants(user, doc)
        cursor = optional(request.query_params.get("events"))
        trail = await container.document_reads().events(
            ctx, doc_id, PageRequest(EVENTS_PAGE, cursor[:512] if cursor else None)
        )
        people = People(container, ctx, viewer)
        text, more_text = excerpt(doc)
        done = request.query_params.get("done")
        return page(
            request,
            "documents/detail.html",
            status=refused.status if refused else 200,
            doc=doc,
            owner=await people.of(doc.owner_id),
            processing=ProcessingView.of(states),
            text=text,
            more_text=more_text,
            may_write=policy.can_write(user, doc, found.grant) and not doc.in_trash,
            may_reclassify=policy.can_reclassify(user, doc),
            may_delete=policy.can_delete(user, doc, found.grant),
            may_purge=policy.can_purge(user, doc) and doc.in_trash,
            may_grant=may_grant,
            # Where each event came from: as the API shows it (`DocumentReads.events`).
            see_details=policy.can_see_audit_details(user, doc),
            grantees=list(await container.grants().grantees(ctx, doc_id)) if may_grant else [],
            classifications=list(await container.taxonomy().classifications(ctx, doc_id)),
            categories=[c.name for c in await container.catalog().categories()],
            events=[EventView.of(e, await people.of(e.actor_id)) for e in trail.items],
            events_link=with_query(document_path(doc_id), events=trail.next_cursor)
            if trail.next_cursor
            else None,
            events_paged=cursor is not None,
            failed_form=refused.form if refused else None,
            errors=refused.errors if refused else {},
            values=refused.values if refused else {},
            conflict=refused.conflict if refused else False,
            suggestions=refused.suggestions if refused else [],
            done=done if done in PAGE_NOTICES else None,
            format_path=format_path,
            moment=moment,
            human_bytes=human_bytes,
        )

    async def _change(
        self,
        request: Request[Any, Any, Any],
        doc_id: UUID,
        form: str,
        change: Any,
        done: str,
        field: str = "",
    ) -> Template | Redirect:
        """Run `change(fields)` for the posted form; back to the page, saying `done`, or the
        page again with the refusal."""
        fields = await form_fields(request)
        try:
            await change(fields)
        except DomainError as error:
            return await self._render(request, doc_id, refusal(form, error, fields, field))
        return Redirect(with_query(document_path(doc_id), done=done), status_code=303)

    @post("/edit", status_code=303)
    async def edit(
        self, request: Request[Any, Any, Any], doc_id: FromPath[UUID]
    ) -> Template | Redirect:
        """Title, level, department, category and source, at the version the page showed."""

        async def change(fields: dict[str, str]) -> None:
            sent: dict[str, Any] = {
                "title": fields.get("title", ""),
                "category": optional(fields.get("category")),
                "source": fields.get("source", ""),
            }
            # Level and department are sent only by those offered them (`can_reclassify`).
            if "access_level" in fields:
                sent["access_level"] = fields["access_level"]
            if "department" in fields:
                sent["department"] = optional(fields["department"])
            data = checked(DocumentUpdate, sent)
            await (
                services(request)
                .document_lifecycle()
                .update(
                    use_case_context(request),
                    doc_id,
                    DocumentChanges(data.changes()),
                    expected_version=version_of(fields),
                )
            )

        return await self._change(request, doc_id, "edit", change, "saved")

    @post("/tags", status_code=303)
    async def add_tags(
        self, request: Request[Any, Any, Any], doc_id: FromPath[UUID]
    ) -> Template | Redirect:
        """Tags added (names separated by commas; unknown ones are created)."""

        async def change(fields: dict[str, str]) -> None:
            names = split_tags(fields.get("tags"))
            if not names:
                raise ValidationFailed.on("tags", "name at least one tag")
            await (
                services(request)
                .document_lifecycle()
                .add_tags(
                    use_case_context(request), doc_id, names, expected_version=version_of(fields)
                )
            )

        return await self._change(request, doc_id, "tags", change, "tagged", "tags")

    @post("/tags/remove", status_code=303)
    async def remove_tag(
        self, request: Request[Any, Any, Any], doc_id: FromPath[UUID]
    ) -> Template | Redirect:
        """One tag taken off."""

        async def change(fields: dict[str, str]) -> None:
            await (
                services(request)
                .document_lifecycle()
                .remove_tag(
                    use_case_context(request),
                    doc_id,
                    fields.get("name", ""),
                    expected_version=version_of(fields),
                )
            )

        return await self._change(request, doc_id, "tags", change, "untagged", "tags")

    @post("/classify", status_code=303)
    async def classify(
        self, request: Request[Any, Any, Any], doc_id: FromPath[UUID]
    ) -> Template | Redirect:
        """Classified at a taxonomy path (the latest published version unless one is
        named); an unknown path is answered with the nearest ones."""

        async def change(fields: dict[str, str]) -> None:
            data = checked(
                ClassificationCreate,
                {
                    "path": fields.get("path", ""),
                    "version": optional(fields.get("taxonomy_version")),
                    "confidence": 1.0,  # a person chose it
                },
            )
            await (
                services(request)
                .taxonomy()
                .classify(use_case_context(request), doc_id, Classify(data.path, 1.0, data.version))
            )

        return await self._change(request, doc_id, "classify", change, "classified", "path")

    @post("/grants", status_code=303)
    async def grant(
        self, request: Request[Any, Any, Any], doc_id: FromPath[UUID]
    ) -> Template | Redirect:
        """Read, write or delete access given to a user named by e-mail (owner, admins)."""

        async def change(fields: dict[str, str]) -> None:
            data = checked(PermissionPut, {"access": fields.get("access", "")})
            await (
                services(request)
                .grants()
                .grant_by_email(
                    use_case_context(request), doc_id, fields.get("email", ""), data.access
                )
            )

        return await self._change(request, doc_id, "grant", change, "granted", "email")

    @post("/grants/revoke", status_code=303)
    async def revoke(
        self, request: Request[Any, Any, Any], doc_id: FromPath[UUID]
    ) -> Template | Redirect:
        """A user's grant taken away (owner, admins)."""

        async def change(fields: dict[str, str]) -> None:
            try:
                user_id = UUID(fields.get("user_id", ""))
            except ValueError:
                raise ValidationFailed.on("user_id", "must be a user id (a UUID)") from None
            await services(request).grants().revoke(use_case_context(request), doc_id, user_id)

        return await self._change(request, doc_id, "revoke", change, "revoked")

    async def _move(
        self, request: Request[Any, Any, Any], doc_id: UUID, action: str
    ) -> Template | Redirect:
        """Trash, restore or purge, once confirmed: first a page asking (`confirm.html`)."""
        fields = await form_fields(request)
        if fields.get("confirmed") != CONFIRMED:
            ctx = use_case_context(request)
            found = await services(request).document_reads().get(ctx, doc_id)
            return page(
                request,
                "documents/confirm.html",
                doc=found.document,
                action=action,
                version=fields.get("version", ""),
            )
        lifecycle = services(request).document_lifecycle()
        ctx = use_case_context(request)
        try:
            version = version_of(fields)
            if action == "trash":
                await lifecycle.delete(ctx, doc_id, expected_version=version)
            elif action == "restore":
                await lifecycle.restore(ctx, doc_id, expected_version=version)
            else:
                await lifecycle.purge(ctx, doc_id, expected_version=version)
        except DomainError as error:
            return await self._render(request, doc_id, refusal(action, error, fields))
        if action == "purge":
            return Redirect(with_query(LIST_PATH, deleted="true", done="purged"), status_code=303)
        done = "trashed" if action == "trash" else "restored"
        return Redirect(with_query(document_path(doc_id), done=done), status_code=303)

    @post("/trash", status_code=303)
    async def trash(
        self, request: Request[Any, Any, Any], doc_id: FromPath[UUID]
    ) -> Template | Redirect:
        return await self._move(request, doc_id, "trash")

    @post("/restore", status_code=303)
    async def restore(
        self, request: Request[Any, Any, Any], doc_id: FromPath[UUID]
    ) -> Template | Redirect:
        return await self._move(request, doc_id, "restore")

    @post("/purge", status_code=303)
    async def purge(
        self, request: Request[Any, Any, Any], doc_id: FromPath[UUID]
    ) -> Template | Redirect:
        return await self._move(request, doc_id, "purge")
