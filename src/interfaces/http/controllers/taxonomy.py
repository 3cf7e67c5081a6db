"""Taxonomies (admins shape and publish them; everyone reads them) and classification."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from application.context import RequestContext
from application.taxonomy import Classify, TaxonomyService
from domain.pagination import MAX_LIMIT, PageRequest
from interfaces.http.auth import admin_guard
from interfaces.http.examples import CLASSIFICATION, CLASSIFY_REQUEST, with_examples
from interfaces.http.problems import problems
from interfaces.http.schemas.common import ListOf
from interfaces.http.schemas.taxonomy import (
    Classification,
    ClassificationCreate,
    Taxonomy,
    TaxonomyCreate,
    TaxonomyNode,
    TaxonomyNodeCreate,
)

_VERSION = Parameter(max_length=20, pattern=r"^[0-9A-Za-z][0-9A-Za-z._-]*$")


class TaxonomyController(Controller):
    path = "/taxonomies"
    tags = ["taxonomy"]

    @get(
        operation_id="listTaxonomies",
        summary="Every taxonomy version",
        description="Every taxonomy version, draft or published, with when it was made and "
        "published. Any user.",
        responses=problems(401),
    )
    async def list_taxonomies(
        self, taxonomy_service: NamedDependency[TaxonomyService]
    ) -> ListOf[Taxonomy]:
        return ListOf[Taxonomy](items=[Taxonomy.of(v) for v in await taxonomy_service.versions()])

    @post(
        operation_id="createTaxonomy",
        summary="A new draft version, empty or copied from another (admin)",
        description="Creates a draft version, empty or with a copy of another version's tree "
        "(`copy_from`). Admins only (403 otherwise); 404 when `copy_from` does not exist; 409 "
        "when the version exists.",
        guards=[admin_guard],
        responses=problems(400, 401, 403, 404, 409, 422),
    )
    async def create_taxonomy(
        self,
        data: JSONBody[TaxonomyCreate],
        ctx: NamedDependency[RequestContext],
        taxonomy_service: NamedDependency[TaxonomyService],
    ) -> Taxonomy:
        created = await taxonomy_service.create_version(ctx, data.version, data.copy_from)
        return Taxonomy.of(created)

    @post(
        "/{version:str}/nodes",
        operation_id="addTaxonomyNode",
        summary="Add a node to a draft; its parent must exist (admin)",
        description="Adds a node (`A/B/C`) to a draft version; its parent (`A/B`) must exist. "
        "Admins only (403 otherwise); 404 for an unknown version or parent; 409 for a published "
        "version or a node that exists; 422 for a malformed path.",
        guards=[admin_guard],
        responses=problems(400, 401, 403, 404, 409, 422),
    )
    async def add_node(
        self,
        data: JSONBody[TaxonomyNodeCreate],
        ctx: NamedDependency[RequestContext],
        taxonomy_service: NamedDependency[TaxonomyService],
        version: str = _VERSION,
    ) -> TaxonomyNode:
        return TaxonomyNode.of(await taxonomy_service.add_node(ctx, version, data.path))

    @get(
        "/{version:str}/nodes",
        operation_id="listTaxonomyNodes",
        summary="The tree of a version, in path order",
        description="The nodes of a version in path order. Any user; 404 for an unknown version.",
        responses=problems(400, 401, 404, 422),
    )
    async def list_nodes(
        self, taxonomy_service: NamedDependency[TaxonomyService], version: str = _VERSION
    ) -> ListOf[TaxonomyNode]:
        nodes = await taxonomy_service.nodes(version)
        return ListOf[TaxonomyNode](items=[TaxonomyNode.of(n) for n in nodes])

    @post(
        "/{version:str}/publish",
        operation_id="publishTaxonomy",
        summary="Publish a draft; it is immutable from then on (admin)",
        description="Publishes a draft: from then on it is immutable and the default version "
        "for classification and search filters. Admins only (403 otherwise); 404 for an unknown "
        "version; 409 when it is already published.",
        guards=[admin_guard],
        status_code=200,
        responses=problems(400, 401, 403, 404, 409, 422),
    )
    async def publish(
        self,
        ctx: NamedDependency[RequestContext],
        taxonomy_service: NamedDependency[TaxonomyService],
        version: str = _VERSION,
    ) -> Taxonomy:
        return Taxonomy.of(await taxonomy_service.publish(ctx, version))


class ClassificationController(Controller):
    path = "/"
    tags = ["taxonomy"]

    @post(
        "/documents/{doc_id:uuid}/classifications",
        operation_id="classifyDocument",
        operation_class=with_examples(
            status=201, request=CLASSIFY_REQUEST, response=CLASSIFICATION
        ),
        summary="Classify a document (write rights); an unknown path is 404 with suggestions",
        description="Classifies a document into the taxonomy node at `path` (in `version`, "
        "default the latest published), with a confidence; `hitl_required` puts it on the "
        "review queue. Callers with write rights on the document: 404 for a document you cannot "
        "read or an unknown version, 403 without write rights; an unknown path is 404 "
        "`taxonomy_node_not_found` with the nearest existing paths in `suggestions`; 409 when "
        "the document is already classified there.",
        responses=problems(400, 401, 403, 404, 409, 422),
    )
    async def classify(
        self,
        doc_id: FromPath[UUID],
        data: JSONBody[ClassificationCreate],
        ctx: NamedDependency[RequestContext],
        taxonomy_service: NamedDependency[TaxonomyService],
    ) -> Classification:
        command = Classify(data.path, data.confidence, data.version, data.hitl_required)
        return Classification.of(await taxonomy_service.classify(ctx, doc_id, command))

    @get(
        "/documents/{doc_id:uuid}/classifications",
        operation_id="listClassifications",
        summary="A document's classifications",
        description="A document's classifications with their paths, confidence and review "
        "state. Anyone who can read the document; 404 otherwise.",
        responses=problems(400, 401, 404),
    )
    async def list_classifications(
        self,
        doc_id: FromPath[UUID],
        ctx: NamedDependency[RequestContext],
        taxonomy_service: NamedDependency[TaxonomyService],
    ) -> ListOf[Classification]:
        found = await taxonomy_service.classifications(ctx, doc_id)
        return ListOf[Classification](items=[Classification.of(c) for c in found])

    @delete(
        "/documents/{doc_id:uuid}/classifications/{node_id:uuid}",
        operation_id="removeClassification",
        summary="Remove a classification (write rights)",
        description="Removes a document's classification into a node. Callers with write rights "
        "on the document: 404 for a document you cannot read or a classification that does not "
        "exist, 403 without write rights.",
        responses=problems(400, 401, 403, 404, 409),
    )
    async def remove(
        self,
        doc_id: FromPath[UUID],
        node_id: FromPath[UUID],
        ctx: NamedDependency[RequestContext],
        taxonomy_service: NamedDependency[TaxonomyService],
    ) -> None:
        await taxonomy_service.remove(ctx, doc_id, node_id)

    @post(
        "/documents/{doc_id:uuid}/classifications/{node_id:uuid}/approve",
        operation_id="approveClassification",
        summary="Mark a classification reviewed (write rights)",
        description="Marks a classification reviewed by you (it leaves the review queue). "
        "Callers with write rights on the document: 404 for a document you cannot read or a "
        "classification that does not exist, 403 without write rights; 409 when it is already "
        "reviewed.",
        status_code=200,
        responses=problems(400, 401, 403, 404, 409),
    )
    async def approve(
        self,
        doc_id: FromPath[UUID],
        node_id: FromPath[UUID],
        ctx: NamedDependency[RequestContext],
        taxonomy_service: NamedDependency[TaxonomyService],
    ) -> Classification:
        return Classification.of(await taxonomy_service.approve(ctx, doc_id, node_id))

    @get(
        "/classifications/review",
        operation_id="reviewQueue",
        summary="Classifications waiting for review, on documents you can read",
        description="Classifications marked `hitl_required` and not yet reviewed, on documents "
        "you can read, paged by `cursor`. Any user.",
        responses=problems(400, 401, 422),
    )
    async def review_queue(
        self,
        ctx: NamedDependency[RequestContext],
        taxonomy_service: NamedDependency[TaxonomyService],
        limit: int = Parameter(default=50, ge=1, le=MAX_LIMIT),
        cursor: str | None = Parameter(default=None, max_length=512),
    ) -> ListOf[Classification]:
        page = await taxonomy_service.review_queue(ctx, PageRequest(limit, cursor))
        return ListOf[Classification](
            items=[Classification.of(c) for c in page.items], next_cursor=page.next_cursor
        )
