"""Passwords and sessions over the API: a user changes their own password; an admin sets a
user's password, issues a set-password link, or signs a user out everywhere. Signing in with
a password is the web interface's (the API keeps bearer tokens)."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, delete, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from application.accounts import AccountService
from application.context import RequestContext
from application.passwords import PasswordService
from infrastructure.config import AppSettings
from interfaces.http.auth import admin_guard
from interfaces.http.problems import problems
from interfaces.http.schemas.passwords import PasswordChange, PasswordLinkIssued, PasswordSet


class OwnPasswordController(Controller):
    path = "/me/password"
    tags = ["me"]

    @put(
        operation_id="changeOwnPassword",
        summary="Change your password",
        description="Replaces your web sign-in password: send the current one and the new one. "
        "The new one must have 12 to 1024 characters, must not contain your e-mail address or "
        "its name, and must not be a common password (422 naming `new_password`). A wrong "
        "current password is 422 naming `current_password` and counts as a failed "
        "authentication (429 with Retry-After past the limit); so is having none yet (an "
        "admin sets one or issues a link). Your web sessions end; API tokens keep working. "
        "204 on success.",
        status_code=204,
        responses=problems(400, 401, 403, 422, 429),
    )
    async def change_own_password(
        self,
        data: JSONBody[PasswordChange],
        ctx: NamedDependency[RequestContext],
        password_service: NamedDependency[PasswordService],
    ) -> None:
        await password_service.change_own_password(ctx, data.current_password, data.new_password)


class UserAccountController(Controller):
    path = "/users"
    tags = ["users"]
    guards = [admin_guard]

    @put(
        "/{user_id:uuid}/password",
        operation_id="setUserPassword",
        summary="Set a user's password (admin)",
        description="Sets the user's web sign-in password (the same rules as changing your "
        "own: 422 naming `password`). The user's web sessions end and any set-password link of "
        "theirs stops working; their API tokens keep working. Admins only (403 otherwise); 404 "
        "for an unknown user. 204 on success.",
        status_code=204,
        responses=problems(400, 401, 403, 404, 422),
    )
    async def set_user_password(
        self,
        user_id: FromPath[UUID],
        data: JSONBody[PasswordSet],
        ctx: NamedDependency[RequestContext],
        password_service: NamedDependency[PasswordService],
    ) -> None:
        await password_service.set_password(ctx, user_id, data.password)

    @post(
        "/{user_id:uuid}/password-link",
        operation_id="issuePasswordLink",
        summary="Issue a one-time set-password link (admin)",
        description="Issues a link with which the user sets their own password, once, within "
        "ARCHIVIST_PASSWORD_LINK_HOURS (24 by default); it replaces any earlier link of theirs. "
        "The secret (`token`, and in `path` and `url`) is in this response only; the server "
        "keeps its hash. `url` is `path` on ARCHIVIST_PUBLIC_URL (null when unset). Admins "
        "only (403 otherwise); 404 for an unknown user; 409 for an inactive one.",
        status_code=201,
        responses=problems(400, 401, 403, 404, 409),
    )
    async def issue_password_link(
        self,
        user_id: FromPath[UUID],
        state: State,
        ctx: NamedDependency[RequestContext],
        password_service: NamedDependency[PasswordService],
    ) -> PasswordLinkIssued:
        issued = await password_service.issue_password_link(ctx, user_id)
        settings: AppSettings = state.container.app_settings()
        base = settings.public_url
        return PasswordLinkIssued(
            user_id=issued.user.id,
            token=issued.secret,
            path=issued.path,
            url=f"{base}{issued.path}" if base else None,
            expires_at=issued.expires_at,
        )

    @delete(
        "/{user_id:uuid}/sessions",
        operation_id="endUserSessions",
        summary="Sign a user out everywhere (admin)",
        description="Ends every web session of the user at once (their API tokens keep "
        "working: revoke those with DELETE /tokens/{id}). Admins only (403 otherwise); 404 for "
        "an unknown user. 204 whether or not they had sessions.",
        responses=problems(400, 401, 403, 404),
    )
    async def end_user_sessions(
        self,
        user_id: FromPath[UUID],
        ctx: NamedDependency[RequestContext],
        account_service: NamedDependency[AccountService],
    ) -> None:
        await account_service.sign_out_everywhere(ctx, user_id)
