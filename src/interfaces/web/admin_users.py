"""Administration of people (issue #14): the users with filters, a new user, a user's role,
clearance and department, deactivation and reactivation, a password set or a one-time
set-password link (shown once), and signing a user out everywhere. The same use cases as
the API's users and account controllers: `UserService`, `PasswordService`,
`AccountService`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from application.passwords import IssuedPasswordLink
from application.users import CreateUser
from domain.errors import Conflict, ValidationFailed
from domain.pagination import PageRequest
from domain.users import UserChanges, UserFilter
from domain.values import DEPARTMENT_MAX, Role
from infrastructure.config import AppSettings
from interfaces.http.schemas.passwords import PasswordSet
from interfaces.http.schemas.users import UserCreate, UserUpdate
from interfaces.web.form_support import (
    Fields,
    admin_viewer,
    checked,
    errors_of,
    field_errors,
    form_fields,
    listed,
    optional,
    query_fields,
    services,
    status_of,
    use_case_context,
    whole_number,
    with_query,
)
from interfaces.web.rendering import page

USERS_PATH: Final = "/admin/users"
USERS_PAGE_SIZE: Final = 50
FILTERS: Final = ("role", "department", "active", "cursor")
ACTIVE: Final = {"yes": True, "no": False}
# What a redirect after a change may say (`?done=`): the template words each.
USER_NOTICES: Final = frozenset(
    {"created", "updated", "deactivated", "reactivated", "password_set", "signed_out"}
)


def user_path(user_id: UUID) -> str:
    return f"{USERS_PATH}/{user_id}"


def user_filter(given: Mapping[str, str]) -> UserFilter:
    """The list's filters from its query; `ValidationFailed` naming a bad one."""
    role = given.get("role")
    if role is not None and role not in {r.value for r in Role}:
        raise ValidationFailed.on("role", "must be one of guest, member, admin")
    active = given.get("active")
    if active is not None and active not in ACTIVE:
        raise ValidationFailed.on("active", "must be yes or no")
    department = given.get("department")
    if department is not None and len(department) > DEPARTMENT_MAX:
        raise ValidationFailed.on("department", f"must be at most {DEPARTMENT_MAX} characters")
    return UserFilter(
        role=Role(role) if role is not None else None,
        department=department,
        is_active=ACTIVE[active] if active is not None else None,
    )


