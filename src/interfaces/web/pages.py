"""The web router: the pages, their static assets, and who may see which.

Every page requires a signed-in viewer unless its handler says otherwise
(`opt={ACCESS: ...}`, `interfaces.web.access`): the admission hook (`admission`) runs before
each handler of the router, asks `current_viewer` once, keeps the answer on `request.state`,
and sends an anonymous visitor of any other page to the sign-in page with `next` set to where
they were going (303). Forgetting the option keeps a new page private.

The same hook refuses a forged POST, PUT, PATCH or DELETE with a 403 page before any handler
runs (`interfaces.web.csrf`): one from another site, or without the viewer's CSRF token."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Final

from litestar import Controller, Request, Response, Router, get, post
from litestar.datastructures import CacheControlHeader, Cookie
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.types import BeforeRequestHookHandler

from domain.errors import ValidationFailed
from interfaces.http.validation import refuse_unstorable_query
from interfaces.logging_setup import REQUEST_ID
from interfaces.web.access import ACCESS as ACCESS  # re-exported: handlers' `opt`
from interfaces.web.access import Access as Access
from interfaces.web.account import AccountController
from interfaces.web.admin import ADMIN_PAGES
from interfaces.web.csrf import UNSAFE_METHODS, is_cross_site, token_is_valid
from interfaces.web.documents import DOCUMENT_PAGES
from interfaces.web.errors import PAGE_EXCEPTION_HANDLERS
from interfaces.web.i18n import LANGUAGE_COOKIE, LANGUAGES
from interfaces.web.navigation import (
    HOME_PATH,
    same_site_path,
    sign_in_location,
)
from interfaces.web.rendering import (
    STATIC_DIR,
    STATIC_PATH,
    Message,
    page,
    translator,
)
from interfaces.web.search import SearchPageController
from interfaces.web.session import VIEWER_STATE, ViewerResolver, current_viewer
from interfaces.web.sign_in import SignInController
from interfaces.web.taxonomy import TaxonomyPages
from interfaces.web.upload import UploadPageController

LANGUAGE_COOKIE_AGE: Final = timedelta(days=365)
log = logging.getLogger("archivist.web")


def admission(viewer_of_request: ViewerResolver) -> BeforeRequestHookHandler:
    """The router's before-request hook. (It replaces the app's for this router, so it
    runs the app's query check itself, after admission as the API does after
    authentication.)

    In order: a POST, PUT, PATCH or DELETE the browser says comes from another site is
    refused (403); the viewer is looked up (not for a GET of a PUBLIC route); an anonymous
    visitor of a SIGNED_IN route goes to the sign-in page; a POST, PUT, PATCH or DELETE
    without the right CSRF token is refused (403)."""

    async def admit(request: Request[Any, Any, Any]) -> Response[Any] | None:
        access = Access(request.route_handler.opt.get(ACCESS, Access.SIGNED_IN))
        unsafe = request.method in UNSAFE_METHODS
        # OPTIONS (Litestar's own handler) names the methods and shows nothing.
        if request.method == "OPTIONS" or (access is Access.PUBLIC and not unsafe):
            return None
        if unsafe and is_cross_site(request):
            return forged(request, "it came from another site")
        viewer = await viewer_of_request(request)
        request.state[VIEWER_STATE] = viewer
        if viewer is None and access is Access.SIGNED_IN:
            return Redirect(sign_in_location(request), status_code=303)
        anonymous_route = access is not Access.SIGNED_IN
        if unsafe and not await token_is_valid(request, viewer, anonymous_route=anonymous_route):
            return forged(request, "its CSRF token was missing or wrong")
        await refuse_unstorable_query(request)
        return None

    return admit


def forged(request: Request[Any, Any, Any], why: str) -> Response[Any]:
    """The 403 page for a request refused as possibly forged: what to do about it. The log
    says why (never the token)."""
    log.info("refused %s %s as possibly forged: %s", request.method, request.url.path, why)
    _ = translator(request)
    return page(
        request,
        "error.html",
        status=403,
        status_code=403,
        request_id=REQUEST_ID.get(),
        messages=[
            Message(
                "error",
                _(
                    "This form has expired or was not sent from an Archivist page. "
                    "Reload the page and send it again."
                ),
            )
        ],
    )


class PagesController(Controller):
    path = "/"
    include_in_schema = False

    @get("/", opt={ACCESS: Access.PUBLIC})
    async def home(self) -> Redirect:
        return Redirect(HOME_PATH, status_code=303)

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
        route_handlers=[
            PagesController,
            SignInController,
            AccountController,
            *DOCUMENT_PAGES,
            assets,
            TaxonomyPages,
            *ADMIN_PAGES,
            SearchPageController,
            UploadPageController,
        ],
        before_request=admission(viewer_of),
        exception_handlers=PAGE_EXCEPTION_HANDLERS,
        include_in_schema=False,
    )
