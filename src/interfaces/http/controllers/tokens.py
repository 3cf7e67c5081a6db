from __future__ import annotations

from uuid import UUID

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter

from application.context import RequestContext
from application.tokens import TokenIssue, TokenService
from domain.pagination import MAX_LIMIT, PageRequest
from interfaces.http.problems import problems
from interfaces.http.schemas.common import ListOf
from interfaces.http.schemas.tokens import Token, TokenCreate, TokenCreated


class TokenController(Controller):
    path = "/tokens"
    tags = ["tokens"]

    @post(
        operation_id="createToken",
        summary="Issue a token; the secret is in the response once",
        description="Issues an API token for you, or (admins) for the user named by `user_id`. "
        "The secret is in this response only; the server keeps its hash. `expires_in_days` "
        "bounds its life. 403 for another user's token without being an admin; 404 for an "
        "unknown user; 409 for an inactive one; 422 for a lifetime out of range.",
        responses=problems(400, 401, 403, 404, 409, 422),
    )
    async def create_token(
        self,
        data: JSONBody[TokenCreate],
        ctx: NamedDependency[RequestContext],
        token_service: NamedDependency[TokenService],
    ) -> TokenCreated:
        issued = await token_service.issue(
            ctx, TokenIssue(data.name, data.expires_in_days, data.user_id)
        )
        return TokenCreated(**Token.of(issued.token).model_dump(), token=issued.secret)

    @get(
        operation_id="listTokens",
        summary="Your tokens (admins: ?user_id= for another user's)",
        description="Your tokens (never their secrets), newest first, paged by `cursor`. Admins "
        "may pass `user_id` for another user's (403 for anyone else).",
        responses=problems(400, 401, 403, 422),
    )
    async def list_tokens(
        self,
        ctx: NamedDependency[RequestContext],
        token_service: NamedDependency[TokenService],
        user_id: FromQuery[UUID | None] = None,
        limit: int = Parameter(default=50, ge=1, le=MAX_LIMIT),
        cursor: str | None = Parameter(default=None, max_length=512),
    ) -> ListOf[Token]:
        page = await token_service.list(ctx, PageRequest(limit, cursor), user_id)
        return ListOf[Token](items=[Token.of(t) for t in page.items], next_cursor=page.next_cursor)

    @delete(
        "/{token_id:uuid}",
        operation_id="revokeToken",
        summary="Revoke a token (idempotent)",
        description="Revokes a token at once; revoking it again is a no-op (204 both times). "
        "Your own tokens, or anyone's for an admin; someone else's token is 404 to a non-admin, "
        "as is an unknown id.",
        responses=problems(400, 401, 404),
    )
    async def revoke_token(
        self,
        token_id: FromPath[UUID],
        ctx: NamedDependency[RequestContext],
        token_service: NamedDependency[TokenService],
    ) -> None:
        await token_service.revoke(ctx, token_id)
