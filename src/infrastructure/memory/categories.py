"""In-memory repository of document categories, ordered and checked as in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from domain.documents import Category
from infrastructure import constraints
from infrastructure.constraints import conflict
from infrastructure.memory.documents import utf8
from infrastructure.memory.table import StagedTable


class InMemoryCategoryRepository:
    def __init__(self, table: StagedTable[UUID, Category]) -> None:
        self._t = table

    async def add(self, category: Category) -> None:
        if self._t.find(lambda c: c.name == category.name) is not None:
            raise conflict(constraints.UQ_CATEGORIES_NAME)
        self._t.put(category.id, category)

    async def get(self, category_id: UUID) -> Category | None:
        return self._t.get(category_id)

    async def get_by_name(self, name: str) -> Category | None:
        return self._t.find(lambda c: c.name == name)

    async def list(self) -> Sequence[Category]:
        return sorted(self._t.values(), key=lambda c: utf8(c.name))

    async def update(self, category: Category) -> None:
        clash = self._t.find(lambda c: c.name == category.name and c.id != category.id)
        if clash is not None:
            raise conflict(constraints.UQ_CATEGORIES_NAME)
        self._t.patch(
            category.id,
            name=category.name,
            description=category.description,
            is_active=category.is_active,
        )

    async def delete(self, category_id: UUID) -> None:
        self._t.remove(category_id)
