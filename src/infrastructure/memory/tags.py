"""In-memory repository of tags, including how a tag `ensure`d by two units of work settles
on commit as PostgreSQL's `ON CONFLICT DO NOTHING` does."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from domain.documents import Tag
from domain.users import User
from infrastructure import constraints
from infrastructure.constraints import conflict
from infrastructure.memory.documents import DocTagKey, InMemoryDocumentRepository, utf8
from infrastructure.memory.table import StagedTable


class InMemoryTagRepository:
    def __init__(
        self,
        table: StagedTable[UUID, Tag],
        doc_tags: StagedTable[DocTagKey, datetime],
        documents: InMemoryDocumentRepository,
    ) -> None:
        self._t = table
        self._doc_tags = doc_tags
        self._documents = documents
        self._ensured: set[UUID] = set()  # tags this unit of work inserted through `ensure`

    def _clash(self, tag: Tag) -> bool:
        lowered = tag.name.lower()
        return self._t.find(lambda t: t.name.lower() == lowered and t.id != tag.id) is not None

    async def add(self, tag: Tag) -> None:
        if self._clash(tag):
            raise conflict(constraints.UQ_TAGS_NAME_LOWER)
        self._t.put(tag.id, tag)

    async def ensure(self, tag: Tag) -> Tag:
        lowered = tag.name.lower()
        existing = self._t.find(lambda t: t.name.lower() == lowered)
        if existing is not None:
            return existing
        self._t.put(tag.id, tag)
        self._ensured.add(tag.id)
        return tag

    def settle_ensured(self, committed: dict[UUID, Tag]) -> None:
        """Before commit: a tag this unit ensured that another unit committed meanwhile under
        the same name is not inserted; this unit's rows point at the committed tag instead.
        That is where PostgreSQL's `ON CONFLICT DO NOTHING` ends up: the second insert waits
        for the first, does nothing, and the name reads back as the committed tag."""
        for tag_id in self._ensured:
            mine = self._t.get(tag_id)
            if mine is None or tag_id in committed:
                continue
            lowered = mine.name.lower()
            theirs = next((t for t in committed.values() if t.name.lower() == lowered), None)
            if theirs is None:
                continue
            self._t.remove(tag_id)
            for doc_id, tagged in [k for k in self._doc_tags.all_keys() if k[1] == tag_id]:
                stamp = self._doc_tags.get((doc_id, tagged))
                self._doc_tags.remove((doc_id, tagged))
                if stamp is not None:
                    self._doc_tags.put((doc_id, theirs.id), stamp)
        self._ensured.clear()

    async def get(self, tag_id: UUID) -> Tag | None:
        return self._t.get(tag_id)

    async def get_by_names(self, names: Sequence[str]) -> Sequence[Tag]:
        lowered = {n.lower() for n in names}
        return sorted(
            (t for t in self._t.values() if t.name.lower() in lowered), key=lambda t: utf8(t.name)
        )

    async def list(self) -> Sequence[Tag]:
        return sorted(self._t.values(), key=lambda t: utf8(t.name))

    async def popular(self, reader: User, limit: int) -> Sequence[tuple[Tag, int]]:
        uses: Counter[UUID] = Counter()
        for doc_id, tag_id in list(self._doc_tags.all_keys()):
            if self._doc_tags.get((doc_id, tag_id)) is None:
                continue
            readable = await self._documents.get_readable(doc_id, reader, include_trash=False)
            if readable is not None:
                uses[tag_id] += 1
        ranked = [(tag, uses[tag.id]) for tag in self._t.values() if uses[tag.id] > 0]
        ranked.sort(key=lambda pair: (-pair[1], utf8(pair[0].name)))
        return ranked[:limit]

    async def update(self, tag: Tag) -> None:
        if self._clash(tag):
            raise conflict(constraints.UQ_TAGS_NAME_LOWER)
        self._t.patch(
            tag.id,
            name=tag.name,
            color=tag.color,
            description=tag.description,
            is_active=tag.is_active,
        )

    async def delete(self, tag_id: UUID) -> None:
        self._t.remove(tag_id)
        for key in [k for k in self._doc_tags.all_keys() if k[1] == tag_id]:
            self._doc_tags.remove(key)
