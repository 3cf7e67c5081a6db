"""A committed map of rows plus one unit of work's pending inserts and column patches."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class StagedTable(Generic[K, V]):
    """Reads see the committed rows with this unit of work's changes on top.

    Updates are kept as column patches, not whole rows, so committing an update of some
    columns never overwrites columns another unit of work changed meanwhile: the same
    "last writer wins per column it sets" that an SQL UPDATE gives.
    """

    def __init__(self, committed: dict[K, V]) -> None:
        self._committed = committed
        self._inserted: dict[K, V] = {}
        self._patches: dict[K, dict[str, Any]] = {}
        self._deleted: set[K] = set()
        # Key -> (column, value) the committed row must still hold when this unit commits.
        self._expected: dict[K, tuple[str, Any]] = {}

    def get(self, key: K) -> V | None:
        if key in self._deleted:
            return None
        row = self._inserted.get(key)
        if row is None:
            row = self._committed.get(key)
        if row is None:
            return None
        patch = self._patches.get(key)
        if patch:
            row = dataclasses.replace(row, **patch)  # type: ignore[type-var]
        return copy.deepcopy(row)

    def all_keys(self) -> Iterator[K]:
        for key in list(self._committed):
            if key not in self._deleted:
                yield key
        yield from (k for k in self._inserted if k not in self._committed)

    def values(self) -> Iterator[V]:
        for key in list(self.all_keys()):
            row = self.get(key)
            if row is not None:
                yield row

    def find(self, predicate: Callable[[V], bool]) -> V | None:
        return next((row for row in self.values() if predicate(row)), None)

    def exists(self, key: K) -> bool:
        return key in self._inserted or (key in self._committed and key not in self._deleted)

    def put(self, key: K, row: V) -> None:
        """Insert, or replace the whole row (an upsert)."""
        self._inserted[key] = copy.deepcopy(row)
        self._patches.pop(key, None)
        self._deleted.discard(key)

    def patch(self, key: K, **columns: Any) -> bool:
        if not self.exists(key):
            return False
        self._patches.setdefault(key, {}).update(copy.deepcopy(columns))
        return True

    def expect(self, key: K, column: str, value: Any) -> None:
        """Make committing this unit's writes depend on the committed row still holding
        `value` in `column` (the first expectation per row counts: the one read from others'
        rows; later ones are this unit's own changes). A row this unit inserted needs none."""
        if key not in self._inserted:
            self._expected.setdefault(key, (column, value))

    def stale(self) -> list[K]:
        """The rows whose expectation no longer holds: another unit of work changed or
        deleted them after this one read them."""
        out = []
        for key, (column, value) in self._expected.items():
            row = self._committed.get(key)
            if row is None or getattr(row, column) != value:
                out.append(key)
        return out

    def remove(self, key: K) -> bool:
        """Delete a row; True if there was one."""
        existed = self.exists(key)
        self._inserted.pop(key, None)
        self._patches.pop(key, None)
        if key in self._committed:
            self._deleted.add(key)
        return existed

    def pending(self) -> Iterator[tuple[K, V]]:
        """The rows this unit of work would write, as they would be after commit."""
        for key in {**self._inserted, **self._patches}:
            row = self.get(key)
            if row is not None:
                yield key, row

    def apply(self) -> None:
        for key in self._deleted:
            self._committed.pop(key, None)
        for key, row in self._inserted.items():
            self._committed[key] = row
        for key, patch in self._patches.items():
            if key in self._committed:
                self._committed[key] = dataclasses.replace(  # type: ignore[type-var]
                    self._committed[key], **patch
                )
        self.discard()

    def discard(self) -> None:
        self._inserted.clear()
        self._patches.clear()
        self._deleted.clear()
        self._expected.clear()
