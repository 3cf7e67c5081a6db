"""Bearer-token authentication and the admin guard."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException, TooManyRequestsException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, Receive, Scope, Send

from application.auth_throttle import FailedAuthenticationThrottle, throttle_key
from application.context import Principal
from application.tokens import TokenService
from domain.errors import AuthenticationFailed
from domain.policy import require_admin


def client_ip(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The peer address when it is an IP address (test clients send names)."""
    return scope_client_ip(connection.scope)


def scope_client_ip(scope: Scope) -> str | None:
    """`client_ip` of a scope."""
    client = scope.get("client")
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


# What Litestar's `AbstractAuthenticationMiddleware` authenticated: HTTP and WebSocket scopes,
# every method but OPTIONS (docs/decisions.md, "HTTP").
_AUTHENTICATED_SCOPES = frozenset({ScopeType.HTTP, ScopeType.WEBSOCKET})
_UNAUTHENTICATED_METHOD = "OPTIONS"
_AUTHORIZATION = b"authorization"


def authorization_header(scope: Scope) -> str | None:
    """The first `Authorization` field of the request, as Litestar's `Headers.get` reads it
    (names compared case-insensitively, the value decoded as latin-1), or None."""
    for name, value in scope["headers"]:
        if name == _AUTHORIZATION or name.lower() == _AUTHORIZATION:
            return value.decode("latin-1")
    return None


class BearerAuthenticationMiddleware:
    """Turns `Authorization: Bearer <token>` into `request.user` (a `Principal`) and
    `request.auth` (the token's id).

    Refused credentials are counted per client address; an address over the limit gets 429
    for every request, before its token is looked at (docs/decisions.md, "Throttling").

    A pure-ASGI middleware rather than Litestar's `AbstractAuthenticationMiddleware`: that
    one builds an `ASGIConnection` and a `Headers` multidict per request to read one header,
    on every authenticated request (issue #11). It runs at the same place (the API router's
    middleware, inside Litestar's exception handling), so its exceptions become the same
    problem+json answers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] in _AUTHENTICATED_SCOPES
            and scope.get("method") != _UNAUTHENTICATED_METHOD
        ):
            principal = await self.authenticate(scope)
            scope["user"] = principal
            scope["auth"] = principal.token_id
        await self.app(scope, receive, send)

    async def authenticate(self, scope: Scope) -> Principal:
        """The principal of the request's bearer token; `NotAuthorizedException` (401) or
        `AuthenticationFailed` without a usable one, `TooManyRequestsException` (429) for an
        address over the limit of refused credentials."""
        ip = scope_client_ip(scope)
        key = throttle_key(ip)
        container = scope["litestar_app"].state.container
        throttle: FailedAuthenticationThrottle = container.auth_throttle()
        if key is not None:
            wait = throttle.retry_after(key)
            if wait is not None:
                raise TooManyRequestsException(
                    "too many failed authentication attempts from this address",
                    headers={"Retry-After": str(wait)},
                )
        # No bearer credentials at all: a plain challenge, without an error code (RFC 6750 §3.1).
        # It is not an attempt, so it is not counted.
        header = authorization_header(scope)
        if not header:
            raise NotAuthorizedException("missing bearer token")
        try:
            # A bearer token that does not work is an AuthenticationFailed: error="invalid_token".
            scheme, _, secret = header.partition(" ")
            if scheme.lower() != "bearer" or not secret.strip():
                raise NotAuthorizedException("the Authorization header must be 'Bearer <token>'")
            tokens: TokenService = container.tokens()
            return await tokens.authenticate(secret.strip(), ip)
        except (NotAuthorizedException, AuthenticationFailed):
            if key is not None:
                throttle.record_failure(key)
            raise


def admin_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Admin-only routes: 403 for everyone else (authentication ran before). OPTIONS is not
    authenticated (docs/decisions.md, "HTTP"), so it has no user to check: it passes."""
    if connection.scope.get("method") == "OPTIONS":
        return
    principal: Principal = connection.user
    require_admin(principal.user)
