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
    (a NUL) is a 422 naming it, on every route, before any handler or query runs."""
    errors = query_problems(request.scope.get("query_string", b""))
    if errors:
        raise ValidationFailed("the query string is not valid", errors)
