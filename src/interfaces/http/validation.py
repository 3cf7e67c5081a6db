"""Checks every request input goes through before a handler sees it: text PostgreSQL can
store, in JSON bodies (`StoredText`, the base of every request schema) and query parameters
(`refuse_unstorable_query`, a before-request hook: after authentication, before parameters
are parsed), and a JSON body no decoder chokes on (`ArchivistRequest`). Upload form fields
are checked where they are decoded (`uploads.py`).

The rules themselves live in the domain (`domain.values`): this module only applies them at
the edge, so a bad value is a 422 naming its field instead of a 500 from the driver."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from litestar import Request
from litestar.exceptions import ClientException
from pydantic import BaseModel, ValidationInfo, field_validator

from domain.errors import FieldError, ValidationFailed
from domain.values import text_problem

__all__ = [
    "ArchivistRequest",
    "StoredText",
    "nested_text_problem",
    "query_problems",
    "refuse_unstorable_query",
]


def nested_text_problem(value: Any) -> str | None:
    """The first reason a string in `value` (or a key, at any depth) cannot be stored as
    text, or None. Iterative: the value may nest deeper than the stack would allow."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            problem = text_problem(node)
            if problem is not None:
                return problem
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list | tuple):
            stack.extend(node)
    return None


class StoredText(BaseModel):
    """Refuses, in every field of every request schema deriving from it, a string PostgreSQL
    text cannot hold (NUL, lone surrogates), wherever it sits: a field, a list item, a key
    or value of a JSON object."""

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, BaseModel):  # a nested schema checked its own fields
            return value
        problem = nested_text_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value


class ArchivistRequest(Request[Any, Any, Any]):
    """A JSON body that cannot be decoded is a 400, whatever the reason: bytes that are not
    UTF-8, or nesting deeper than the decoder's recursion limit (msgspec raises those as
    themselves, not as a decoding error)."""

    async def json(self) -> Any:
        try:
            return await super().json()
        except RecursionError:
            raise ClientException("the JSON body is nested too deeply") from None
        except UnicodeDecodeError:
            raise ClientException("the JSON body is not valid UTF-8") from None


def query_problems(query_string: bytes) -> list[FieldError]:
    """A field error for every query parameter whose name or value cannot be stored as text."""
    errors: list[FieldError] = []
    if not query_string:
        return errors
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, errors="replace")
    for name, value in pairs:
        problem = text_problem(name) or text_problem(value)
        if problem is not None:
            errors.append(FieldError(name, problem))
    return errors


async def refuse_unstorable_query(request: Request[Any, Any, Any]) -> None:
    """The app's before-request hook: a query parameter holding text PostgreSQL cannot store
    (a NUL) is a 422 naming it, on every route, before any handler or query runs; so is a
    query parameter a list route does not take (`?title=` on the documents listing would
    otherwise be ignored, and the answer look filtered). Nothing to do for a request without
    a query string (most of them: `GET /me`, downloads)."""
    query_string = request.scope.get("query_string", b"")
    if not query_string:
        return
    errors = query_problems(query_string)
    if not errors and request.scope["method"] == "GET":
        errors = unknown_query_parameters(request, query_string)
    if errors:
        raise ValidationFailed("the query string is not valid", errors)


def unknown_query_parameters(
    request: Request[Any, Any, Any], query_string: bytes
) -> list[FieldError]:
    """A field error for each query parameter name the route's handler does not take (each
    name once, in order), on list routes (`_known_query_names`); none elsewhere."""
    known = _known_query_names(request)
    if known is None:
        return []
    names = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, errors="replace")
    unknown = dict.fromkeys(name for name, _ in names if name not in known)
    return [FieldError(name, "is not a parameter of this route") for name in unknown]


# Per route handler: the query parameter names it takes (its own and its dependencies'), or
# None where unknown names are let through. Handlers live as long as their app, and an app
# has a few dozen; the dict holds them (they are not weak-referenceable).
_KNOWN: dict[Any, frozenset[str] | None] = {}


def _known_query_names(request: Request[Any, Any, Any]) -> frozenset[str] | None:
    handler = request.route_handler
    try:
        return _KNOWN[handler]
    except KeyError:
        pass
    # A list route answers a `ListOf` page. Other routes let unknown names through: a
    # client's cache-buster on a download, or tracing parameters on `GET /me`, harm no one.
    from interfaces.http.schemas.common import ListOf  # it imports this module

    known: frozenset[str] | None = None
    answers = handler.parsed_fn_signature.return_type.annotation
    if isinstance(answers, type) and issubclass(answers, ListOf):
        # Litestar's own model of what the handler reads from the request: the names it
        # reads query parameters by (aliases included), from its dependencies too. Only
        # the path parameters' names count here.
        path_parameters: dict[str, Any] = dict.fromkeys(request.path_params)
        model = handler.create_kwargs_model(path_parameters=path_parameters)
        known = frozenset(p.field_alias for p in model.expected_query_params)
    _KNOWN[handler] = known
    return known
