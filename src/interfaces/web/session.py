"""Who is looking at a page: the signed-in `Viewer`, or nobody; and the cookies that say so.

The seam is `current_viewer`: every page asks it, through the web router's admission hook
(`interfaces.web.pages.admission`), and nothing else in the web package knows how sessions
are kept. The cookies (docs/decisions.md, "Web interface: sessions and CSRF"):

- the session cookie `archivist_session` (`__Host-archivist_session` over HTTPS) holds the
  secret of a server-side session (`application.accounts`): HttpOnly, SameSite=Lax, Path=/,
  Secure over HTTPS, Max-Age until the session's absolute end;
- the form cookie `archivist_csrf` (`__Host-archivist_csrf` over HTTPS) holds a random token
  for the forms of anonymous visitors (sign-in, set-password, the language switch): the
  double-submit pattern, HttpOnly, SameSite=Strict, for the browser's session. A signed-in
  viewer's forms carry their session's CSRF secret instead.

Over HTTPS means the request's scheme as the app sees it: behind a proxy that ends TLS, run
`archivist serve --proxy-headers` (and `--forwarded-allow-ips`) so the scheme is the
client's (uvicorn takes it from X-Forwarded-Proto)."""

from __future__ import annotations

import secrets
import string
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, TypeAlias
from uuid import UUID

from litestar import Request
from litestar.datastructures import Cookie

from application.accounts import AccountService
from domain.errors import AuthenticationFailed
from domain.users import User
from domain.values import Role
from interfaces.http.auth import client_ip

SESSION_COOKIE: Final = "archivist_session"
FORM_COOKIE: Final = "archivist_csrf"
# Over HTTPS: a cookie so named is kept by a browser only if Secure, Path=/ and without a
# Domain, so no other host (a sibling subdomain) and no plain-HTTP response can set it.
SECURE_PREFIX: Final = "__Host-"
CSRF_FIELD: Final = "_csrf_token"  # the hidden field of every form
CSRF_HEADER: Final = "X-CSRF-Token"  # what a script sends instead
# What the admission hook leaves on `request.state`: the viewer (absent where it did not run:
# a path no route matched).
VIEWER_STATE: Final = "viewer"
# What `form_token` minted for this request, for `page()` to set as the form cookie.
_MINTED_STATE: Final = "minted_form_token"
_TOKEN_CHARS: Final = frozenset(string.ascii_letters + string.digits + "-_")


@dataclass(frozen=True, slots=True)
class Viewer:
    """The person signed in to the browser making the request.

    `language`: the interface language the user chose in their settings ("en", "ko"), which
    outranks the browser's; None until users have such a setting. `session_id`: the
    server-side session the browser holds (None for a viewer made by a test's resolver).
    `csrf_token`: what every form and script of this session sends back with a POST, PUT,
    PATCH or DELETE (the hidden field `_csrf_token`, or the `X-CSRF-Token` header)."""

    user: User
    language: str | None = None
    session_id: UUID | None = None
    csrf_token: str = ""

    @property
    def name(self) -> str:
        return self.user.name

    @property
    def is_admin(self) -> bool:
        return self.user.is_admin

    @property
    def may_upload(self) -> bool:
        """Guests read; they are shown no upload (issue #14, "same rules as the API")."""
        return self.user.role is not Role.GUEST


ViewerResolver: TypeAlias = Callable[[Request[Any, Any, Any]], Awaitable[Viewer | None]]


def is_https(request: Request[Any, Any, Any]) -> bool:
    """Whether the browser reached the app over HTTPS (see the module's note on proxies)."""
    return request.scope.get("scheme") == "https"


def cookie_name(request: Request[Any, Any, Any], name: str) -> str:
    """`name` as this request's cookies carry it: with the `__Host-` prefix over HTTPS."""
    return f"{SECURE_PREFIX}{name}" if is_https(request) else name


def account_service(request: Request[Any, Any, Any]) -> AccountService:
    service: AccountService = request.app.state.container.accounts()
    return service


async def current_viewer(request: Request[Any, Any, Any]) -> Viewer | None:
    """The viewer the request's session cookie belongs to, or None for an anonymous visitor:
    no cookie, a malformed or unknown one, an ended or expired session, an inactive user.
    One indexed lookup (the session with its user); the session service writes down its use
    at most once a minute. A bad cookie never raises; a storage failure does (an error
    page)."""
    secret = request.cookies.get(cookie_name(request, SESSION_COOKIE))
    if not secret:
        return None
    try:
        principal = await account_service(request).resume(secret, client_ip(request))
    except AuthenticationFailed:
        return None
    return Viewer(principal.user, session_id=principal.session_id, csrf_token=principal.csrf_secret)


def session_cookie(request: Request[Any, Any, Any], secret: str, max_age: int) -> Cookie:
    """The cookie that signs this browser in with the session `secret`."""
    return Cookie(
        key=cookie_name(request, SESSION_COOKIE),
        value=secret,
        max_age=max(0, max_age),
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request),
    )


def ended_session_cookie(request: Request[Any, Any, Any]) -> Cookie:
    """What makes the browser forget its session cookie (with the same flags: a `__Host-`
    cookie can only be replaced by a Secure one)."""
    return session_cookie(request, "", 0)


def well_formed_token(value: str | None) -> bool:
    return value is not None and 32 <= len(value) <= 128 and set(value) <= _TOKEN_CHARS


def anonymous_form_token(request: Request[Any, Any, Any]) -> str | None:
    """The token of the browser's form cookie, if it holds a well-formed one."""
    value = request.cookies.get(cookie_name(request, FORM_COOKIE))
    return value if well_formed_token(value) else None


def form_token(request: Request[Any, Any, Any]) -> str:
    """The CSRF token each form of this page carries in its hidden `_csrf_token` field (the
    template variable `csrf_token`): the signed-in viewer's session CSRF secret; for an
    anonymous visitor the token of their form cookie, minted now if they have none
    (`page()` then sets the cookie: `form_cookies`)."""
    viewer = request.state.get(VIEWER_STATE)
    if isinstance(viewer, Viewer) and viewer.csrf_token:
        return viewer.csrf_token
    token = anonymous_form_token(request) or request.state.get(_MINTED_STATE)
    if not token:
        token = request.state[_MINTED_STATE] = secrets.token_urlsafe(32)
    return str(token)


def form_cookies(request: Request[Any, Any, Any]) -> list[Cookie]:
    """The form cookie to set with this response, if `form_token` minted a token for it."""
    minted = request.state.get(_MINTED_STATE)
    if not minted:
        return []
    return [
        Cookie(
            key=cookie_name(request, FORM_COOKIE),
            value=minted,
            path="/",
            httponly=True,
            samesite="strict",
            secure=is_https(request),
        )
    ]
