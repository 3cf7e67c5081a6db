"""In-memory repositories of the documents area: the domain policy decides what a reader sees,
with the same order, pages and errors as the SQL adapters."""

from __future__ import annotations

import copy
import dataclasses
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from domain import policy
from domain.document_ports import DocumentFilter, DocumentSort, DuplicateGroup, Readable
from domain.documents import Category, Document, FileType, Permission, Tag
from domain.errors import Conflict, ValidationFailed
from domain.events import Event
from domain.pagination import Page, PageRequest, SortKey
from domain.users import User
from infrastructure.memory.json_containment import contains
from infrastructure.memory.table import StagedTable

DocTagKey = tuple[UUID, UUID]  # (document_id, tag_id)
PermKey = tuple[UUID, UUID]  # (user_id, document_id)


def _utf8(text: str) -> bytes:
    # PostgreSQL's "C" collation orders by bytes; UTF-8 bytes order as code points do.
    return text.encode()


class InMemoryDocumentRepository:
    def __init__(
        self,
        documents: StagedTable[UUID, Document],
        doc_tags: StagedTable[DocTagKey, datetime],
        tags: StagedTable[UUID, Tag],
        permissions: StagedTable[PermKey, Permission],
        users: StagedTable[UUID, Any],
        categories: StagedTable[UUID, Category],
        classifications: StagedTable[Any, Any],
        events: list[Event],
        began_at: datetime,
    ) -> None:
        # When the unit of work began: what PostgreSQL's now() stamps rows with by default.
        self._began_at = began_at
        # Where `view_readable` appends: the unit of work's pending events. In a read-only
        # unit of work they are written at once (the SQL adapter's statement autocommits).
        self._viewed = events
        self._docs = documents
        self._doc_tags = doc_tags
        self._tags = tags
        self._perms = permissions
        self._users = users
        self._categories = categories
        self._classifications = classifications

    def _tag_names(self, doc_id: UUID) -> list[str]:
        names = []
        for doc, tag_id in self._doc_tags.all_keys():
            if doc == doc_id and self._doc_tags.get((doc, tag_id)) is not None:
                tag = self._tags.get(tag_id)
                if tag is not None:
                    names.append(tag.name)
        return sorted(names, key=_utf8)

    def _grant(self, reader: User, doc_id: UUID) -> Any:
        permission = self._perms.get((reader.id, doc_id))
        return permission.access if permission is not None else None

    def _category_name(self, doc: Document) -> str | None:
        category = self._categories.get(doc.category_id) if doc.category_id else None
        return category.name if category is not None else None

    def _with_tags(self, doc: Document, *, content: bool = True) -> Document:
        return dataclasses.replace(
            doc,
            tags=self._tag_names(doc.id),
            content=doc.content if content else None,
            category_name=self._category_name(doc),
        )

    def _summary(self, doc: Document) -> Document:
        """As listings without tags return it: no text, the category's name joined."""
        return dataclasses.replace(
            doc, content=None, tags=[], category_name=self._category_name(doc)
        )

    async def add(self, doc: Document) -> None:
        if self._docs.exists(doc.id):
            raise Conflict("conflicts with existing data (pk_documents)")
        if not self._users.exists(doc.owner_id):
            raise Conflict("conflicts with existing data (fk_documents_owner_id_users)")
        if doc.category_id is not None and not self._categories.exists(doc.category_id):
            raise Conflict("conflicts with existing data (fk_documents_category_id_categories)")
        stored = dataclasses.replace(doc, tags=[], content=doc.content or "", category_name=None)
        self._docs.put(doc.id, stored)

    async def get_readable(
        self, doc_id: UUID, reader: User, *, include_trash: bool = True
    ) -> Readable | None:
        doc = self._docs.get(doc_id)
        if doc is None or (doc.in_trash and not include_trash):
            return None
        grant = self._grant(reader, doc_id)
        if not policy.can_read(reader, doc, grant):
            return None
        return Readable(self._with_tags(doc), grant)

    async def view_readable(self, doc_id: UUID, reader: User, viewed: Event) -> Readable | None:
        found = await self.get_readable(doc_id, reader)
        if found is not None:
            self._viewed.append(copy.deepcopy(viewed))
        return found

    def readable(self, reader: User, source: Any) -> bool:
        """Whether a logged search source (`{"document_id": ...}`) is a document `reader` may
        read now, trash included as `policy.can_read` says (what the SQL history shows)."""
        raw = source.get("document_id") if isinstance(source, dict) else None
        if not isinstance(raw, str):
            return False
        try:
            doc_id = UUID(raw)
        except ValueError:
            return False
        if str(doc_id) != raw.lower():  # only the canonical form, as in SQL
            return False
        doc = self._docs.get(doc_id)
        return doc is not None and policy.can_read(reader, doc, self._grant(reader, doc_id))

    def facet_row(self, doc: Document) -> tuple[str, str | None, str | None, list[str]]:
        """(type, category name, department, tag names): what search facets count."""
        return (
            doc.document_type.value,
            self._category_name(doc),
            doc.department,
            self._tag_names(doc.id),
        )

    def visible(self, reader: User, doc: Document) -> bool:
        """Live and readable by `reader` (what search and listings show)."""
        return self._visible(reader, doc, trash=False)

    def matches(self, doc: Document, filters: DocumentFilter) -> bool:
        """Whether `doc` passes `filters` (resolved with `resolve` first)."""
        return self._matches(doc, filters)

    def resolve(self, filters: DocumentFilter) -> DocumentFilter:
        """`filters` with a category name turned into its id, as the SQL adapter does."""
        if filters.category is None:
            return filters
        found = self._categories.find(lambda c: c.name == filters.category)
        if found is None:
            raise ValidationFailed.on("category", f"no category named {filters.category!r}")
        # Both an id and a name: both must hold (as the two SQL conditions); ids are UUID4,
        # never the nil UUID, so a mismatch matches nothing.
        same = filters.category_id in (None, found.id)
        return dataclasses.replace(
            filters, category=None, category_id=found.id if same else UUID(int=0)
        )

    def _visible(self, reader: User, doc: Document, trash: bool) -> bool:
        # The trash, or the live documents: either way exactly what the policy lets read.
        return doc.in_trash == trash and policy.can_read(reader, doc, self._grant(reader, doc.id))

    def _matches(self, doc: Document, f: DocumentFilter) -> bool:
        if f.tags:
            have = {name.lower() for name in self._tag_names(doc.id)}
            if not all(name.lower() in have for name in f.tags):
                return False
        return (
            (f.category_id is None or doc.category_id == f.category_id)
            and (f.document_type is None or doc.document_type is f.document_type)
            and (f.department is None or doc.department == f.department)
            and (f.access_level is None or doc.access_level == f.access_level)
            and (f.owner_id is None or doc.owner_id == f.owner_id)
            and (
                f.metadata is None
                or (doc.metadata is not None and contains(doc.metadata, f.metadata))
            )
            and (f.created_after is None or doc.created_at >= f.created_after)
            and (f.created_before is None or doc.created_at < f.created_before)
            and (f.taxonomy_path is None or self._in_subtree(doc.id, f))
        )

    def _in_subtree(self, doc_id: UUID, f: DocumentFilter) -> bool:
        prefix = f.taxonomy_path or ()
        return any(
            c.doc_id == doc_id
            and c.version == f.taxonomy_version
            and tuple(c.path[: len(prefix)]) == prefix
            for c in self._classifications.values()
        )

    async def list_readable(
        self, reader: User, filters: DocumentFilter, sort: DocumentSort, page: PageRequest
    ) -> Page[Document]:
        filters = self.resolve(filters)
        rows = [
            doc
            for doc in self._docs.values()
            if self._visible(reader, doc, filters.deleted) and self._matches(doc, filters)
        ]
        key = _sort_key(sort)
        descending = sort is DocumentSort.CREATED_DESC
        rows.sort(key=key, reverse=descending)
        if page.cursor is not None:
            after = SortKey.decode(page.cursor, sort.value)
            mark = (_comparable(after.value), after.id)
            rows = [r for r in rows if (key(r) < mark if descending else key(r) > mark)]
        items = [self._with_tags(r, content=False) for r in rows[: page.limit]]
        next_cursor = None
        if len(rows) > page.limit:
            last = items[-1]
            value = _raw_sort_value(last, sort)
            next_cursor = SortKey(sort.value, value, last.id).encode()
        return Page(items, next_cursor)

    async def update(self, doc: Document, expected_version: int) -> bool:
        stored = self._docs.get(doc.id)
        if stored is None or stored.version != expected_version:
            return False
        columns = {f.name: getattr(doc, f.name) for f in dataclasses.fields(doc)}
        for name in ("id", "created_at", "tags", "category_name"):
            del columns[name]
        if columns["content"] is None:
            del columns["content"]
        # PostgreSQL makes a second writer of the row wait for the first and then finds the
        # version moved on (0 rows). Units of work here never wait, so the same guarantee is
        # a check at commit: the row must still be at the version this update started from.
        self._docs.expect(doc.id, "version", expected_version)
        return self._docs.patch(doc.id, **columns)

    async def set_tags(self, doc_id: UUID, tag_ids: Sequence[UUID]) -> None:
        for key in [k for k in self._doc_tags.all_keys() if k[0] == doc_id]:
            self._doc_tags.remove(key)
        for tag_id in dict.fromkeys(tag_ids):
            if not self._tags.exists(tag_id):
                raise Conflict("conflicts with existing data (fk_document_tags_tag_id_tags)")
            self._doc_tags.put((doc_id, tag_id), self._began_at)

    async def purge(self, doc_id: UUID) -> None:
        self._docs.remove(doc_id)
        for key in [k for k in self._doc_tags.all_keys() if k[0] == doc_id]:
            self._doc_tags.remove(key)
        for key in [k for k in self._perms.all_keys() if k[1] == doc_id]:
            self._perms.remove(key)
        for key in [k for k in self._classifications.all_keys() if k[0] == doc_id]:
            self._classifications.remove(key)

    async def readable_with_sha256(self, sha256: str, reader: User) -> Sequence[Document]:
        rows = [
            self._summary(d)
            for d in self._docs.values()
            if d.sha256 == sha256 and self._visible(reader, d, trash=False)
        ]
        return sorted(rows, key=lambda d: (d.created_at, d.id))

    async def duplicate_groups(self, reader: User, limit: int) -> Sequence[DuplicateGroup]:
        groups: dict[str, list[Document]] = defaultdict(list)
        for doc in self._docs.values():
            if self._visible(reader, doc, trash=False):
                groups[doc.sha256].append(self._summary(doc))
        shared = [(sha, docs) for sha, docs in groups.items() if len(docs) > 1]
        shared.sort(key=lambda kv: (-len(kv[1]), kv[0]))
        return [
            DuplicateGroup(sha, tuple(sorted(docs, key=lambda d: (d.created_at, d.id))))
            for sha, docs in shared[:limit]
        ]

    async def count_referencing(self, storage_key: str) -> int:
        return sum(1 for d in self._docs.values() if d.storage_key == storage_key)

    async def storage_keys(self) -> set[str]:
        return {d.storage_key for d in self._docs.values()}

    async def trashed_before(self, cutoff: datetime, limit: int) -> Sequence[Document]:
        rows = [
            self._summary(d)
            for d in self._docs.values()
            if d.deleted_at is not None and d.deleted_at < cutoff
        ]
        rows.sort(key=lambda d: (d.deleted_at, d.id))
        return rows[:limit]


