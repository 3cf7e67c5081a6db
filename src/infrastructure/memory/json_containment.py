"""PostgreSQL's `jsonb @> jsonb`, in Python, for the in-memory document filter."""

from __future__ import annotations

from typing import Any


def _scalar(value: Any) -> bool:
    return not isinstance(value, dict | list)


def contains(container: Any, contained: Any, *, top_level: bool = True) -> bool:
    """True when `contained` is contained in `container` as PostgreSQL defines it: objects by
    key (recursively), arrays by element (in any order, duplicates ignored), scalars by
    equality; and, at the top level only, an array contains a scalar that is one of its
    elements. Numbers compare by value and booleans are not numbers, as in jsonb."""
    if isinstance(contained, dict):
        return isinstance(container, dict) and all(
            key in container and contains(container[key], value, top_level=False)
            for key, value in contained.items()
        )
    if isinstance(contained, list):
        if not isinstance(container, list):
            return False
        return all(
            any(contains(candidate, item, top_level=False) for candidate in container)
            for item in contained
        )
    if isinstance(container, list) and top_level:
        return any(_scalar(item) and _same_scalar(item, contained) for item in container)
    return _scalar(container) and _same_scalar(container, contained)


def _same_scalar(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b
