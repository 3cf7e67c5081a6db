"""Security headers on every response.

A before-send hook, not a middleware: Litestar runs route middleware inside its exception
handling, so responses made from exceptions (401 from authentication, 404 for an unknown path,
500) would bypass a middleware. Hooks wrap the app's `send` itself and see every response."""

from __future__ import annotations

from litestar.types import Message, Scope

_COMMON = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
)
# The API serves data, never pages: forbid everything. /schema (the docs UI) needs scripts.
_STRICT_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
# The docs page (interfaces.http.docs_ui): scripts, styles, images and requests from this
# origin only, so nothing it loads can come from elsewhere. Swagger UI sets inline styles;
# it shows image responses ("Try it out") from blob: URLs.
_DOCS_CSP = (
    b"content-security-policy",
    b"default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; "
    b"frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
)
# The web interface's pages (interfaces.web): scripts, styles and images from this origin
# only, no inline script or style; forms post, and scripts send requests (the upload page's
# files, its processing state), to this origin only.
_PAGE_CSP = (
    b"content-security-policy",
    b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    b"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
)
_NO_STORE = (b"cache-control", b"no-store")
# The four sets, built once (this runs on every response).
_API_HEADERS: tuple[tuple[bytes, bytes], ...] = (*_COMMON, _STRICT_CSP, _NO_STORE)
_SCHEMA_HEADERS: tuple[tuple[bytes, bytes], ...] = (*_COMMON, _DOCS_CSP)
# A page may show what only its viewer may see: never stored by a cache or the browser.
_PAGE_HEADERS: tuple[tuple[bytes, bytes], ...] = (*_COMMON, _PAGE_CSP, _NO_STORE)
_OTHER_HEADERS: tuple[tuple[bytes, bytes], ...] = (*_COMMON, _STRICT_CSP)


def _is_html(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(
        name.lower() == b"content-type" and value.startswith(b"text/html")
        for name, value in headers
    )


async def add_security_headers(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start":
        return
    path: str = scope["path"]
    if path.startswith("/api/"):
        extra = _API_HEADERS
    elif path.startswith("/schema"):
        extra = _SCHEMA_HEADERS
    else:
        extra = _OTHER_HEADERS
    headers = list(message.get("headers", []))
    if extra is _OTHER_HEADERS and _is_html(headers):
        extra = _PAGE_HEADERS
    present = {name.lower() for name, _ in headers}
    headers.extend(h for h in extra if h[0] not in present)
    message["headers"] = headers
