from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter

from application.context import RequestContext
from application.users import CreateUser, UserService
from domain.pagination import MAX_LIMIT, PageRequest
from domain.users import UserChanges, UserFilter
from domain.values import DEPARTMENT_MAX, Role
from interfaces.http.auth import admin_guard
from interfaces.http.problems import problems
from interfaces.http.schemas.common import ListOf
from interfaces.http.schemas.users import User, UserCreate, UserUpdate


class UserController(Controller):
    path = "/users"
    tags = ["users"]
    guards = [admin_guard]

    @post(
        operation_id="createUser",
        summary="Register a user (admin)",
        description="Registers a user with an email, name, role (guest, member, admin), "
        "department and access level (1-3). Admins only (403 otherwise); 409 when the email is "
        "taken; 422 for an invalid field. Give the user a token with POST /tokens.",
        responses=problems(400, 401, 403, 409, 422),
    )
    async def create_user(
        self,
        data: JSONBody[UserCreate],
        ctx: NamedDependency[RequestContext],
        user_service: NamedDependency[UserService],
    ) -> User:
        user = await user_service.create(ctx, CreateUser(**data.model_dump()))
        return User.of(user)

    @get(
        operation_id="listUsers",
        summary="List users (admin)",
        description="Every user, filtered by role, department or active state, paged by "
        "`cursor` (the previous page's `next_cursor`). Admins only (403 otherwise); 400 or 422 "
        "for a malformed filter or cursor.",
        responses=problems(400, 401, 403, 422),
    )
    async def list_users(
        self,
        ctx: NamedDependency[RequestContext],
        user_service: NamedDependency[UserService],
        role: FromQuery[Role | None] = None,
        department: str | None = Parameter(default=None, max_length=DEPARTMENT_MAX),
        is_active: FromQuery[bool | None] = None,
        limit: int = Parameter(default=50, ge=1, le=MAX_LIMIT),
        cursor: str | None = Parameter(default=None, max_length=512),
    ) -> ListOf[User]:
        page = await user_service.list(
            ctx,
            UserFilter(role=role, department=department, is_active=is_active),
            PageRequest(limit, cursor),
        )
        return ListOf[User](items=[User.of(u) for u in page.items], next_cursor=page.next_cursor)

    @get(
        "/{user_id:uuid}",
        operation_id="getUser",
        summary="One user (admin)",
        description="One user by id. Admins only (403 otherwise); 404 for an unknown id.",
        responses=problems(400, 401, 403, 404),
    )
    async def get_user(
        self,
        user_id: FromPath[UUID],
        ctx: NamedDependency[RequestContext],
        user_service: NamedDependency[UserService],
    ) -> User:
        return User.of(await user_service.get(ctx, user_id))

    @patch(
        "/{user_id:uuid}",
        operation_id="updateUser",
        summary="Change a user; is_active=false deactivates (admin)",
        description="Changes the fields sent (name, role, department, access level, is_active); "
        "`is_active=false` deactivates the user and stops their tokens at once. Admins only "
        "(403 otherwise); 404 for an unknown id; 409 when the change would leave no active "
        "administrator; 422 for an invalid field.",
        responses=problems(400, 401, 403, 404, 409, 422),
    )
    async def update_user(
        self,
        user_id: FromPath[UUID],
        data: JSONBody[UserUpdate],
        ctx: NamedDependency[RequestContext],
        user_service: NamedDependency[UserService],
    ) -> User:
        user = await user_service.update(ctx, user_id, UserChanges(data.changes()))
        return User.of(user)
