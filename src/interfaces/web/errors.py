"""Errors on pages are HTML pages; everywhere else they stay RFC 9457 problems.

Two layers, as Litestar chooses an exception handler: the web router's own handlers
(`PAGE_EXCEPTION_HANDLERS`) answer whatever its routes raise with a page, and
`with_page_errors` wraps the app's problem handlers for what is raised before any route is
chosen (a path no route matches, a method a route does not take): a page when a browser asks
(the request accepts text/html, as a navigation does) for a path outside the API, the docs,
the probes and the metrics; the problem as before otherwise, so a script that asks for a
wrong URL still gets JSON it can read. The status of an error is the API's
(`interfaces.http.problems.STATUS_OF`): one table either way."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Final

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from domain.errors import DomainError
from interfaces.http.problems import EXCEPTION_HANDLERS, STATUS_OF
from interfaces.logging_setup import REQUEST_ID
from interfaces.web.rendering import page

log = logging.getLogger("archivist.web")

# Paths served by something else than the web router: their errors stay problem+json.
NOT_PAGES: Final = ("/api", "/schema", "/metrics", "/health", "/ready")

ExceptionHandler = Callable[[Request[Any, Any, Any], Any], Response[Any]]


def is_page_path(path: str) -> bool:
    return not any(path == prefix or path.startswith(f"{prefix}/") for prefix in NOT_PAGES)


def wants_page(request: Request[Any, Any, Any]) -> bool:
    """Whether an error raised before routing is answered with a page: a page path, asked
    for by a browser."""
    return is_page_path(request.url.path) and "text/html" in request.headers.get("accept", "")


def _status_and_headers(exc: Exception) -> tuple[int, dict[str, str]]:
    if isinstance(exc, DomainError):
        status = next((STATUS_OF[c][0] for c in type(exc).__mro__ if c in STATUS_OF), 400)
        # The errors that say when to come back (storage unavailable, too many attempts).
        retry_after = getattr(exc, "retry_after_seconds", None)
        if isinstance(retry_after, int):
            return status, {"Retry-After": str(retry_after)}
        return status, {}
    if isinstance(exc, ValidationException):
        return 400, {}
    if isinstance(exc, HTTPException):
        status = exc.status_code if 400 <= exc.status_code < 600 else 500
        return status, dict(exc.headers or {}) if status < 500 else {}
    return 500, {}


def page_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The error page for `exc`: its status, and what a person can do next. Nothing of the
    exception's text is shown (it may name internals); the request id ties the page to the
    server's log."""
    status, headers = _status_and_headers(exc)
    if status == 500:
        # The traceback goes to the server log, never to the page.
        log.exception("unhandled error on page %s %s", request.method, request.url.path)
    return page(
        request,
        "error.html",
        status=status,
        headers=headers,
        status_code=status,
        request_id=REQUEST_ID.get(),
    )


# The router's handlers replace every key of the app's, so no API handler is chosen for a
# more specific exception type (DomainError, HTTPException) raised on a page.
PAGE_EXCEPTION_HANDLERS: Final[dict[type[Exception] | int, Any]] = dict.fromkeys(
    EXCEPTION_HANDLERS, page_error
)


def with_page_errors(
    handlers: Mapping[type[Exception] | int, ExceptionHandler],
) -> dict[type[Exception] | int, Any]:
    """The app's exception `handlers`, each answering with an error page instead when a
    browser asks for a page path (`wants_page`)."""

    def for_pages(api_handler: ExceptionHandler) -> ExceptionHandler:
        def handle(request: Request[Any, Any, Any], exc: Any) -> Response[Any]:
            if wants_page(request):
                return page_error(request, exc)
            return api_handler(request, exc)

        return handle

    return {key: for_pages(handler) for key, handler in handlers.items()}
