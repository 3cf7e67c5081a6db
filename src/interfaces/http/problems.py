"""RFC 9457 problem details: the one table mapping errors to statuses, and the handlers."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any, Final

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    ValidationException,
)
from litestar.openapi.datastructures import ResponseSpec
from pydantic import BaseModel

from domain.errors import (
    AuthenticationFailed,
    Conflict,
    ContentMismatch,
    DomainError,
    ExtractionLimitExceeded,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    StorageUnavailable,
    ThumbnailNotReady,
    TooLarge,
    TooManyAttempts,
    UnsupportedType,
    ValidationFailed,
)
from domain.taxonomy import TaxonomyNodeNotFound, format_path
from interfaces.logging_setup import REQUEST_ID

log = logging.getLogger("archivist.http")

PROBLEM_JSON: Final = "application/problem+json"
WWW_AUTHENTICATE: Final = 'Bearer realm="archivist"'

# One place: domain error -> (HTTP status, machine-readable code).
STATUS_OF: Final[dict[type[DomainError], tuple[int, str]]] = {
    ValidationFailed: (422, "validation_failed"),
    NotFound: (404, "not_found"),
    ThumbnailNotReady: (404, "thumbnail_not_ready"),
    Conflict: (409, "conflict"),
    PreconditionFailed: (412, "precondition_failed"),
    PermissionDenied: (403, "forbidden"),
    AuthenticationFailed: (401, "unauthenticated"),
    UnsupportedType: (415, "unsupported_media_type"),
    TooLarge: (413, "content_too_large"),
    ContentMismatch: (422, "content_mismatch"),
    ExtractionLimitExceeded: (422, "extraction_limit"),
    StorageUnavailable: (503, "service_unavailable"),
    TooManyAttempts: (429, "too_many_requests"),
}

_CODE_OF_STATUS: Final = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "content_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
    500: "internal_error",
    503: "service_unavailable",
}


class FieldProblem(BaseModel):
    field: str
    message: str
    source: str | None = None


class Problem(BaseModel):
    """An RFC 9457 problem. `code` and `errors` are Archivist's extension members."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    code: str
    errors: list[FieldProblem] | None = None
    suggestions: list[str] | None = None  # an unknown taxonomy path: the nearest existing ones
    request_id: str | None = None  # as in the X-Request-ID header and the server's log lines


def problem_response(
    request: Request[Any, Any, Any],
    status: int,
    detail: str | None,
    *,
    code: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "code": code or _CODE_OF_STATUS.get(status, "error"),
        "request_id": REQUEST_ID.get(),
    }
    if errors:
        body["errors"] = errors
    if extra:
        body.update(extra)
    if status == 401:
        # Keep a more specific challenge (error="invalid_token") when the caller gave one.
        headers = {"WWW-Authenticate": WWW_AUTHENTICATE, **(headers or {})}
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _status_of(exc: DomainError) -> tuple[int, str]:
    for cls in type(exc).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 400, "bad_request"


def _source_of(request: Request[Any, Any, Any], field: str) -> str:
    """Where a field the domain refused came from: the path, the query string or the body."""
    if field in request.path_params:
        return "path"
    if field in request.query_params:
        return "query"
    return "body"


def domain_error_handler(
    request: Request[Any, Any, Any], exc: DomainError
) -> Response[dict[str, Any]]:
    status, code = _status_of(exc)
    errors = None
    if isinstance(exc, ValidationFailed):
        errors = [
            {"field": e.field, "message": e.message, "source": _source_of(request, e.field)}
            for e in exc.errors
        ]
    headers = None
    if isinstance(exc, AuthenticationFailed):
        headers = {"WWW-Authenticate": f'{WWW_AUTHENTICATE}, error="invalid_token"'}
    if isinstance(exc, StorageUnavailable | TooManyAttempts):
        headers = {"Retry-After": str(exc.retry_after_seconds)}
    extra = None
    if isinstance(exc, TaxonomyNodeNotFound):
        code = "taxonomy_node_not_found"
        extra = {
            "path": format_path(exc.path),
            "version": exc.version,
            "suggestions": [format_path(p) for p in exc.suggestions],
        }
    return problem_response(
        request, status, exc.message, code=code, errors=errors, headers=headers, extra=extra
    )


_PYDANTIC_VALUE_ERROR: Final = "Value error, "


def _field_errors(exc: ValidationException) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            message = str(item.get("message") or item.get("msg") or "is invalid")
            out.append(
                {
                    "field": str(item.get("key") or item.get("loc") or ""),
                    # Our validators raise ValueError("is not a valid email address"); pydantic
                    # prefixes it with "Value error, ", which is noise to an API client.
                    "message": message.removeprefix(_PYDANTIC_VALUE_ERROR),
                    # Litestar labels path, query, header and cookie errors; the unlabelled
                    # ones come from validating the pydantic body model.
                    "source": item.get("source") or "body",
                }
            )
    return out


def http_exception_handler(
    request: Request[Any, Any, Any], exc: HTTPException
) -> Response[dict[str, Any]]:
    if isinstance(exc, ValidationException):
        errors = _field_errors(exc)
        if errors:
            return problem_response(request, 422, "the request is not valid", errors=errors)
        # No field errors: the body itself could not be decoded (malformed JSON and the like).
        return problem_response(request, 400, exc.detail or "the request body is malformed")
    headers = dict(exc.headers or {})
    if isinstance(exc, NotAuthorizedException):
        headers.setdefault("WWW-Authenticate", WWW_AUTHENTICATE)
    status = exc.status_code if 400 <= exc.status_code < 600 else 500
    detail = exc.detail if status < 500 else "internal server error"
    return problem_response(request, status, detail, headers=headers or None)


def unexpected_error_handler(
    request: Request[Any, Any, Any], exc: Exception
) -> Response[dict[str, Any]]:
    # The traceback goes to the server log, never to the client.
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(request, 500, "internal server error")


EXCEPTION_HANDLERS: Final[dict[type[Exception] | int, Any]] = {
    DomainError: domain_error_handler,
    HTTPException: http_exception_handler,
    Exception: unexpected_error_handler,
}


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the problem responses a route can give."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=HTTPStatus(status).phrase,
            media_type=PROBLEM_JSON,
            generate_examples=False,
        )
        for status in statuses
    }
