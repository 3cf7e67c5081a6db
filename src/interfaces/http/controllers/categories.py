"""Categories: any user lists them; admins create, change and delete them."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from application.catalog import CatalogService, Changes
from application.context import RequestContext
from interfaces.http.auth import admin_guard
from interfaces.http.problems import problems
from interfaces.http.schemas.categories import Category, CategoryCreate, CategoryUpdate
from interfaces.http.schemas.common import ListOf


class CategoryController(Controller):
    path = "/categories"
    tags = ["categories"]

    @get(
        operation_id="listCategories",
        summary="Every category, by name",
        description="Every category, by name, with its description and whether it is active. "
        "Any user.",
        responses=problems(401),
    )
    async def list_categories(
        self, catalog_service: NamedDependency[CatalogService]
    ) -> ListOf[Category]:
        return ListOf[Category](items=[Category.of(c) for c in await catalog_service.categories()])

    @post(
        operation_id="createCategory",
        summary="Create a category (admin)",
        description="Creates a category. Admins only (403 otherwise); 409 when the name is "
        "taken; 422 for an invalid field.",
        guards=[admin_guard],
        responses=problems(400, 401, 403, 409, 422),
    )
    async def create_category(
        self,
        data: JSONBody[CategoryCreate],
        ctx: NamedDependency[RequestContext],
        catalog_service: NamedDependency[CatalogService],
    ) -> Category:
        category = await catalog_service.create_category(ctx, data.name, data.description)
        return Category.of(category)

    @patch(
        "/{category_id:uuid}",
        operation_id="updateCategory",
        summary="Rename, describe or deactivate a category (admin)",
        description="Changes the fields sent: name, description, or `is_active`. Admins only "
        "(403 otherwise); 404 for an unknown id; 409 when the new name is taken.",
        guards=[admin_guard],
        responses=problems(400, 401, 403, 404, 409, 422),
    )
    async def update_category(
        self,
        category_id: FromPath[UUID],
        data: JSONBody[CategoryUpdate],
        ctx: NamedDependency[RequestContext],
        catalog_service: NamedDependency[CatalogService],
    ) -> Category:
        category = await catalog_service.update_category(ctx, category_id, Changes(data.changes()))
        return Category.of(category)

    @delete(
        "/{category_id:uuid}",
        operation_id="deleteCategory",
        summary="Delete a category; its documents stay, without one (admin)",
        description="Deletes a category; its documents stay, without a category. Admins only "
        "(403 otherwise); 404 for an unknown id.",
        guards=[admin_guard],
        responses=problems(400, 401, 403, 404),
    )
    async def delete_category(
        self,
        category_id: FromPath[UUID],
        ctx: NamedDependency[RequestContext],
        catalog_service: NamedDependency[CatalogService],
    ) -> None:
        await catalog_service.delete_category(ctx, category_id)
