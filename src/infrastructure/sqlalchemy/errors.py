"""Driver errors wrapped into domain errors at the adapter boundary."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from domain.errors import Conflict, ValidationFailed
from infrastructure import constraints

UNIQUE_VIOLATION = "23505"
FOREIGN_KEY_VIOLATION = "23503"
CHECK_VIOLATION = "23514"


def _sqlstate(err: IntegrityError) -> str | None:
    orig = err.orig
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if state is None and orig is not None:
        state = getattr(orig.__cause__, "sqlstate", None)
    return str(state) if state is not None else None


def _constraint(err: IntegrityError) -> str | None:
    orig = err.orig
    for candidate in (orig, getattr(orig, "__cause__", None)):
        name = getattr(candidate, "constraint_name", None)
        if name:
            return str(name)
    return None


def translate_integrity_error(err: IntegrityError) -> Exception:
    """The domain error for a constraint violation (the caller raises it `from err`)."""
    state = _sqlstate(err)
    name = _constraint(err)
    message = constraints.message(name)
    if state == CHECK_VIOLATION:
        return ValidationFailed(f"violates a rule of the data ({name})")
    return Conflict(message)
