"""What the app refuses before routing, authentication or any handler runs: a header block
over `max_header_bytes` (431) and a URL over `max_url_bytes` (414). Answered as problem+json
by hand (no Litestar request exists yet); the app's before-send hooks still add the security
headers.

Also the `Allow` header of OPTIONS answers: Litestar's generated OPTIONS handler lists the
methods of the first handler registered at a path, not of the route it ends up in."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any, Final

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.routes import HTTPRoute
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Message,
    Receive,
    Scope,
    Send,
)

from interfaces.logging_setup import REQUEST_ID

PROBLEM_JSON: Final = b"application/problem+json"


def header_block_bytes(headers: Iterable[tuple[bytes, bytes]]) -> int:
    """The size of a header block as sent: `name: value\\r\\n` per field."""
    return sum(len(name) + len(value) + 4 for name, value in headers)


def url_bytes(scope: Scope) -> int:
    """The size of the request target: the raw path, and `?query` when there is one."""
    raw_path = scope.get("raw_path") or scope["path"].encode()
    query: bytes = scope.get("query_string", b"")
    return len(raw_path) + (len(query) + 1 if query else 0)


async def send_problem(
    send: Send,
    scope: Scope,
    status: int,
    detail: str,
    code: str,
    errors: list[dict[str, Any]] | None = None,
) -> None:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": scope["path"] if status != 414 else None,  # not echoed when too long
        "code": code,
        "request_id": REQUEST_ID.get(),
    }
    if errors:
        body["errors"] = errors
    encoded = json.dumps(body).encode()
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", PROBLEM_JSON),
            (b"content-length", str(len(encoded)).encode()),
        ],
    }
    await send(start)
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": encoded, "more_body": False}
    await send(end)


class RequestLimits:
    """ASGI middleware around the whole app (`install_request_limits`)."""

    def __init__(self, app: ASGIApp, *, max_header_bytes: int, max_url_bytes: int) -> None:
        self.app = app
        self.max_header_bytes = max_header_bytes
        self.max_url_bytes = max_url_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        if header_block_bytes(scope["headers"]) > self.max_header_bytes:
            detail = f"the request's header fields exceed {self.max_header_bytes} bytes"
            await send_problem(send, scope, 431, detail, "request_header_fields_too_large")
            return
        if url_bytes(scope) > self.max_url_bytes:
            detail = f"the request's URL (path and query) exceeds {self.max_url_bytes} bytes"
            await send_problem(send, scope, 414, detail, "uri_too_long")
            return
        await self.app(scope, receive, send)


def install_request_limits(app: Litestar, *, max_header_bytes: int, max_url_bytes: int) -> None:
    """Put `RequestLimits` in front of everything the app does (its handler runs inside the
    hooks that wrap `send`, so even these answers get the security headers)."""
    app.asgi_handler = RequestLimits(
        app.asgi_handler, max_header_bytes=max_header_bytes, max_url_bytes=max_url_bytes
    )


# --- OPTIONS ----------------------------------------------------------------------------------


def _methods_by_template(app: Litestar) -> Mapping[str, str]:
    methods: dict[str, str] | None = getattr(app.state, "allow_by_path_template", None)
    if methods is None:
        methods = {
            route.path_format: ", ".join(sorted(route.methods))
            for route in app.routes
            if isinstance(route, HTTPRoute)
        }
        app.state.allow_by_path_template = methods
    return methods


async def correct_allow_header(message: Message, scope: Scope) -> None:
    """A before-send hook: the `Allow` of an OPTIONS answer names every method of the route."""
    if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
        return
    template = scope.get("path_template")
    allow = _methods_by_template(scope["app"]).get(template) if template else None
    if allow is None:
        return
    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
    headers.append((b"allow", allow.encode()))
    message["headers"] = headers
