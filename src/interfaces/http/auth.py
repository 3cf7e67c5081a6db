"""Bearer-token authentication and the admin guard."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, TooManyRequestsException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.authentication import (
    AbstractAuthenticationMiddleware,
    AuthenticationResult,
)

from application.auth_throttle import FailedAuthenticationThrottle, throttle_key
from application.context import Principal
from application.tokens import TokenService
from domain.errors import AuthenticationFailed
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
    """Turns `Authorization: Bearer <token>` into `request.user` (a `Principal`).

    Refused credentials are counted per client address; an address over the limit gets 429
    for every request, before its token is looked at (docs/decisions.md, "Throttling")."""

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        ip = client_ip(connection)
        key = throttle_key(ip)
        throttle: FailedAuthenticationThrottle = connection.app.state.container.auth_throttle()
        if key is not None:
            wait = throttle.retry_after(key)
            if wait is not None:
                raise TooManyRequestsException(
                    "too many failed authentication attempts from this address",
                    headers={"Retry-After": str(wait)},
                )
        # No bearer credentials at all: a plain challenge, without an error code (RFC 6750 §3.1).
        # It is not an attempt, so it is not counted.
        header = connection.headers.get("authorization")
        if not header:
            raise NotAuthorizedException("missing bearer token")
        try:
            return await self._authenticate(connection, header, ip)
        except (NotAuthorizedException, AuthenticationFailed):
            if key is not None:
                throttle.record_failure(key)
            raise

    @staticmethod
    async def _authenticate(
        connection: ASGIConnection[Any, Any, Any, Any], header: str, ip: str | None
    ) -> AuthenticationResult:
        # A bearer token that does not work is an AuthenticationFailed: error="invalid_token".
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise NotAuthorizedException("the Authorization header must be 'Bearer <token>'")
        tokens: TokenService = connection.app.state.container.tokens()
        principal = await tokens.authenticate(secret.strip(), ip)
        return AuthenticationResult(user=principal, auth=principal.token_id)


def admin_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Admin-only routes: 403 for everyone else (authentication ran before). OPTIONS is not
    authenticated (docs/decisions.md, "HTTP"), so it has no user to check: it passes."""
    if connection.scope.get("method") == "OPTIONS":
        return
    principal: Principal = connection.user
    require_admin(principal.user)