def _comparable(value: str | int | datetime) -> Any:
    return _utf8(value) if isinstance(value, str) else value


def _raw_sort_value(doc: Document, sort: DocumentSort) -> str | int | datetime:
    if sort is DocumentSort.TITLE:
        return doc.title
    if sort is DocumentSort.SIZE:
        return doc.size_bytes
    return doc.created_at


def _sort_key(sort: DocumentSort) -> Any:
    def key(doc: Document) -> tuple[Any, UUID]:
        return (_comparable(_raw_sort_value(doc, sort)), doc.id)

    return key


class InMemoryCategoryRepository:
    def __init__(self, table: StagedTable[UUID, Category]) -> None:
        self._t = table

    async def add(self, category: Category) -> None:
        if self._t.find(lambda c: c.name == category.name) is not None:
            raise Conflict("conflicts with existing data (uq_categories_name)")
        self._t.put(category.id, category)

    async def get(self, category_id: UUID) -> Category | None:
        return self._t.get(category_id)

    async def get_by_name(self, name: str) -> Category | None:
        return self._t.find(lambda c: c.name == name)

    async def list(self) -> Sequence[Category]:
        return sorted(self._t.values(), key=lambda c: _utf8(c.name))

    async def update(self, category: Category) -> None:
        clash = self._t.find(lambda c: c.name == category.name and c.id != category.id)
        if clash is not None:
            raise Conflict("conflicts with existing data (uq_categories_name)")
        self._t.patch(
            category.id,
            name=category.name,
            description=category.description,
            is_active=category.is_active,
        )

    async def delete(self, category_id: UUID) -> None:
        self._t.remove(category_id)


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
            raise Conflict("conflicts with existing data (uq_tags_name_lower)")
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
            (t for t in self._t.values() if t.name.lower() in lowered), key=lambda t: _utf8(t.name)
        )

    async def list(self) -> Sequence[Tag]:
        return sorted(self._t.values(), key=lambda t: _utf8(t.name))

    async def popular(self, reader: User, limit: int) -> Sequence[tuple[Tag, int]]:
        uses: Counter[UUID] = Counter()
        for doc_id, tag_id in list(self._doc_tags.all_keys()):
            if self._doc_tags.get((doc_id, tag_id)) is None:
                continue
            readable = await self._documents.get_readable(doc_id, reader, include_trash=False)
            if readable is not None:
                uses[tag_id] += 1
        ranked = [(tag, uses[tag.id]) for tag in self._t.values() if uses[tag.id] > 0]
        ranked.sort(key=lambda pair: (-pair[1], _utf8(pair[0].name)))
        return ranked[:limit]

    async def update(self, tag: Tag) -> None:
        if self._clash(tag):
            raise Conflict("conflicts with existing data (uq_tags_name_lower)")
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


