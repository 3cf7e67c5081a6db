"""In-memory repository of documents: the domain policy decides what a reader sees, with the
same filters, order, pages and errors as the SQL adapter; search reuses its visibility,
filter and facet helpers."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from domain import policy
from domain.document_ports import DocumentFilter, DocumentSort, DuplicateGroup, Readable
from domain.documents import Category, Document, Permission, Tag, category_found
from domain.events import Event
from domain.pagination import Page, PageRequest
from domain.ports import EventRepository
from domain.processing import NEEDS_OCR, OCR, Processing
from domain.users import User
from infrastructure import constraints
from infrastructure.constraints import conflict
from infrastructure.memory.json_containment import contains
from infrastructure.memory.permissions import PermKey
from infrastructure.memory.processing import ProcessingKey, in_state
from infrastructure.memory.table import StagedTable

DocTagKey = tuple[UUID, UUID]  # (document_id, tag_id)


def utf8(text: str) -> bytes:
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
        began_at: datetime,
        *,
        processing: StagedTable[ProcessingKey, Processing] | None = None,
    ) -> None:
        # When the unit of work began: what PostgreSQL's now() stamps rows with by default.
        self._began_at = began_at
        self._docs = documents
        self._doc_tags = doc_tags
        self._tags = tags
        self._perms = permissions
        self._users = users
        self._categories = categories
        self._classifications = classifications
        self._processing: StagedTable[ProcessingKey, Processing] = (
            processing if processing is not None else StagedTable({})
        )

    def _tag_names(self, doc_id: UUID) -> list[str]:
        names = []
        for doc, tag_id in self._doc_tags.all_keys():
            if doc == doc_id and self._doc_tags.get((doc, tag_id)) is not None:
                tag = self._tags.get(tag_id)
                if tag is not None:
                    names.append(tag.name)
        return sorted(names, key=utf8)

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
        await self.add_all([doc])

    async def add_all(self, docs: Sequence[Document]) -> None:
        if len({d.id for d in docs}) < len(docs):
            raise conflict(constraints.PK_DOCUMENTS)
        for doc in docs:  # every row checked before any is written, as one statement
            if self._docs.exists(doc.id):
                raise conflict(constraints.PK_DOCUMENTS)
            if not self._users.exists(doc.owner_id):
                raise conflict(constraints.FK_DOCUMENTS_OWNER_ID_USERS)
            if doc.category_id is not None and not self._categories.exists(doc.category_id):
                raise conflict(constraints.FK_DOCUMENTS_CATEGORY_ID_CATEGORIES)
        for doc in docs:
            stored = dataclasses.replace(
                doc, tags=[], content=doc.content or "", category_name=None
            )
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
        category_id = category_found(filters.category, found.id if found else None)
        # Both an id and a name: both must hold (as the two SQL conditions); ids are UUID4,
        # never the nil UUID, so a mismatch matches nothing.
        same = filters.category_id in (None, category_id)
        return dataclasses.replace(
            filters, category=None, category_id=category_id if same else UUID(int=0)
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
            and (
                f.processing is None
                or in_state(
                    self._processing, doc.id, frozenset({f.processing.state}), f.processing.kind
                )
            )
            and (
                f.needs_ocr is None
                or in_state(self._processing, doc.id, NEEDS_OCR, OCR) == f.needs_ocr
            )
            and (f.title_contains is None or f.title_contains.lower() in doc.title.lower())
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
        keyset = sort.keyset
        key = _sort_key(sort)
        rows.sort(key=key, reverse=keyset.descending)
        after = keyset.after(page)
        if after is not None:
            mark = (_comparable(after[0]), after[1])
            rows = [r for r in rows if keyset.beyond(key(r), mark)]
        items = [self._with_tags(r, content=False) for r in rows[: page.limit + 1]]
        return keyset.page(items, page.limit, lambda doc: (_raw_sort_value(doc, sort), doc.id))

    async def update(self, doc: Document, expected_version: int) -> bool:
        stored = self._docs.get(doc.id)
        if stored is None or stored.version != expected_version:
            return False
        columns = {f.name: getattr(doc, f.name) for f in dataclasses.fields(doc)}
        # The thumbnail is `set_thumbnail`'s: a change must not put back the one it read.
        for name in ("id", "created_at", "tags", "category_name", "thumbnail_key"):
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
                raise conflict(constraints.FK_DOCUMENT_TAGS_TAG_ID_TAGS)
            self._doc_tags.put((doc_id, tag_id), self._began_at)

    async def purge(self, doc_id: UUID) -> None:
        self._docs.remove(doc_id)
        for key in [k for k in self._doc_tags.all_keys() if k[0] == doc_id]:
            self._doc_tags.remove(key)
        for key in [k for k in self._perms.all_keys() if k[1] == doc_id]:
            self._perms.remove(key)
        for key in [k for k in self._classifications.all_keys() if k[0] == doc_id]:
            self._classifications.remove(key)
        for pkey in [k for k in self._processing.all_keys() if k[0] == doc_id]:
            self._processing.remove(pkey)

    async def readable_with_sha256(self, sha256: str, reader: User) -> Sequence[Document]:
        rows = [
            self._summary(d)
            for d in self._docs.values()
            if d.sha256 == sha256 and self._visible(reader, d, trash=False)
        ]
        return sorted(rows, key=lambda d: (d.created_at, d.id))

    async def first_readable_with_sha256(
        self, sha256s: Collection[str], reader: User
    ) -> Mapping[str, Document]:
        found: dict[str, Document] = {}
        for sha256 in set(sha256s):
            same = await self.readable_with_sha256(sha256, reader)
            if same:
                found[sha256] = same[0]
        return found

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

    async def get(self, doc_id: UUID) -> Document | None:
        doc = self._docs.get(doc_id)
        return None if doc is None else self._with_tags(doc)

    async def set_thumbnail(self, doc_id: UUID, key: str) -> bool:
        doc = self._docs.get(doc_id)
        if doc is None:
            return False
        self._docs.patch(doc_id, thumbnail_key=key)
        return True

    async def without_thumbnail(self) -> Sequence[UUID]:
        docs = sorted(self._docs.values(), key=lambda d: (d.created_at, d.id))
        return [d.id for d in docs if d.thumbnail_key is None]

    async def count_referencing(self, storage_key: str) -> int:
        """Documents whose file or thumbnail is the blob `storage_key`."""
        return sum(
            1 for d in self._docs.values() if storage_key in (d.storage_key, d.thumbnail_key)
        )

    async def storage_keys(self) -> set[str]:
        thumbnails = {d.thumbnail_key for d in self._docs.values() if d.thumbnail_key}
        return {d.storage_key for d in self._docs.values()} | thumbnails

    async def trashed_before(self, cutoff: datetime, limit: int) -> Sequence[Document]:
        rows = [
            self._summary(d)
            for d in self._docs.values()
            if d.deleted_at is not None and d.deleted_at < cutoff
        ]
        rows.sort(key=lambda d: (d.deleted_at, d.id))
        return rows[:limit]


def _comparable(value: str | int | datetime) -> Any:
    return utf8(value) if isinstance(value, str) else value


def _raw_sort_value(doc: Document, sort: DocumentSort) -> str | int | datetime:
    if sort in (DocumentSort.TITLE, DocumentSort.TITLE_DESC):
        return doc.title
    if sort in (DocumentSort.SIZE, DocumentSort.SIZE_DESC):
        return doc.size_bytes
    return doc.created_at


def _sort_key(sort: DocumentSort) -> Any:
    def key(doc: Document) -> tuple[Any, UUID]:
        return (_comparable(_raw_sort_value(doc, sort)), doc.id)

    return key


class InMemoryDocumentViews:
    def __init__(self, documents: InMemoryDocumentRepository, events: EventRepository) -> None:
        self._documents = documents
        self._events = events

    async def open(self, doc_id: UUID, reader: User, viewed: Event) -> Readable | None:
        found = await self._documents.get_readable(doc_id, reader)
        if found is not None:
            await self._events.add(viewed)
        return found
