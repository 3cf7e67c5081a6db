"""Where a page sends a visitor next: the sign-in page's `next` parameter, kept to this site.

`next` is taken only as a relative path on this site (`/documents?page=2`): anything a browser
could read as another origin (`//evil.example`, `/\\evil.example`, `https://...`), a control
character, a space or a non-ASCII character (browsers send paths percent-encoded), or a
path back to the sign-in page itself is dropped, and the visitor goes to the default page."""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import quote, urlsplit

from litestar import Request

SIGN_IN_PATH: Final = "/sign-in"
HOME_PATH: Final = "/documents"  # where a visitor lands without a (usable) `next`
NEXT_MAX_LENGTH: Final = 2048


def same_site_path(value: str | None) -> str | None:
    """`value` when it is a relative path on this site (with its query), else None."""
    if not value or len(value) > NEXT_MAX_LENGTH:
        return None
    if not value.startswith("/") or value.startswith("//"):
        return None
    # With these gone, a browser resolves the path on this site whatever follows (no scheme
    # can start with "/"; tests/web/test_navigation.py checks it as a property).
    if any(not "!" <= char <= "~" for char in value) or "\\" in value:
        return None
    return value


def safe_next(value: str | None) -> str | None:
    """Where the sign-in page may send a visitor on: a same-site path, not itself."""
    path = same_site_path(value)
    if path is None or urlsplit(path).path.rstrip("/") == SIGN_IN_PATH:
        return None
    return path


def requested_path(request: Request[Any, Any, Any]) -> str:
    """The path and query the browser asked for, as it sent them (percent-encoded)."""
    raw: bytes = request.scope.get("raw_path") or quote(request.scope["path"]).encode()
    raw = raw.split(b"?", 1)[0]  # some servers leave the query in it
    query: bytes = request.scope.get("query_string", b"")
    path = raw.decode("latin-1")
    return f"{path}?{query.decode('latin-1')}" if query else path


def sign_in_location(request: Request[Any, Any, Any]) -> str:
    """The sign-in page, told to come back to the page asked for (GET and HEAD only: a form
    posted by an anonymous visitor is not sent again)."""
    if request.method not in ("GET", "HEAD"):
        return SIGN_IN_PATH
    back = safe_next(requested_path(request))
    return f"{SIGN_IN_PATH}?next={quote(back, safe='')}" if back else SIGN_IN_PATH
