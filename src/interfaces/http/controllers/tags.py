"""Tags: any user lists them; members and admins create them; admins change and delete them."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter

from application.catalog import CatalogService, Changes
from application.context import RequestContext
from domain.pagination import MAX_LIMIT
from interfaces.http.auth import admin_guard
from interfaces.http.problems import problems
from interfaces.http.schemas.common import ListOf
from interfaces.http.schemas.tags import Tag, TagCreate, TagUpdate


class TagController(Controller):
    path = "/tags"
    tags = ["tags"]

    @get(
        operation_id="listTags",
        summary="Every tag by name; ?sort=popular: by how many documents you can read carry it",
        description="Every tag by name; `sort=popular` ranks the tags by how many documents you "
        "can read carry them (with that count; `limit` of them). Any user; 422 for an unknown "
        "sort.",
        responses=problems(400, 401, 422),
    )
    async def list_tags(
        self,
        ctx: NamedDependency[RequestContext],
        catalog_service: NamedDependency[CatalogService],
        sort: FromQuery[Literal["name", "popular"]] = "name",
        limit: int = Parameter(
            default=50, ge=1, le=MAX_LIMIT, description="With sort=popular: how many tags."
        ),
    ) -> ListOf[Tag]:
        if sort == "popular":
            counted = await catalog_service.popular_tags(ctx, limit)
            return ListOf[Tag](items=[Tag.of(tag, count) for tag, count in counted])
        return ListOf[Tag](items=[Tag.of(tag) for tag in await catalog_service.tags()])

    @post(
        operation_id="createTag",
        summary="Create a tag (members and admins)",
        description="Creates a tag with an optional colour (#rrggbb) and description. Members "
        "and admins (403 for guests); 409 when the name is taken; 422 for an invalid field.",
        responses=problems(400, 401, 403, 409, 422),
    )
    async def create_tag(
        self,
        data: JSONBody[TagCreate],
        ctx: NamedDependency[RequestContext],
        catalog_service: NamedDependency[CatalogService],
    ) -> Tag:
        tag = await catalog_service.create_tag(ctx, data.name, data.color, data.description)
        return Tag.of(tag)

    @patch(
        "/{tag_id:uuid}",
        operation_id="updateTag",
        summary="Rename, recolour, describe or deactivate a tag (admin)",
        description="Changes the fields sent: name, colour, description, `is_active`. Admins "
        "only (403 otherwise); 404 for an unknown id; 409 when the new name is taken.",
        guards=[admin_guard],
        responses=problems(400, 401, 403, 404, 409, 422),
    )
    async def update_tag(
        self,
        tag_id: FromPath[UUID],
        data: JSONBody[TagUpdate],
        ctx: NamedDependency[RequestContext],
        catalog_service: NamedDependency[CatalogService],
    ) -> Tag:
        return Tag.of(await catalog_service.update_tag(ctx, tag_id, Changes(data.changes())))

    @delete(
        "/{tag_id:uuid}",
        operation_id="deleteTag",
        summary="Delete a tag; documents lose it (admin)",
        description="Deletes a tag; documents that carried it lose it. Admins only (403 "
        "otherwise); 404 for an unknown id.",
        guards=[admin_guard],
        responses=problems(400, 401, 403, 404),
    )
    async def delete_tag(
        self,
        tag_id: FromPath[UUID],
        ctx: NamedDependency[RequestContext],
        catalog_service: NamedDependency[CatalogService],
    ) -> None:
        await catalog_service.delete_tag(ctx, tag_id)
