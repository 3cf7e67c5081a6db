"""Who is looking at a page: the signed-in `Viewer`, or nobody.

The seam the accounts work plugs into is `current_viewer`: every page asks it, through the
web router's admission hook (`interfaces.web.pages.admission`), and nothing else in the web
package knows how sessions are kept."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeAlias
from uuid import UUID

from litestar import Request
from litestar.template.base import csrf_token

from domain.users import User
from domain.values import Role


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


async def current_viewer(request: Request[Any, Any, Any]) -> Viewer | None:
    """The viewer the request's session cookie belongs to, or None for an anonymous visitor.

    For now always None: people cannot sign in yet, so every page but the sign-in page
    redirects there. The accounts work (passwords, server-side sessions) replaces this body
    with: read the session cookie, ask the container's session service
    (`request.app.state.container`) for the session's active user, and return
    `Viewer(user)` (with the user's language setting once there is one); None when there is
    no cookie, the session has expired or was ended, or the user is deactivated. It must
    not raise for a bad cookie (that is an anonymous visitor); a storage failure may raise
    and is shown as an error page.

    This is the one place a page learns who is signed in: the web router's admission hook
    calls it once per page request (never for static assets), and tests pass another
    resolver to `web_router(viewer_of=...)`."""
    return None


def form_token(request: Request[Any, Any, Any]) -> str:
    """The CSRF token each form carries in its hidden `_csrf_token` field (the template
    variable `csrf_token`): the one Litestar's CSRF middleware issued for this request (it
    checks the same form field), or "" while the app has no `csrf_config` (the accounts work
    adds one with the sessions; a different scheme replaces this body)."""
    return csrf_token({"request": request})
