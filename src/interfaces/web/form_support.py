"""What the taxonomy and administration pages share: the use cases of the app's container,
the `RequestContext` a page calls them with, who may see an admin page, and forms read and
checked as the API checks its bodies, so a refused field carries the API's message.

Validation: a form is read into plain text fields (`form_fields`), turned into the API's own
request schema (`checked`: the same pydantic model the controller takes, so the same limits
and messages) and handed to the same use case; a `ValidationFailed` of the schema or of the
use case becomes `field_errors` the template shows beside each field."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar
from urllib.parse import urlencode
from uuid import UUID

from litestar import Request
from pydantic import BaseModel
from pydantic import ValidationError as SchemaError

from application.context import RequestContext
from domain.errors import DomainError, FieldError, PermissionDenied, ValidationFailed
from domain.pagination import Page
from infrastructure.container import Container
from interfaces.http.auth import client_ip
from interfaces.http.problems import STATUS_OF
from interfaces.web.rendering import signed_in_viewer
from interfaces.web.session import CSRF_FIELD, Viewer

Model = TypeVar("Model", bound=BaseModel)
T = TypeVar("T")

_PYDANTIC_VALUE_ERROR: Final = "Value error, "


class Fields(dict[str, str]):
    """A form's values or messages by field name, for a template: a field not given reads
    as None (the templates' undefined names are errors otherwise)."""

    def __missing__(self, key: str) -> None:
        return None


def services(request: Request[Any, Any, Any]) -> Container:
    """The app's container: the same use cases the API's providers hand its controllers."""
    container: Container = request.app.state.container
    return container


def viewer_of(request: Request[Any, Any, Any]) -> Viewer:
    """The signed-in viewer (the admission hook let no one else through)."""
    viewer = signed_in_viewer(request)
    if viewer is None:  # pragma: no cover - the admission hook redirects first
        raise PermissionDenied("sign in first")
    return viewer


def admin_viewer(request: Request[Any, Any, Any]) -> Viewer:
    """The viewer of an administration page: `PermissionDenied` (the 403 page) for anyone
    but an active administrator, as the API's `admin_guard`."""
    viewer = viewer_of(request)
    if not viewer.user.is_active_admin:
        raise PermissionDenied("this page is for administrators")
    return viewer


def use_case_context(request: Request[Any, Any, Any]) -> RequestContext:
    """The caller of a use case, as the API's `provide_context` makes it."""
    return RequestContext(
        actor=viewer_of(request).user,
        client_ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )


async def form_fields(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The posted form's text fields (the first value of each), without the CSRF token."""
    form = await request.form()
    fields: dict[str, str] = {}
    for name, value in form.multi_items():
        if isinstance(value, str) and name != CSRF_FIELD and name not in fields:
            fields[name] = value
    return fields


def query_fields(request: Request[Any, Any, Any], names: tuple[str, ...]) -> dict[str, str]:
    """The query parameters `names` that were given and are not blank, stripped."""
    found: dict[str, str] = {}
    for name in names:
        value = request.query_params.get(name)
        if isinstance(value, str) and value.strip():
            found[name] = value.strip()
    return found


def field_errors(error: ValidationFailed) -> dict[str, str]:
    """The message of each refused field (the first, if one is refused twice); a refusal
    naming no field is kept under "" for the form as a whole."""
    found: dict[str, str] = {}
    for problem in error.errors or [FieldError("", error.message)]:
        found.setdefault(problem.field, problem.message)
    return found


def errors_of(error: DomainError, field: str) -> dict[str, str]:
    """A refused form's messages: each refused field's of a `ValidationFailed`; any other
    refusal (a conflict: the name is taken) beside `field`, the one it is about."""
    if isinstance(error, ValidationFailed):
        return field_errors(error)
    return {field: error.message}


@dataclass(frozen=True, slots=True)
class Listed(Generic[T]):
    """A page of a listing filtered from the query string: its items and the next page's
    cursor, or, when a filter is refused, no items and each refused field's message."""

    items: list[T]
    next_cursor: str | None
    errors: dict[str, str]


async def listed(read: Callable[[], Awaitable[Page[T]]]) -> Listed[T]:
    """`read()` (building its filter from the query string may refuse it too) as a
    `Listed`: a refused filter is shown beside its field, with a 422, not an error page."""
    try:
        found = await read()
    except ValidationFailed as error:
        return Listed([], None, field_errors(error))
    return Listed(list(found.items), found.next_cursor, {})


def schema_refusal(error: SchemaError) -> ValidationFailed:
    """A schema's refusal as the API words it (`interfaces.http.problems`): the field, and
    pydantic's message without its "Value error, " prefix."""
    problems = [
        FieldError(
            ".".join(str(part) for part in item["loc"]) or "",
            str(item["msg"]).removeprefix(_PYDANTIC_VALUE_ERROR),
        )
        for item in error.errors()
    ]
    return ValidationFailed("the request is not valid", problems)


def status_of(error: DomainError) -> int:
    """The HTTP status the API answers `error` with (one table: `STATUS_OF`)."""
    return next((STATUS_OF[c][0] for c in type(error).__mro__ if c in STATUS_OF), 400)


def checked(model: type[Model], data: Mapping[str, Any]) -> Model:
    """`data` as the API's request schema `model`; `ValidationFailed` naming each refused
    field otherwise."""
    try:
        return model.model_validate(dict(data))
    except SchemaError as error:
        raise schema_refusal(error) from None


def optional(value: str | None) -> str | None:
    """A text field left blank is a field not given."""
    return value if value is not None and value.strip() else None


def whole_number(fields: Mapping[str, str], name: str) -> int | None:
    """An optional whole-number field: None when blank, `ValidationFailed` when not a
    whole number (before a schema would say it in its own words)."""
    raw = optional(fields.get(name))
    if raw is None:
        return None
    try:
        return int(raw.strip())
    except ValueError:
        raise ValidationFailed.on(name, "must be a whole number") from None


def user_id(raw: str | None, name: str) -> UUID | None:
    """An optional user id from a form or query."""
    text = optional(raw)
    if text is None:
        return None
    try:
        return UUID(text.strip())
    except ValueError:
        raise ValidationFailed.on(name, "must be a user id (a UUID)") from None


def with_query(path: str, **params: object) -> str:
    """`path` with the given non-empty parameters as its query string."""
    given = {k: str(v) for k, v in params.items() if v is not None and v != ""}
    return f"{path}?{urlencode(given)}" if given else path


def human_bytes(size: int | float | None) -> str:
    """A size for people: 0 B, 512 B, 1.5 KiB, 12 MiB."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            if unit == "B":
                return f"{int(value)} B"
            rounded = math.floor(value * 10 + 0.5) / 10
            return f"{rounded:g} {unit}"
        value /= 1024
    return f"{value:g} TiB"  # pragma: no cover - the loop returns
