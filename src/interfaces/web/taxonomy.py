"""The taxonomy pages (issue #14): the versions and which one is in use, a version's tree,
and the review queue with its approval; administrators also make a draft, add its nodes
and publish it. Each page calls `TaxonomyService` as the API's taxonomy controllers do: the
versions and trees are anyone's to read, the queue holds only classifications of documents
the viewer may read, and approving one needs write rights on its document (the use case
decides, as for the API)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from domain.pagination import PageRequest
from domain.taxonomy import TaxonomyNode, TaxonomyVersion, format_path
from interfaces.http.schemas.taxonomy import TaxonomyCreate, TaxonomyNodeCreate
from interfaces.web.form_support import (
    Fields,
    admin_viewer,
    checked,
    errors_of,
    field_errors,
    form_fields,
    optional,
    services,
    status_of,
    use_case_context,
    viewer_of,
    with_query,
)
from interfaces.web.rendering import page

TAXONOMY_PATH: Final = "/taxonomy"
REVIEW_PATH: Final = "/taxonomy/review"
REVIEW_PAGE_SIZE: Final = 50
# What a redirect after a change may say (`?done=`): the template words each.
TAXONOMY_NOTICES: Final = frozenset({"created", "node_added", "published"})
REVIEW_NOTICES: Final = frozenset({"approved"})


@dataclass
class Branch:
    """A node of a version's tree with the nodes under it, in path order."""

    node: TaxonomyNode
    children: list[Branch] = field(default_factory=list)

    @property
    def path(self) -> str:
        return format_path(self.node.canonical_path)

    @property
    def descendants(self) -> int:
        return sum(1 + child.descendants for child in self.children)


def tree_of(nodes: Sequence[TaxonomyNode]) -> list[Branch]:
    """The roots of `nodes` (given in path order, parents first), each with its subtree."""
    branches = {node.node_id: Branch(node) for node in nodes}
    roots: list[Branch] = []
    for node in nodes:
        parent = branches.get(node.parent_id) if node.parent_id is not None else None
        (parent.children if parent is not None else roots).append(branches[node.node_id])
    return roots


def version_in_use(versions: Sequence[TaxonomyVersion]) -> TaxonomyVersion | None:
    """The latest published version: the default of classification and search filters
    (as the repositories' `latest_published` orders them)."""
    published = [v for v in versions if v.is_published and v.published_at is not None]
    return max(published, key=lambda v: (v.published_at, v.version.encode()), default=None)


def notice(request: Request[Any, Any, Any], known: frozenset[str]) -> str | None:
    done = request.query_params.get("done")
    return done if done in known else None


