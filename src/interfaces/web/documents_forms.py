"""The change forms of a document's page, refused: what the page shows again when a use case
says no (`Refusal`), worded from the domain's error as the API words it (`refusal`), and the
version a form carries (`version_of`, the API's If-Match)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from domain.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    ValidationFailed,
)
from domain.taxonomy import TaxonomyNodeNotFound, format_path
from interfaces.web.form_support import field_errors, status_of

# Digits of a version, as the API's If-Match takes them.
VERSION_DIGITS = 18


@dataclass(frozen=True)
class Refusal:
    """A change form refused: the page is shown again with `errors` beside the fields of
    `form`, what was typed (`values`) and `status`. `conflict`: refused because the document
    changed since the page was opened; `suggestions`: the nearest taxonomy paths."""

    form: str
    status: int
    errors: Mapping[str, str]
    values: Mapping[str, str]
    conflict: bool = False
    suggestions: list[str] = field(default_factory=list)


def refusal(form: str, error: DomainError, values: Mapping[str, str], field: str = "") -> Refusal:
    """The refusal of `form` by a use case's `error` (`field`: where a message that names no
    field of its own is shown). A document that is gone or hidden is raised again: that is
    the 404 page, whatever the form."""
    if isinstance(error, ValidationFailed):
        return Refusal(form, status_of(error), field_errors(error), values)
    if isinstance(error, PreconditionFailed):
        return Refusal(form, 409, {}, values, conflict=True)
    if isinstance(error, TaxonomyNodeNotFound):
        # The page exists; what is missing is the path typed into it (the API's 404).
        suggestions = [format_path(p) for p in error.suggestions]
        return Refusal(form, 422, {field: error.message}, values, suggestions=suggestions)
    if isinstance(error, NotFound) and error.resource != "document":
        return Refusal(form, 422, {field: error.message}, values)
    if isinstance(error, Conflict | PermissionDenied):
        return Refusal(form, status_of(error), {field: error.message}, values)
    raise error


def version_of(values: Mapping[str, str]) -> int:
    """The version the form was rendered with (its hidden `version` field)."""
    raw = (values.get("version") or "").strip()
    if not raw.isdigit() or len(raw) > VERSION_DIGITS:
        raise ValidationFailed.on("version", "the form lacks the document's version: reload")
    return int(raw)


def split_tags(raw: str | None) -> list[str]:
    """Tag names typed into one field, separated by commas."""
    return [name.strip() for name in (raw or "").split(",") if name.strip()]
