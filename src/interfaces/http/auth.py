"""Bearer-token authentication and the admin guard."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.authentication import (
    AbstractAuthenticationMiddleware,
    AuthenticationResult,
)

from application.context import Principal
from application.tokens import TokenService
from domain.policy import require_admin


def client_ip(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The peer address when it is an IP address (test clients send names)."""
    client = connection.scope.get("client")
    return _normalized_ip(client[0]) if client else None


@lru_cache(maxsize=4096)
def _normalized_ip(host: str) -> str | None:
    """Parsing an address costs ~10 µs and clients come back: remembered (a pure function)."""
    if not host:
        return None
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


class BearerAuthenticationMiddleware(AbstractAuthenticationMiddleware):
    """Turns `Authorization: Bearer <token>` into `request.user` (a `Principal`)."""

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        # No bearer credentials at all: a plain challenge, without an error code (RFC 6750 §3.1).
        # A bearer token that does not work is an AuthenticationFailed: error="invalid_token".
        header = connection.headers.get("authorization")
        if not header:
            raise NotAuthorizedException("missing bearer token")
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise NotAuthorizedException("the Authorization header must be 'Bearer <token>'")
        tokens: TokenService = connection.app.state.container.tokens()
        principal = await tokens.authenticate(secret.strip(), client_ip(connection))
        return AuthenticationResult(user=principal, auth=principal.token_id)


def admin_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Admin-only routes: 403 for everyone else (authentication ran before)."""
    principal: Principal = connection.user
    require_admin(principal.user)