class UserPages(Controller):
    path = USERS_PATH
    include_in_schema = False

    async def _list_page(
        self,
        request: Request[Any, Any, Any],
        *,
        status: int = 200,
        errors: Mapping[str, str] | None = None,
        values: Mapping[str, str] | None = None,
    ) -> Template:
        given = query_fields(request, FILTERS)
        found = await listed(
            lambda: (
                services(request)
                .users()
                .list(
                    use_case_context(request),
                    user_filter(given),
                    PageRequest(USERS_PAGE_SIZE, given.get("cursor")),
                )
            )
        )
        if found.errors:
            status = max(status, 422)
        filters = {k: v for k, v in given.items() if k != "cursor"}
        return page(
            request,
            "admin/users.html",
            status=status,
            users=found.items,
            filters=Fields(filters),
            filter_errors=Fields(found.errors),
            next_page=with_query(USERS_PATH, **filters, cursor=found.next_cursor)
            if found.next_cursor
            else None,
            first_page=with_query(USERS_PATH, **filters) if "cursor" in given else None,
            errors=Fields(errors or {}),
            values=Fields(values or {}),
        )

    @get("/")
    async def users(self, request: Request[Any, Any, Any]) -> Template:
        """The users, filtered by role, department and whether they are active, in pages."""
        admin_viewer(request)
        return await self._list_page(request)

    @post("/", status_code=303)
    async def create(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        """A new user; the form comes back with the API's messages when refused."""
        admin_viewer(request)
        fields = await form_fields(request)
        try:
            level = whole_number(fields, "access_level")
            data = checked(
                UserCreate,
                {
                    "email": fields.get("email", ""),
                    "name": fields.get("name", ""),
                    "department": optional(fields.get("department")),
                    "role": fields.get("role", "member"),
                    **({"access_level": level} if level is not None else {}),
                },
            )
            user = (
                await services(request)
                .users()
                .create(use_case_context(request), CreateUser(**data.model_dump()))
            )
        except ValidationFailed as error:
            return await self._list_page(
                request, status=422, errors=field_errors(error), values=fields
            )
        except Conflict as error:
            return await self._list_page(
                request, status=409, errors={"email": error.message}, values=fields
            )
        return Redirect(with_query(user_path(user.id), done="created"), status_code=303)

    async def _user_page(
        self,
        request: Request[Any, Any, Any],
        user_id: UUID,
        *,
        status: int = 200,
        errors: Mapping[str, str] | None = None,
        values: Mapping[str, str] | None = None,
        form: str | None = None,
        link: IssuedPasswordLink | None = None,
    ) -> Template:
        user = await services(request).users().get(use_case_context(request), user_id)
        done = request.query_params.get("done")
        ended = request.query_params.get("ended")
        return page(
            request,
            "admin/user.html",
            status=status,
            user=user,
            errors=Fields(errors or {}),
            values=Fields(values or {}),
            failed_form=form,
            link=link,
            link_url=self._link_url(request, link) if link is not None else None,
            done=done if done in USER_NOTICES else None,
            ended=int(ended) if ended is not None and ended.isascii() and ended.isdigit() else None,
        )

    @staticmethod
    def _link_url(request: Request[Any, Any, Any], link: IssuedPasswordLink) -> str:
        """The link on ARCHIVIST_PUBLIC_URL, else on the address this page was asked at."""
        settings: AppSettings = services(request).app_settings()
        base = settings.public_url or str(request.base_url).rstrip("/")
        return f"{base}{link.path}"

    @get("/{user_id:uuid}")
    async def user(self, request: Request[Any, Any, Any], user_id: FromPath[UUID]) -> Template:
        """One user, with what an administrator may change."""
        admin_viewer(request)
        return await self._user_page(request, user_id)

    @post("/{user_id:uuid}", status_code=303)
    async def update(
        self, request: Request[Any, Any, Any], user_id: FromPath[UUID]
    ) -> Template | Redirect:
        """A user's name, department, role and clearance changed."""
        admin_viewer(request)
        fields = await form_fields(request)
        try:
            level = whole_number(fields, "access_level")
            data = checked(
                UserUpdate,
                {
                    "name": fields.get("name", ""),
                    "department": optional(fields.get("department")),
                    "role": fields.get("role", ""),
                    **({"access_level": level} if level is not None else {}),
                },
            )
            await (
                services(request)
                .users()
                .update(use_case_context(request), user_id, UserChanges(data.changes()))
            )
        except (ValidationFailed, Conflict) as error:
            errors = errors_of(error, "role")
            return await self._user_page(
                request,
                user_id,
                status=status_of(error),
                errors=errors,
                values=fields,
                form="edit",
            )
        return Redirect(with_query(user_path(user_id), done="updated"), status_code=303)

    @post("/{user_id:uuid}/active", status_code=303)
    async def set_active(
        self, request: Request[Any, Any, Any], user_id: FromPath[UUID]
    ) -> Template | Redirect:
        """Deactivate (their tokens, sessions and link stop at once) or reactivate."""
        admin_viewer(request)
        fields = await form_fields(request)
        wanted = fields.get("active")
        try:
            if wanted not in ACTIVE:
                raise ValidationFailed.on("active", "must be yes or no")
            await (
                services(request)
                .users()
                .update(
                    use_case_context(request), user_id, UserChanges({"is_active": ACTIVE[wanted]})
                )
            )
        except (ValidationFailed, Conflict) as error:
            return await self._user_page(
                request,
                user_id,
                status=status_of(error),
                errors={"active": error.message},
                form="active",
            )
        done = "reactivated" if ACTIVE[wanted] else "deactivated"
        return Redirect(with_query(user_path(user_id), done=done), status_code=303)

    @post("/{user_id:uuid}/password", status_code=303)
    async def set_password(
        self, request: Request[Any, Any, Any], user_id: FromPath[UUID]
    ) -> Template | Redirect:
        """A password set for the user (the policy's messages on the field); their web
        sessions end."""
        admin_viewer(request)
        fields = await form_fields(request)
        try:
            data = checked(PasswordSet, {"password": fields.get("password", "")})
            await (
                services(request)
                .passwords()
                .set_password(use_case_context(request), user_id, data.password)
            )
        except ValidationFailed as error:
            # The password typed is not sent back into the page.
            return await self._user_page(
                request, user_id, status=422, errors=field_errors(error), form="password"
            )
        return Redirect(with_query(user_path(user_id), done="password_set"), status_code=303)

    @post("/{user_id:uuid}/password-link")
    async def password_link(
        self, request: Request[Any, Any, Any], user_id: FromPath[UUID]
    ) -> Template:
        """A one-time set-password link, shown on this answer only (the server keeps its
        hash); it replaces any earlier link of the user."""
        admin_viewer(request)
        try:
            issued = (
                await services(request)
                .passwords()
                .issue_password_link(use_case_context(request), user_id)
            )
        except Conflict as error:
            return await self._user_page(
                request, user_id, status=409, errors={"link": error.message}, form="link"
            )
        return await self._user_page(request, user_id, status=201, link=issued)

    @post("/{user_id:uuid}/sign-out", status_code=303)
    async def sign_out_everywhere(
        self, request: Request[Any, Any, Any], user_id: FromPath[UUID]
    ) -> Redirect:
        """Every web session of the user ended (their API tokens keep working)."""
        admin_viewer(request)
        ended = (
            await services(request)
            .accounts()
            .sign_out_everywhere(use_case_context(request), user_id)
        )
        return Redirect(
            with_query(user_path(user_id), done="signed_out", ended=ended), status_code=303
        )
