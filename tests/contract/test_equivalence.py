"""Any sequence of user, token, setting, document, tag, grant and trash operations gives the
same observable results on the in-memory adapters and on PostgreSQL (acceptance item 6 of
issue #2; documents and their neighbours: issue #11 item 4).

Both worlds run the same use cases with identical stepping clocks; ids and secrets differ
between worlds, so results are compared with ids replaced by labels in order of appearance."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from dependency_injector import providers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.context import Principal, RequestContext
from application.document_store import DocumentFields
from application.settings import SettingWrite
from application.tokens import IssuedToken, TokenIssue
from application.users import CreateUser
from domain.document_ports import DocumentFilter, DocumentSort, Readable
from domain.documents import Document, DocumentChanges, DocumentType, Permission, Tag
from domain.errors import Conflict, DomainError
from domain.pagination import Page, PageRequest
from domain.processing import ProcessingFilter
from domain.settings import Setting
from domain.tokens import ApiToken
from domain.users import User, UserChanges, UserFilter
from domain.values import Role
from infrastructure.config import AppSettings
from infrastructure.container import Container, build_container
from infrastructure.sqlalchemy.database import Database
from tests.conftest import truncate_all
from tests.support.clock import SteppingClock

pytestmark = pytest.mark.postgres

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# Mostly valid input, so sequences reach interesting states; some invalid, so errors agree too.
emails = st.sampled_from(
    ["ann@example.com", "ANN@example.com", "bob@example.com", "cy@x.io", "dee@x.io"]
)
names = st.sampled_from(["Ann", "Bob", "Cy", "Dee", "Eve", " ", "x" * 101])
levels = st.sampled_from([1, 2, 3, 1, 2, 3, 0, 4])
roles = st.sampled_from(["member", "admin", "guest", "member", "admin", "root"])
actors = st.sampled_from([None, None, 0, 1, 2, 3])  # None: the system; n: the n-th user made
someone = st.integers(0, 4)


# Documents: made by the n-th user (None: the first), found by index modulo how many exist.
doc_actors = st.sampled_from([0, 0, 0, 1, 1, 2, 3])
a_doc = st.integers(0, 5)
tag_names = st.lists(st.sampled_from(["red", "Red", "blue", "green", "x" * 51]), max_size=3)
if_match = st.sampled_from([None, None, None, 1, 2, 3])

# Every sequence starts from an admin and a member with a token each, and a document each.
PRELUDE: list[tuple[Any, ...]] = [
    ("create", None, "root@example.com", "Root", None, 3, "admin"),
    ("create", None, "mem@example.com", "Mem", "Ops", 1, "member"),
    ("issue", None, 0, None),
    ("issue", None, 1, None),
    ("doc_create", 0, "Plan", 2, None, ("red",)),
    ("doc_create", 1, "Notes", 1, "Ops", ("Blue", "red")),
]


@st.composite
def operations(draw: st.DrawFn) -> tuple[Any, ...]:
    kind = draw(
        st.sampled_from(
            ["create"] * 4
            + ["update"] * 3
            + ["issue"] * 3
            + ["revoke", "auth", "auth", "list_users", "list_tokens", "put", "wait", "demote"]
            + ["doc_create"] * 3
            + ["doc_update"] * 4
            + ["doc_tags"] * 4
            + ["doc_trash", "doc_trash", "doc_restore", "doc_restore"]
            + ["doc_get", "doc_list", "doc_list", "doc_list", "grant", "grant", "ungrant", "tags"]
            + ["doc_race"] * 2
        )
    )
    if kind.startswith("doc_") or kind in {"grant", "ungrant", "tags"}:
        return _document_operation(draw, kind)
    if kind == "create":
        dept = draw(st.sampled_from([None, "Ops", "Sales"]))
        return (kind, draw(actors), draw(emails), draw(names), dept, draw(levels), draw(roles))
    if kind == "update":
        changes = draw(
            st.dictionaries(
                st.sampled_from(
                    ["name", "department", "access_level", "role", "is_active", "email"]
                ),
                st.sampled_from(["Zed", None, 2, 5, "admin", "guest", False, True, "cy@x.io"]),
                min_size=1,
                max_size=3,
            )
        )
        return (kind, draw(actors), draw(someone), changes)
    if kind == "demote":  # aims at the last-admin rule
        change = draw(st.sampled_from([{"is_active": False}, {"role": "member"}]))
        return (
            "update",
            draw(st.sampled_from([None, 0])),
            draw(st.sampled_from([0, 0, 1])),
            change,
        )
    if kind == "issue":
        owner = draw(st.one_of(st.none(), someone, someone))
        return (kind, draw(actors), owner, draw(st.sampled_from([None, None, 1, 30, 0])))
    if kind == "revoke":
        return (kind, draw(actors), draw(st.integers(0, 6)))
    if kind == "auth":
        return (kind, draw(st.sampled_from([0, 1, 2, 3, 4, -1])))
    if kind == "list_users":
        role = draw(st.sampled_from([None, "admin", "member"]))
        active = draw(st.sampled_from([None, True, False]))
        return (kind, draw(actors), role, active, draw(st.integers(1, 3)))
    if kind == "list_tokens":
        return (kind, draw(actors), draw(st.integers(1, 3)))
    if kind == "put":
        key = draw(st.sampled_from(["default_token_ttl_days", "theme"]))
        return (kind, draw(actors), key, draw(st.sampled_from([1, 0, "dark", True])))
    return (kind, draw(st.sampled_from([30, 3600, 86400 * 2])))


def _document_operation(draw: st.DrawFn, kind: str) -> tuple[Any, ...]:
    actor = draw(doc_actors)
    if kind == "doc_create":
        title = draw(st.sampled_from(["Plan", "Memo", "Report", " "]))
        level = draw(st.sampled_from([1, 2, 3, 1]))
        dept = draw(st.sampled_from([None, None, "Ops", "Sales"]))
        return (kind, actor, title, level, dept, tuple(draw(tag_names)))
    if kind == "doc_update":
        values = {
            "title": st.sampled_from(["Renamed", "Plan", " "]),
            "access_level": st.sampled_from([1, 2, 3, 1, 5]),
            "department": st.sampled_from(["Ops", None, "Sales"]),
            "owner_id": st.just("x"),  # not changeable: an error both sides must agree on
        }
        keys = draw(st.lists(st.sampled_from(["title"] * 3 + [*values]), min_size=1, max_size=2))
        changes = {key: draw(values[key]) for key in keys}
        return (kind, actor, draw(a_doc), changes, draw(if_match))
    if kind == "doc_tags":
        mode = draw(st.sampled_from(["replace", "add", "remove"]))
        return (kind, actor, draw(a_doc), mode, tuple(draw(tag_names)), draw(if_match))
    if kind in {"doc_trash", "doc_restore"}:
        return (kind, actor, draw(a_doc), draw(if_match))
    if kind == "doc_race":
        return (kind, actor, draw(a_doc), draw(st.sampled_from(["title", "trash"])))
    if kind == "doc_get":
        return (kind, actor, draw(a_doc))
    if kind == "doc_list":
        wanted = draw(st.sampled_from([(), ("red",), ("RED", "blue")]))
        # Processing state: every document here has its thumbnail pending (no job runs).
        processing = draw(st.sampled_from([None, None, "pending", "thumbnail:pending", "done"]))
        needs_ocr = draw(st.sampled_from([None, None, False, True]))
        # Every sort, and a part of the title (any case; LIKE wildcards are plain text).
        sort = draw(st.sampled_from(list(DocumentSort)))
        q = draw(st.sampled_from([None, "PLAN", "pLaN", "NOTES", "an", "E", "ORT", "%", "BY A"]))
        return (
            kind,
            actor,
            draw(st.booleans()),
            wanted,
            draw(st.integers(1, 3)),
            processing,
            needs_ocr,
            sort,
            q,
        )
    if kind == "grant":
        access = draw(st.sampled_from(["read", "write", "delete", "own"]))
        return (kind, actor, draw(a_doc), draw(someone), access)
    if kind == "ungrant":
        return (kind, actor, draw(a_doc), draw(someone))
    return (kind, actor, draw(st.integers(1, 3)))


@dataclass
class World:
    container: Container
    clock: SteppingClock
    users: list[UUID] = field(default_factory=list)
    tokens: list[tuple[UUID, str]] = field(default_factory=list)
    docs: list[UUID] = field(default_factory=list)
    labels: dict[UUID, str] = field(default_factory=dict)

    def label(self, ident: UUID | None) -> str | None:
        if ident is None:
            return None
        return self.labels.setdefault(ident, f"#{len(self.labels)}")

    def scrub(self, text: str) -> str:
        return _UUID.sub(lambda m: self.label(UUID(m.group())) or "", text)

    def shape(self, value: Any) -> Any:
        if isinstance(value, User):
            return (
                "user",
                self.label(value.id),
                value.email,
                value.name,
                value.department,
                int(value.access_level),
                value.role.value,
                value.is_active,
                value.created_at,
                value.updated_at,
                value.last_login_at,
            )
        if isinstance(value, ApiToken):
            return (
                "token",
                self.label(value.id),
                self.label(value.user_id),
                value.name,
                value.created_at,
                value.expires_at,
                value.last_used_at,
                value.revoked_at,
            )
        if isinstance(value, IssuedToken):
            return self.shape(value.token)
        if isinstance(value, Principal):
            return ("principal", self.label(value.user.id), self.label(value.token_id))
        if isinstance(value, Setting):
            return (
                "setting",
                value.key,
                value.value,
                value.type.value,
                value.is_public,
                value.updated_at,
            )
        if isinstance(value, Document):
            return (
                "document",
                self.label(value.id),
                value.title,
                value.content,
                value.version,
                int(value.access_level),
                value.department,
                self.label(value.owner_id),
                value.tags,
                value.deleted_at,
                value.created_at,
                value.updated_at,
                value.sha256,
                value.size_bytes,
            )
        if isinstance(value, Readable):
            return ("readable", self.shape(value.document), value.grant)
        if isinstance(value, Permission):
            return (
                "grant",
                self.label(value.user_id),
                self.label(value.document_id),
                value.access.label,
                self.label(value.granted_by),
                value.granted_at,
            )
        if isinstance(value, Tag):
            return ("tag", self.label(value.id), value.name, value.color, value.created_at)
        if isinstance(value, tuple):
            return tuple(self.shape(i) for i in value)
        if isinstance(value, Page):
            return ("page", [self.shape(i) for i in value.items], value.next_cursor is not None)
        if isinstance(value, list):
            return [self.shape(i) for i in value]
        return value

    def user_ref(self, index: int) -> UUID:
        """The index-th user made (modulo how many exist), or an id that exists nowhere."""
        return self.users[index % len(self.users)] if self.users else UUID(int=index + 1)

    def doc_ref(self, index: int) -> UUID:
        """The index-th document made (modulo how many exist), or an id that exists nowhere."""
        return self.docs[index % len(self.docs)] if self.docs else UUID(int=index + 100)

    def token_ref(self, index: int) -> tuple[UUID, str]:
        if self.tokens and index >= 0:
            return self.tokens[index % len(self.tokens)]
        return UUID(int=index + 2), "arv_" + "x" * 43  # well-formed, never issued

    async def ctx(self, actor: int | None) -> RequestContext:
        if actor is None or not self.users:
            return RequestContext.system()
        user = await self.container.users().get(RequestContext.system(), self.user_ref(actor))
        return RequestContext(actor=user, client_ip="192.0.2.10")

    async def run(self, op: tuple[Any, ...]) -> Any:
        try:
            return ("ok", self.shape(await self._dispatch(op)))
        except DomainError as err:
            return ("error", type(err).__name__, self.scrub(err.message))

    async def _dispatch(self, op: tuple[Any, ...]) -> Any:
        c = self.container
        kind = op[0]
        if kind == "create":
            _, actor, email, name, dept, level, role = op
            user = await c.users().create(
                await self.ctx(actor), CreateUser(email, name, dept, level, role)
            )
            self.users.append(user.id)
            return user
        if kind == "update":
            _, actor, index, changes = op
            target = self.user_ref(index)
            return await c.users().update(await self.ctx(actor), target, UserChanges(changes))
        if kind == "issue":
            _, actor, owner, days = op
            owner_id = self.user_ref(owner) if owner is not None else None
            issued = await c.tokens().issue(await self.ctx(actor), TokenIssue("t", days, owner_id))
            self.tokens.append((issued.token.id, issued.secret))
            return issued
        if kind == "revoke":
            _, actor, index = op
            token_id = self.token_ref(index)[0]
            return await c.tokens().revoke(await self.ctx(actor), token_id)
        if kind == "auth":
            _, index = op
            secret = self.token_ref(index)[1]
            return await c.tokens().authenticate(secret, "192.0.2.20")
        if kind == "list_users":
            _, actor, role, active, limit = op
            filters = UserFilter(role=Role(role) if role else None, is_active=active)
            return await c.users().list(await self.ctx(actor), filters, PageRequest(limit))
        if kind == "list_tokens":
            _, actor, limit = op
            return await c.tokens().list(await self.ctx(actor), PageRequest(limit))
        if kind.startswith("doc_") or kind in {"grant", "ungrant", "tags"}:
            return await self._document_dispatch(op)
        if kind == "put":
            _, actor, key, value = op
            kind_ = None if key in {"default_token_ttl_days"} else "string"
            return await c.settings().put(await self.ctx(actor), key, SettingWrite(value, kind_))
        self.clock.advance(timedelta(seconds=op[1]))
        return None

    async def _document_dispatch(self, op: tuple[Any, ...]) -> Any:
        c = self.container
        kind, actor = op[0], op[1]
        ctx = await self.ctx(actor)
        uploads, reads = c.document_uploads(), c.document_reads()
        lifecycle = c.document_lifecycle()
        if kind == "doc_create":
            _, _, title, level, dept, tags = op
            fields = DocumentFields(
                title=title, access_level=level, department=dept, tags=tags, on_duplicate="allow"
            )
            doc = await uploads.create_text(ctx, f"text of {title}", DocumentType.TXT, fields)
            self.docs.append(doc.id)
            return doc
        if kind == "doc_update":
            _, _, index, changes, expected = op
            return await lifecycle.update(
                ctx, self.doc_ref(index), DocumentChanges(changes), expected
            )
        if kind == "doc_tags":
            _, _, index, mode, names, expected = op
            doc_id = self.doc_ref(index)
            if mode == "replace":
                return await lifecycle.replace_tags(ctx, doc_id, names, expected)
            if mode == "add":
                return await lifecycle.add_tags(ctx, doc_id, names, expected)
            return await lifecycle.remove_tag(ctx, doc_id, (*names, "red")[0], expected)
        if kind == "doc_trash":
            _, _, index, expected = op
            await lifecycle.delete(ctx, self.doc_ref(index), expected)
            return None
        if kind == "doc_restore":
            _, _, index, expected = op
            return await lifecycle.restore(ctx, self.doc_ref(index), expected)
        if kind == "doc_get":
            return await reads.get(ctx, self.doc_ref(op[2]))
        if kind == "doc_race":
            return await self._race(ctx, self.doc_ref(op[2]), op[3])
        if kind == "doc_list":
            _, _, deleted, tags, limit, processing, needs_ocr, sort, q = op
            filters = DocumentFilter(
                tags=tags,
                deleted=deleted,
                processing=ProcessingFilter.parse(processing) if processing else None,
                needs_ocr=needs_ocr,
                title_contains=q,
            )
            return await self._every_page(ctx, filters, sort, limit)
        if kind == "grant":
            _, _, index, user, access = op
            return await c.grants().grant(ctx, self.doc_ref(index), self.user_ref(user), access)
        if kind == "ungrant":
            _, _, index, user = op
            await c.grants().revoke(ctx, self.doc_ref(index), self.user_ref(user))
            return None
        return (await c.catalog().tags(), await c.catalog().popular_tags(ctx, op[2]))

    async def _every_page(
        self, ctx: RequestContext, filters: DocumentFilter, sort: DocumentSort, limit: int
    ) -> Any:
        """Every page of a listing, each from the previous page's cursor (cursors hold ids,
        so each world follows its own). Titles and sizes tie, and ties go by id, which
        differ between worlds: what is compared is the page sizes, the sorted values in
        order, and the documents listed (in creation order; no document twice)."""
        reads = self.container.document_reads()
        pages: list[Page[Document]] = []
        cursor: str | None = None
        while True:
            page = await reads.list_documents(ctx, filters, sort, PageRequest(limit, cursor))
            pages.append(page)
            cursor = page.next_cursor
            if cursor is None or len(pages) > 50:
                break
        docs = [doc for page in pages for doc in page.items]
        assert len({doc.id for doc in docs}) == len(docs), "a document listed twice"
        column = sort.value.lstrip("-")
        return (
            "pages",
            [len(page.items) for page in pages],
            [getattr(doc, column) for doc in docs],
            sorted(docs, key=lambda doc: doc.created_at),
        )

    async def _race(self, ctx: RequestContext, doc_id: UUID, change: str) -> Any:
        """Two units of work change one document from the same version, B writing while A
        holds the row (PostgreSQL makes B wait for A's commit, so B runs in a task): B's
        change must never land over A's, whether B learns it from `update` (PostgreSQL: no
        row at that version any more) or at `commit` (the fake's commit-time check)."""
        reader = ctx.require_user("a race is run on behalf of a user")
        factory = self.container.uow_factory()
        now = self.clock.now()
        async with factory() as a, factory() as b:
            found = await a.documents.get_readable(doc_id, reader)
            if found is None or await b.documents.get_readable(doc_id, reader) is None:
                return ("race", "unreadable")
            doc = found.document
            if doc.in_trash:
                return ("race", "in the trash")
            by_a = doc.trash(now) if change == "trash" else doc.change(_titled("A"), now)[0]
            by_b = doc.change(_titled("B"), now)[0]
            wrote_a = await a.documents.update(by_a, doc.version)
            b_writes = asyncio.create_task(b.documents.update(by_b, doc.version))
            await asyncio.sleep(0.01)  # B's statement sent (and, on PostgreSQL, waiting)
            await a.commit()
            try:
                landed_b = await b_writes
                if landed_b:
                    await b.commit()
            except Conflict:
                landed_b = False
        return ("race", wrote_a, landed_b)


def _titled(who: str) -> DocumentChanges:
    return DocumentChanges({"title": f"changed by {who}"})


def _world(container: Container) -> World:
    clock = SteppingClock()
    container.clock.override(providers.Object(clock))
    return World(container, clock)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operations(), min_size=1, max_size=30))
async def test_memory_and_postgres_agree_on_every_operation(
    pg_database: Database, tmp_path: Path, ops: list[tuple[Any, ...]]
) -> None:
    await truncate_all(pg_database.engine)
    memory = _world(build_container(AppSettings(storage="memory")))
    postgres_container = build_container(
        AppSettings(storage="postgres", slow_query_ms=0, blob_dir=tmp_path / "blobs"),
        pg_database.url,
    )
    postgres_container.database.override(pg_database)
    postgres = _world(postgres_container)
    for step, op in enumerate([*PRELUDE, *ops]):
        expected = await memory.run(op)
        actual = await postgres.run(op)
        assert actual == expected, f"step {step}: {op!r}"
