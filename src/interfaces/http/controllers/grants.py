"""Grants on a document: its owner and admins list, give and take them. A document the caller
cannot read is 404; one they can read but do not manage is 403."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, delete, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from application.context import RequestContext
from application.grants import GrantService
from interfaces.http.problems import problems
from interfaces.http.schemas.common import ListOf
from interfaces.http.schemas.grants import Permission, PermissionPut


class GrantController(Controller):
    path = "/documents/{doc_id:uuid}/permissions"
    tags = ["grants"]

    @get(
        operation_id="listDocumentPermissions",
        summary="The grants on a document (owner or admin)",
        description="The users granted read, write or delete access to a document, beyond its "
        "access level and department. Its owner and admins; 404 for a document you cannot read, "
        "403 for one you can read but do not manage.",
        responses=problems(400, 401, 403, 404),
    )
    async def list_permissions(
        self,
        doc_id: FromPath[UUID],
        ctx: NamedDependency[RequestContext],
        grant_service: NamedDependency[GrantService],
    ) -> ListOf[Permission]:
        grants = await grant_service.list(ctx, doc_id)
        return ListOf[Permission](items=[Permission.of(p) for p in grants])

    @put(
        "/{user_id:uuid}",
        operation_id="putDocumentPermission",
        summary="Give a user read, write or delete access (owner or admin)",
        description="Gives a user read, write or delete access to a document (replacing their "
        "grant). Its owner and admins; 404 for a document you cannot read or an unknown user, "
        "403 for a document you can read but do not manage; 422 for an unknown permission.",
        responses=problems(400, 401, 403, 404, 422),
    )
    async def put_permission(
        self,
        doc_id: FromPath[UUID],
        user_id: FromPath[UUID],
        data: JSONBody[PermissionPut],
        ctx: NamedDependency[RequestContext],
        grant_service: NamedDependency[GrantService],
    ) -> Permission:
        return Permission.of(await grant_service.grant(ctx, doc_id, user_id, data.access))

    @delete(
        "/{user_id:uuid}",
        operation_id="deleteDocumentPermission",
        summary="Take a user's grant away (owner or admin)",
        description="Takes a user's grant on a document away. Its owner and admins; 404 for a "
        "document you cannot read or a grant that does not exist, 403 for a document you can "
        "read but do not manage.",
        responses=problems(400, 401, 403, 404),
    )
    async def delete_permission(
        self,
        doc_id: FromPath[UUID],
        user_id: FromPath[UUID],
        ctx: NamedDependency[RequestContext],
        grant_service: NamedDependency[GrantService],
    ) -> None:
        await grant_service.revoke(ctx, doc_id, user_id)
