"""Cross-site request forgery: what the web router's admission hook checks before any
handler runs for a POST, PUT, PATCH or DELETE, so no handler can forget it.

1. **Where it comes from** (defence in depth, no cost): a request the browser marks as
   cross-site or same-site (`Sec-Fetch-Site`), or whose `Origin` names another host than
   the one asked (`Host`) or the configured `ARCHIVIST_PUBLIC_URL`, is refused. `Origin:
   null` is let through to the token check: a browser sends it for forms of pages served
   with `Referrer-Policy: no-referrer`, as all of ours are.
2. **The token**: the `X-CSRF-Token` header (scripts), else the `_csrf_token` field of a form
   (urlencoded; in a multipart body it must be the FIRST part, as browsers send a form's
   fields in document order, so the hidden input goes first in the form) must equal the
   signed-in viewer's session CSRF secret, compared in constant time. Routes that anonymous
   visitors may post to (sign-in, set-password, the language switch) also take the token of
   the browser's form cookie (`session.FORM_COOKIE`: double submit).

Reading the field leaves the body for the handler: an urlencoded form is parsed once and
kept by Litestar (`request.form()` answers again from the connection's cache), and a
multipart body is read only up to the token's part, which is taken out; the handler streams
the rest, as it arrived, from the first byte after it."""

from __future__ import annotations

import hmac
from typing import Any, Final
from urllib.parse import urlsplit

from litestar import Request
from litestar.types import HTTPReceiveMessage, ReceiveMessage
from multipart import parse_options_header  # type: ignore[import-untyped]

from interfaces.web.session import (
    CSRF_FIELD,
    CSRF_HEADER,
    Viewer,
    anonymous_form_token,
)

UNSAFE_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# `Sec-Fetch-Site` values of a request a page of this origin (or the person, typing or
# reloading) made.
_OWN_SITE: Final = frozenset({"same-origin", "none"})
# How far into a multipart body the token's part must have ended.
MULTIPART_PEEK_MAX: Final = 16 * 1024
_URLENCODED: Final = "application/x-www-form-urlencoded"
_MULTIPART: Final = "multipart/form-data"


def _host_of_public_url(request: Request[Any, Any, Any]) -> str | None:
    container = request.app.state.get("container")
    if container is None:
        return None
    public_url: str | None = container.app_settings().public_url
    return urlsplit(public_url).netloc.lower() if public_url else None


def is_cross_site(request: Request[Any, Any, Any]) -> bool:
    """Whether the browser says the request comes from another site (see the module)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site.strip().lower() not in _OWN_SITE:
        return True
    origin = request.headers.get("origin")
    if origin is None or origin.strip().lower() == "null":
        return False
    # The host and port only: behind a proxy that ends TLS the app may see http while the
    # browser says https; the scheme does not make a request cross-site.
    host = urlsplit(origin.strip()).netloc.lower()
    return host not in {request.headers.get("host", "").lower(), _host_of_public_url(request)}


def _equal(sent: str | None, expected: str | None) -> bool:
    if not sent or not expected:
        return False
    return hmac.compare_digest(sent.encode("utf-8", "replace"), expected.encode("utf-8"))


async def token_is_valid(
    request: Request[Any, Any, Any], viewer: Viewer | None, *, anonymous_route: bool
) -> bool:
    """Whether the request carries the token of its viewer (or, on a route anonymous
    visitors may post to, of the browser's form cookie)."""
    expected = [viewer.csrf_token] if viewer is not None else []
    if viewer is None or anonymous_route:
        expected.append(anonymous_form_token(request) or "")
    if not any(expected):
        return False  # nothing could match: the body stays unread
    sent = await sent_token(request)
    # Every candidate is compared, so the time taken does not tell which one matched.
    return any([_equal(sent, token) for token in expected])  # noqa: C419 (compare them all)


async def sent_token(request: Request[Any, Any, Any]) -> str | None:
    """The token the request carries: the header, else the form field."""
    header = request.headers.get(CSRF_HEADER)
    if header is not None:
        return header
    media_type, options = request.content_type
    if media_type == _URLENCODED:
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    if media_type == _MULTIPART:
        return await _take_leading_token(request, options.get("boundary"))
    return None


async def _take_leading_token(request: Request[Any, Any, Any], boundary: str | None) -> str | None:
    """The value of a multipart body's first part when it is the `_csrf_token` field; the
    request then reads the body from the next part on (the token's part taken out). None
    when the first part is something else, or has not ended within MULTIPART_PEEK_MAX bytes
    (the request is refused then, and its body is not read further)."""
    if not boundary:
        return None
    delimiter = b"--" + boundary.encode("latin-1")
    head = bytearray()
    more = True
    found: tuple[str | None, int] | None = None
    while found is None and more and len(head) <= MULTIPART_PEEK_MAX:
        message: ReceiveMessage = await request.receive()
        if message["type"] != "http.request":
            return None  # the client went away
        head += message.get("body", b"")
        more = bool(message.get("more_body", False))
        found = _leading_field(bytes(head[: MULTIPART_PEEK_MAX + 1]), delimiter)
    if found is None or found[0] is None:
        return None
    token, rest = found
    _replay(request, bytes(head[rest:]), more)
    return token


def _leading_field(head: bytes, delimiter: bytes) -> tuple[str | None, int] | None:
    """What the body's first part says, once it is all in `head`: (the token, where the next
    part's delimiter starts), or (None, 0) when the first part is not the token field; None
    while more of the body is needed."""
    opening = delimiter + b"\r\n"
    if len(head) < len(opening):
        return None if opening.startswith(head) else (None, 0)
    if not head.startswith(opening):
        return (None, 0)  # browsers send no preamble
    headers_end = head.find(b"\r\n\r\n", len(opening))
    if headers_end < 0:
        return None
    name = None
    for line in head[len(opening) : headers_end].split(b"\r\n"):
        field, _, value = line.decode("latin-1").partition(":")
        if field.strip().lower() == "content-disposition":
            disposition, params = parse_options_header(value.strip())
            if disposition.lower() == "form-data" and "filename" not in params:
                name = params.get("name")
    if name != CSRF_FIELD:
        return (None, 0)
    value_start = headers_end + 4
    value_end = head.find(b"\r\n" + delimiter, value_start)
    if value_end < 0:
        return None
    try:
        return head[value_start:value_end].decode("ascii"), value_end + 2
    except UnicodeDecodeError:
        return (None, 0)


def _replay(request: Request[Any, Any, Any], rest: bytes, more: bool) -> None:
    """Make the request's body read `rest` first, then what is still to come."""
    receive = request.receive
    pending: list[HTTPReceiveMessage] = [{"type": "http.request", "body": rest, "more_body": more}]

    async def replayed() -> ReceiveMessage:
        if pending:
            return pending.pop()
        return await receive()

    request.receive = replayed
