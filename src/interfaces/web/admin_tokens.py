"""API tokens for administrators (issue #14): a user's tokens (the administrator's own by
default), a new one whose secret is shown on that answer only, and revoking one. The same
use case as the API's tokens controller: `TokenService`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from application.tokens import IssuedToken, TokenIssue
from domain.errors import Conflict, ValidationFailed
from domain.pagination import MAX_LIMIT, PageRequest
from domain.tokens import MAX_TTL_DAYS
from domain.users import User, UserFilter
from interfaces.http.schemas.tokens import TokenCreate
from interfaces.web.form_support import (
    Fields,
    admin_viewer,
    checked,
    errors_of,
    form_fields,
    optional,
    services,
    status_of,
    use_case_context,
    user_id,
    whole_number,
    with_query,
)
from interfaces.web.rendering import page

TOKENS_PATH: Final = "/admin/tokens"
TOKENS_PAGE_SIZE: Final = 50
TOKEN_NOTICES: Final = frozenset({"revoked"})


class TokenPages(Controller):
    path = TOKENS_PATH
    include_in_schema = False

    async def _tokens_page(
        self,
        request: Request[Any, Any, Any],
        owner_id: UUID | None,
        *,
        status: int = 200,
        errors: Mapping[str, str] | None = None,
        values: Mapping[str, str] | None = None,
        issued: IssuedToken | None = None,
    ) -> Template:
        viewer = admin_viewer(request)
        ctx = use_case_context(request)
        owner: User = (
            await services(request).users().get(ctx, owner_id)
            if owner_id is not None
            else viewer.user
        )
        cursor = optional(request.query_params.get("cursor"))
        tokens = (
            await services(request)
            .tokens()
            .list(ctx, PageRequest(TOKENS_PAGE_SIZE, cursor), owner.id)
        )
        # Whose tokens to show: one page of users, the one shown among them.
        people = list(
            (await services(request).users().list(ctx, UserFilter(), PageRequest(MAX_LIMIT))).items
        )
        if all(p.id != owner.id for p in people):
            people.insert(0, owner)
        done = request.query_params.get("done")
        return page(
            request,
            "admin/tokens.html",
            status=status,
            owner=owner,
            people=people,
            tokens=list(tokens.items),
            next_page=with_query(TOKENS_PATH, user_id=owner.id, cursor=tokens.next_cursor)
            if tokens.next_cursor
            else None,
            first_page=with_query(TOKENS_PATH, user_id=owner.id) if cursor else None,
            issued=issued,
            max_days=MAX_TTL_DAYS,
            errors=Fields(errors or {}),
            values=Fields(values or {}),
            done=done if done in TOKEN_NOTICES else None,
        )

    @get("/")
    async def tokens(self, request: Request[Any, Any, Any]) -> Template:
        """A user's tokens (`?user_id=`; default: the viewer's own), newest first, without
        their secrets."""
        admin_viewer(request)
        return await self._tokens_page(
            request, user_id(request.query_params.get("user_id"), "user_id")
        )

    @post("/")
    async def issue(self, request: Request[Any, Any, Any]) -> Template:
        """A new token for the user named in the form; its secret is on this page only."""
        admin_viewer(request)
        fields = await form_fields(request)
        owner_id: UUID | None = None
        try:
            owner_id = user_id(fields.get("user_id"), "user_id")
            days = whole_number(fields, "expires_in_days")
            data = checked(
                TokenCreate,
                {"name": fields.get("name", ""), "expires_in_days": days, "user_id": owner_id},
            )
            issued = (
                await services(request)
                .tokens()
                .issue(
                    use_case_context(request),
                    TokenIssue(data.name, data.expires_in_days, data.user_id),
                )
            )
        except (ValidationFailed, Conflict) as error:
            errors = errors_of(error, "name")
            return await self._tokens_page(
                request, owner_id, status=status_of(error), errors=errors, values=fields
            )
        return await self._tokens_page(request, issued.token.user_id, status=201, issued=issued)

    @post("/{token_id:uuid}/revoke", status_code=303)
    async def revoke(self, request: Request[Any, Any, Any], token_id: FromPath[UUID]) -> Redirect:
        """A token revoked at once (again: nothing changes)."""
        admin_viewer(request)
        token = await services(request).tokens().revoke(use_case_context(request), token_id)
        return Redirect(
            with_query(TOKENS_PATH, user_id=token.user_id, done="revoked"), status_code=303
        )
