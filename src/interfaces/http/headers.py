"""Security headers on every response.

A before-send hook, not a middleware: Litestar runs route middleware inside its exception
handling, so responses made from exceptions (401 from authentication, 404 for an unknown path,
500) would bypass a middleware. Hooks wrap the app's `send` itself and see every response."""

from __future__ import annotations

from litestar.types import Message, Scope

_API_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
# The API serves data, never pages: forbid everything. /schema (the docs UI) needs scripts.
_STRICT_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
_NO_STORE = (b"cache-control", b"no-store")


async def add_security_headers(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start":
        return
    path: str = scope["path"]
    extra = list(_API_HEADERS)
    if not path.startswith("/schema"):
        extra.append(_STRICT_CSP)
    if path.startswith("/api/"):
        extra.append(_NO_STORE)
    headers = list(message.get("headers", []))
    present = {name.lower() for name, _ in headers}
    headers.extend(h for h in extra if h[0] not in present)
    message["headers"] = headers