class InMemoryFileTypeRepository:
    def __init__(self, table: StagedTable[str, FileType]) -> None:
        self._t = table

    async def get(self, extension: str) -> FileType | None:
        return self._t.get(extension)

    async def list(self) -> Sequence[FileType]:
        return sorted(self._t.values(), key=lambda f: f.extension)

    async def put(self, file_type: FileType) -> None:
        self._t.put(file_type.extension, file_type)


class InMemoryPermissionRepository:
    def __init__(
        self,
        table: StagedTable[PermKey, Permission],
        users: StagedTable[UUID, Any],
        documents: StagedTable[UUID, Document],
    ) -> None:
        self._t = table
        self._users = users
        self._docs = documents

    async def get(self, user_id: UUID, document_id: UUID) -> Permission | None:
        return self._t.get((user_id, document_id))

    async def list_for(self, document_id: UUID) -> Sequence[Permission]:
        rows = [p for p in self._t.values() if p.document_id == document_id]
        return sorted(rows, key=lambda p: (p.granted_at, p.id))

    async def put(self, permission: Permission) -> None:
        if not self._users.exists(permission.user_id):
            raise Conflict("conflicts with existing data (fk_permissions_user_id_users)")
        if not self._docs.exists(permission.document_id):
            raise Conflict("conflicts with existing data (fk_permissions_document_id_documents)")
        existing = self._t.get((permission.user_id, permission.document_id))
        if existing is not None:  # an upsert keeps the row's id, as ON CONFLICT DO UPDATE does
            permission = dataclasses.replace(permission, id=existing.id)
        self._t.put((permission.user_id, permission.document_id), permission)

    async def delete(self, user_id: UUID, document_id: UUID) -> bool:
        return self._t.remove((user_id, document_id))
