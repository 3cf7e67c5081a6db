"""The web router: the pages, their static assets, and who may see which.

Every page requires a signed-in viewer unless its handler says otherwise
(`opt={ACCESS: ...}`): the admission hook (`admission`) runs before each handler of the
router, asks `current_viewer` once, keeps the answer on `request.state`, and sends an
anonymous visitor of any other page to the sign-in page with `next` set to where they were
going (303). Forgetting the option keeps a new page private."""

from __future__ import annotations

import enum
from datetime import timedelta
from typing import Any, Final

from litestar import Controller, Request, Response, Router, get, post
from litestar.datastructures import CacheControlHeader, Cookie
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.types import BeforeRequestHookHandler

from domain.errors import ValidationFailed
from interfaces.http.validation import refuse_unstorable_query
from interfaces.web.errors import PAGE_EXCEPTION_HANDLERS
from interfaces.web.i18n import LANGUAGE_COOKIE, LANGUAGES
from interfaces.web.navigation import (
    HOME_PATH,
    SIGN_IN_PATH,
    safe_next,
    same_site_path,
    sign_in_location,
)
from interfaces.web.rendering import (
    STATIC_DIR,
    STATIC_PATH,
    VIEWER_STATE,
    page,
    signed_in_viewer,
)
from interfaces.web.session import ViewerResolver, current_viewer

ACCESS: Final = "web_access"
LANGUAGE_COOKIE_AGE: Final = timedelta(days=365)


class Access(enum.StrEnum):
    """Who may see a route of the web router (its handler's `opt[ACCESS]`)."""

    SIGNED_IN = "signed_in"  # the default: a viewer, else a redirect to the sign-in page
    ANONYMOUS = "anonymous"  # anyone; the viewer, if any, is looked up (the sign-in page)
    PUBLIC = "public"  # anyone, and no one is looked up (assets, redirects, the language)


def admission(viewer_of_request: ViewerResolver) -> BeforeRequestHookHandler:
    """The router's before-request hook. (It replaces the app's for this router, so it
    runs the app's query check itself, after admission as the API does after
    authentication.)"""

    async def admit(request: Request[Any, Any, Any]) -> Response[Any] | None:
        access = Access(request.route_handler.opt.get(ACCESS, Access.SIGNED_IN))
        # OPTIONS (Litestar's own handler) names the methods and shows nothing.
        if access is Access.PUBLIC or request.method == "OPTIONS":
            return None
        viewer = await viewer_of_request(request)
        request.state[VIEWER_STATE] = viewer
        if viewer is None and access is Access.SIGNED_IN:
            return Redirect(sign_in_location(request), status_code=303)
        await refuse_unstorable_query(request)
        return None

    return admit


class PagesController(Controller):
    path = "/"
    include_in_schema = False

    @get("/", opt={ACCESS: Access.PUBLIC})
    async def home(self) -> Redirect:
        return Redirect(HOME_PATH, status_code=303)

    @get(SIGN_IN_PATH, opt={ACCESS: Access.ANONYMOUS})
    async def sign_in(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """The sign-in form. Someone already signed in goes on to `next`."""
        back = safe_next(request.query_params.get("next"))
        if signed_in_viewer(request) is not None:
            return Redirect(back or HOME_PATH, status_code=303)
        return page(request, "sign_in.html", next_path=back)

    @get(HOME_PATH)
    async def documents(self, request: Request[Any, Any, Any]) -> Template:
        return page(request, "documents.html")

    @post("/language", opt={ACCESS: Access.PUBLIC}, status_code=303)
    async def choose_language(self, request: Request[Any, Any, Any]) -> Redirect:
        """The language switch: remembers the choice in a cookie (a year) and goes back."""
        form = await request.form()
        language = form.get("lang")
        if language not in LANGUAGES:
            raise ValidationFailed.on("lang", f"must be one of {', '.join(LANGUAGES)}")
        wanted = form.get("next")
        back = same_site_path(wanted if isinstance(wanted, str) else None) or HOME_PATH
        cookie = Cookie(
            key=LANGUAGE_COOKIE,
            value=language,
            max_age=int(LANGUAGE_COOKIE_AGE.total_seconds()),
            path="/",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
        return Redirect(back, status_code=303, cookies=[cookie])


def web_router(*, viewer_of: ViewerResolver = current_viewer) -> Router:
    """The pages at `/` and their assets at /static. `viewer_of`: who is signed in (the
    seam of `current_viewer`; tests pass their own)."""
    assets = create_static_files_router(
        path=STATIC_PATH,
        directories=[STATIC_DIR],
        name="web-static",
        # Revalidated on every load: the names stay the same across releases.
        cache_control=CacheControlHeader(no_cache=True),
        include_in_schema=False,
        opt={ACCESS: Access.PUBLIC},
    )
    return Router(
        path="/",
        route_handlers=[PagesController, assets],
        before_request=admission(viewer_of),
        exception_handlers=PAGE_EXCEPTION_HANDLERS,
        include_in_schema=False,
    )