class TaxonomyPages(Controller):
    path = TAXONOMY_PATH
    include_in_schema = False

    async def _versions_page(
        self,
        request: Request[Any, Any, Any],
        shown: str | None,
        *,
        status: int = 200,
        errors: Mapping[str, str] | None = None,
        values: Mapping[str, str] | None = None,
        form: str | None = None,
    ) -> Template:
        taxonomy = services(request).taxonomy()
        versions = list(await taxonomy.versions())
        in_use = version_in_use(versions)
        by_name = {v.version: v for v in versions}
        if shown is None:
            chosen = in_use or (versions[-1] if versions else None)
        else:
            chosen = by_name.get(shown)
            if chosen is None:
                raise NotFound("taxonomy version", shown)
        tree = tree_of(await taxonomy.nodes(chosen.version)) if chosen is not None else []
        return page(
            request,
            "taxonomy/versions.html",
            status=status,
            versions=list(reversed(versions)),  # newest first
            in_use=in_use.version if in_use is not None else None,
            chosen=chosen,
            tree=tree,
            node_count=sum(1 + b.descendants for b in tree),
            is_admin=viewer_of(request).user.is_active_admin,
            errors=Fields(errors or {}),
            values=Fields(values or {}),
            failed_form=form,
            done=notice(request, TAXONOMY_NOTICES),
        )

    @get("/")
    async def versions(self, request: Request[Any, Any, Any]) -> Template:
        """The versions, newest first, and the tree of one (`?version=`; default: the
        version in use, else the newest)."""
        return await self._versions_page(request, optional(request.query_params.get("version")))

    @post("/versions", status_code=303)
    async def create_version(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        """A new draft, empty or a copy of another version's tree (admins)."""
        admin_viewer(request)
        fields = await form_fields(request)
        try:
            data = checked(
                TaxonomyCreate,
                {
                    "version": fields.get("version", ""),
                    "copy_from": optional(fields.get("copy_from")),
                },
            )
            created = (
                await services(request)
                .taxonomy()
                .create_version(use_case_context(request), data.version, data.copy_from)
            )
        except (ValidationFailed, Conflict, NotFound) as error:
            return await self._versions_page(
                request,
                None,
                status=status_of(error),
                errors=self._create_errors(error),
                values=fields,
                form="create",
            )
        return Redirect(
            with_query(TAXONOMY_PATH, version=created.version, done="created"), status_code=303
        )

    @staticmethod
    def _create_errors(error: ValidationFailed | Conflict | NotFound) -> dict[str, str]:
        if isinstance(error, ValidationFailed):
            return field_errors(error)
        if isinstance(error, NotFound):
            return {"copy_from": error.message}
        return {"version": error.message}

    @post("/versions/{version:str}/nodes", status_code=303)
    async def add_node(
        self, request: Request[Any, Any, Any], version: FromPath[str]
    ) -> Template | Redirect:
        """A node added to a draft; its parent must exist (admins)."""
        admin_viewer(request)
        fields = await form_fields(request)
        try:
            data = checked(TaxonomyNodeCreate, {"path": fields.get("path", "")})
            await (
                services(request).taxonomy().add_node(use_case_context(request), version, data.path)
            )
        except (ValidationFailed, Conflict) as error:
            errors = errors_of(error, "path")
            return await self._versions_page(
                request,
                version,
                status=status_of(error),
                errors=errors,
                values=fields,
                form="node",
            )
        return Redirect(
            with_query(TAXONOMY_PATH, version=version, done="node_added"), status_code=303
        )

    @post("/versions/{version:str}/publish", status_code=303)
    async def publish(self, request: Request[Any, Any, Any], version: FromPath[str]) -> Redirect:
        """A draft published: immutable from now on, and in use (admins)."""
        admin_viewer(request)
        await services(request).taxonomy().publish(use_case_context(request), version)
        return Redirect(
            with_query(TAXONOMY_PATH, version=version, done="published"), status_code=303
        )

    async def _review_page(
        self, request: Request[Any, Any, Any], *, status: int = 200, refusal: str | None = None
    ) -> Template:
        cursor = optional(request.query_params.get("cursor"))
        queue = (
            await services(request)
            .taxonomy()
            .review_queue(use_case_context(request), PageRequest(REVIEW_PAGE_SIZE, cursor))
        )
        return page(
            request,
            "taxonomy/review.html",
            status=status,
            items=list(queue.items),
            next_page=with_query(REVIEW_PATH, cursor=queue.next_cursor)
            if queue.next_cursor
            else None,
            paged=cursor is not None,
            refusal=refusal,
            done=notice(request, REVIEW_NOTICES),
        )

    @get("/review")
    async def review(self, request: Request[Any, Any, Any]) -> Template:
        """Classifications waiting for a person, on documents the viewer may read."""
        return await self._review_page(request)

    @post("/review/{doc_id:uuid}/{node_id:uuid}/approve", status_code=303)
    async def approve(
        self, request: Request[Any, Any, Any], doc_id: FromPath[UUID], node_id: FromPath[UUID]
    ) -> Template | Redirect:
        """A classification marked reviewed: it leaves the queue (write rights on the
        document; a reader without them sees the queue again with the refusal)."""
        try:
            await services(request).taxonomy().approve(use_case_context(request), doc_id, node_id)
        except PermissionDenied as error:
            return await self._review_page(request, status=403, refusal=error.message)
        return Redirect(with_query(REVIEW_PATH, done="approved"), status_code=303)
