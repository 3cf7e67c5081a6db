"""The request id and the access log: a pure-ASGI middleware around the whole app.

Each request gets an id: the client's `X-Request-ID` when it is sane (1-128 characters of
`A-Z a-z 0-9 - _ . : + / =`: a UUID, a trace id, base64), else a new one (16 hex digits). The
id is echoed in the response's `X-Request-ID`, held in `logging_setup.REQUEST_ID` while the
request is handled (so every log line of the request carries it, and problem details do), and
ends the request's access log line:

    GET /api/v1/documents?q&limit 200 3.1 ms client=10.0.0.7

The path is logged without the query string's values, only its parameter names: values can be
search terms, e-mail addresses or anything else a client sends (never a token: those travel in
`Authorization`). The line is logged at INFO (`archivist.access`), at DEBUG for the probes and
the scrape (`/health`, `/ready`, `/metrics`), which would otherwise be most of the log.

On the hot path: a scan of the request's headers, a context variable set and reset, one header
added; the access line only when its logger is enabled. It wraps everything else the app
installs (request limits, metrics), so a 414/431 answered before routing has an id too."""

from __future__ import annotations

import logging
import os
import re
import time
from typing import Final

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from interfaces.logging_setup import ACCESS_LOGGER, REQUEST_ID

HEADER: Final = b"x-request-id"
MAX_LENGTH: Final = 128
_SANE: Final = re.compile(rb"[A-Za-z0-9\-_.:+/=]{1,%d}" % MAX_LENGTH)
_QUIET_PREFIXES: Final = ("/health", "/ready", "/metrics")

access_log = logging.getLogger(ACCESS_LOGGER)


def new_request_id() -> str:
    return os.urandom(8).hex()


def accepted_request_id(value: bytes) -> str | None:
    """The client's id if it is sane, else None (a new one is made)."""
    return value.decode("ascii") if _SANE.fullmatch(value) else None


def loggable_target(path: str, query: bytes) -> str:
    """The path and the query string's parameter names (no values); characters that could
    break a line or a terminal are escaped."""
    if query:
        names = (part.split(b"=", 1)[0] for part in query.split(b"&") if part)
        path = f"{path}?{b'&'.join(names).decode('latin-1')}"
    if not path.isprintable():
        path = path.encode("unicode_escape").decode("ascii")
    return path


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope["headers"]:
            if name == HEADER:
                request_id = accepted_request_id(value)
                break
        if request_id is None:
            request_id = new_request_id()
        echoed = (HEADER, request_id.encode("ascii"))
        status = 500  # unless a response starts: nothing was answered

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), echoed]
            await send(message)

        token = REQUEST_ID.set(request_id)
        start = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            path: str = scope["path"]
            level = logging.DEBUG if path.startswith(_QUIET_PREFIXES) else logging.INFO
            if access_log.isEnabledFor(level):
                _log_access(scope, level, status, time.perf_counter() - start)
            REQUEST_ID.reset(token)


def _log_access(scope: HTTPScope, level: int, status: int, seconds: float) -> None:
    target = loggable_target(scope["path"], scope.get("query_string", b""))
    client = scope.get("client")
    host = client[0] if client else "-"
    ms = round(seconds * 1000, 1)
    method = scope["method"]
    access_log.log(
        level,
        "%s %s %d %.1f ms client=%s",
        method,
        target,
        status,
        ms,
        host,
        extra={
            "method": method,
            "path": target,
            "status": status,
            "duration_ms": ms,
            "client": host,
        },
    )


def install_request_log(app: Litestar) -> None:
    """Wrap `app`'s ASGI handler (call it last: everything installed before is inside)."""
    app.asgi_handler = RequestLogMiddleware(app.asgi_handler)
