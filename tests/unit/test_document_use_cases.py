"""Document use cases on the in-memory adapters (real extractor, in-memory blobs)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import pytest
from dependency_injector import providers

from application.context import RequestContext
from application.document_store import DocumentFields
from application.users import CreateUser
from domain.document_ports import DocumentFilter, DocumentSort
from domain.documents import DocumentChanges, DocumentType
from domain.errors import (
    Conflict,
    ContentMismatch,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    TooLarge,
    UnsupportedType,
    ValidationFailed,
)
from domain.events import EventFilter
from domain.pagination import PageRequest
from infrastructure.config import AppSettings
from infrastructure.container import Container, build_container
from tests.support.clock import SteppingClock

SYSTEM = RequestContext.system()


@pytest.fixture
def app() -> Container:
    container = build_container(AppSettings(storage="memory"))
    container.clock.override(providers.Object(SteppingClock()))
    return container


async def _ctx(app: Container, email: str, **kw: object) -> RequestContext:
    user = await app.users().create(SYSTEM, CreateUser(email=email, name=email[:3], **kw))  # type: ignore[arg-type]
    return RequestContext(actor=user)


def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    async def gen() -> AsyncIterator[bytes]:
        for part in parts:
            yield part

    return gen()


async def _nothing_stored(app: Container) -> bool:
    async with app.uow_factory()(autocommit=True) as uow:
        actions = [e.action for e in (await uow.events.list(EventFilter(), PageRequest(200))).items]
        keys = await uow.documents.storage_keys()
    blobs = await app.blobs().keys_older_than(-1)
    return not keys and not blobs and "document.uploaded" not in actions


async def test_an_upload_stores_text_bytes_tags_and_an_event(app: Container) -> None:
    ctx = await _ctx(app, "ann@example.com", access_level=2, department="Eng")
    doc = await app.document_uploads().upload(
        ctx,
        "notes.md",
        _chunks(b"# Notes\n", b"hello world\n"),
        DocumentFields(tags=("Alpha", "beta", "ALPHA"), metadata={"k": 1}, access_level=2),
    )
    got = await app.document_reads().get(ctx, doc.id)
    stored = await app.blobs().read(doc.storage_key)
    assert got.document.content == "# Notes\nhello world\n"
    assert (got.document.title, got.document.document_type, got.document.tags) == (
        "notes",
        DocumentType.MARKDOWN,
        ["Alpha", "beta"],
    )
    assert stored == b"# Notes\nhello world\n"
    events = await app.document_reads().events(ctx, doc.id, PageRequest())
    assert [e.action for e in events.items] == ["document.viewed", "document.uploaded"]


async def test_the_same_bytes_twice_is_a_conflict_unless_allowed(app: Container) -> None:
    ctx = await _ctx(app, "ann@example.com")
    first = await app.document_uploads().upload(ctx, "a.txt", _chunks(b"same"), DocumentFields())
    with pytest.raises(Conflict, match=str(first.id)):
        await app.document_uploads().upload(ctx, "b.txt", _chunks(b"same"), DocumentFields())
    second = await app.document_uploads().upload(
        ctx, "b.txt", _chunks(b"same"), DocumentFields(on_duplicate="allow")
    )
    assert second.storage_key == first.storage_key


@pytest.mark.parametrize(
    ("filename", "data", "error"),
    [
        ("a.exe", b"MZ", UnsupportedType),
        ("a.pdf", b"just text", ContentMismatch),
        ("a.txt", b"", ValidationFailed),
        ("a.txt", "caf\xe9".encode("latin-1"), ValidationFailed),
        ("../a.txt", b"x", ValidationFailed),
        ("a\x00.txt", b"x", ValidationFailed),
    ],
)
async def test_bad_uploads_leave_nothing_behind(
    app: Container, filename: str, data: bytes, error: type[Exception]
) -> None:
    ctx = await _ctx(app, "ann@example.com")
    with pytest.raises(error):
        await app.document_uploads().upload(ctx, filename, _chunks(data), DocumentFields())
    assert await _nothing_stored(app)


async def test_size_is_enforced_while_streaming(app: Container) -> None:
    ctx = await _ctx(app, "ann@example.com")
    await app.catalog().put_file_type(SYSTEM, "txt", "text/plain", True, 10)
    consumed = []

    async def endless() -> AsyncIterator[bytes]:
        for n in range(1000):
            consumed.append(n)
            yield b"123456"

    with pytest.raises(TooLarge):
        await app.document_uploads().upload(ctx, "big.txt", endless(), DocumentFields())
    assert len(consumed) == 2
    assert await _nothing_stored(app)


async def test_a_spooled_upload_is_stored_under_the_hash_taken_as_it_arrived(
    app: Container,
) -> None:
    # The HTTP path: the receiver fills the use case's spool, the use case stores it.
    ctx = await _ctx(app, "ann@example.com")
    uploads = app.document_uploads()
    with await uploads.open_spool(ctx, "notes.txt") as spool:
        for part in (b"first part, ", b"second part"):
            await spool.write(part)
        doc = await uploads.upload_spooled(ctx, spool, DocumentFields())

    expected = hashlib.sha256(b"first part, second part").hexdigest()
    assert (spool.size, spool.sha256, doc.sha256) == (23, expected, expected)
    assert await app.blobs().read(doc.storage_key) == b"first part, second part"


async def test_a_spool_refuses_before_any_byte_and_caps_at_its_type_limit(
    app: Container,
) -> None:
    uploads = app.document_uploads()
    guest = await _ctx(app, "gus@example.com", role="guest")
    member = await _ctx(app, "ann@example.com")
    await app.catalog().put_file_type(SYSTEM, "txt", "text/plain", True, 10)

    with pytest.raises(PermissionDenied):
        await uploads.open_spool(guest, "a.txt")
    with pytest.raises(UnsupportedType):
        await uploads.open_spool(member, "a.exe")
    with await uploads.open_spool(member, "a.txt") as spool:
        await spool.write(b"1234567890")
        with pytest.raises(TooLarge):
            await spool.write(b"1")
    assert await _nothing_stored(app)


async def test_a_spooled_upload_is_still_checked_with_its_fields(app: Container) -> None:
    # The early check lets a member start; the level asked for is decided with the fields.
    ctx = await _ctx(app, "ann@example.com", access_level=1)
    uploads = app.document_uploads()
    with await uploads.open_spool(ctx, "a.txt") as spool:
        await spool.write(b"secret")
        with pytest.raises(PermissionDenied):
            await uploads.upload_spooled(ctx, spool, DocumentFields(access_level=3))
    with await uploads.open_spool(ctx, "b.txt") as empty, pytest.raises(ValidationFailed):
        await uploads.upload_spooled(ctx, empty, DocumentFields())
    assert await _nothing_stored(app)


@pytest.mark.parametrize(
    ("who", "fields"),
    [
        ({"role": "guest"}, DocumentFields()),
        ({"access_level": 1}, DocumentFields(access_level=2)),
        ({"department": "Eng"}, DocumentFields(department="Ops")),
    ],
)
async def test_who_may_create_what(
    app: Container, who: dict[str, object], fields: DocumentFields
) -> None:
    ctx = await _ctx(app, "ann@example.com", **who)
    with pytest.raises(PermissionDenied):
        await app.document_uploads().upload(ctx, "a.txt", _chunks(b"x"), fields)


async def test_changes_need_write_rights_and_the_current_version(app: Container) -> None:
    owner = await _ctx(app, "own@example.com")
    reader = await _ctx(app, "read@example.com")
    doc = await app.document_uploads().create_text(
        owner, "x", DocumentType.TXT, DocumentFields(title="T")
    )
    with pytest.raises(PermissionDenied):
        await app.document_lifecycle().update(reader, doc.id, DocumentChanges({"title": "Mine"}))
    with pytest.raises(PreconditionFailed):
        await app.document_lifecycle().update(owner, doc.id, DocumentChanges({"title": "New"}), 7)
    changed = await app.document_lifecycle().update(
        owner, doc.id, DocumentChanges({"title": "New"}), 1
    )
    retagged = await app.document_lifecycle().add_tags(owner, doc.id, ["x", "y"])
    untagged = await app.document_lifecycle().remove_tag(owner, doc.id, "X")
    assert (changed.title, changed.version) == ("New", 2)
    assert (retagged.tags, retagged.version) == (["x", "y"], 3)
    assert (untagged.tags, untagged.version) == (["y"], 4)
    with pytest.raises(NotFound):
        await app.document_lifecycle().remove_tag(owner, doc.id, "nope")


async def test_trash_restore_and_purge(app: Container) -> None:
    owner = await _ctx(app, "own@example.com")
    other = await _ctx(app, "oth@example.com")
    doc = await app.document_uploads().create_text(
        owner, "x", DocumentType.TXT, DocumentFields(title="T")
    )
    twin = await app.document_uploads().upload(
        owner, "t.txt", _chunks(b"x"), DocumentFields(on_duplicate="allow")
    )
    await app.document_lifecycle().delete(owner, doc.id)
    with pytest.raises(NotFound):
        await app.document_reads().get(other, doc.id)
    trash = await app.document_reads().list_documents(
        owner, DocumentFilter(deleted=True), DocumentSort.CREATED, PageRequest()
    )
    assert [d.id for d in trash.items] == [doc.id]
    restored = await app.document_lifecycle().restore(owner, doc.id)
    assert restored.deleted_at is None and restored.version == 3
    await app.document_lifecycle().purge(owner, doc.id)
    assert await app.blobs().exists(doc.storage_key)  # the twin still needs the bytes
    await app.document_lifecycle().purge(owner, twin.id)
    assert not await app.blobs().exists(doc.storage_key)


async def test_a_purge_records_who_purged_which_document(app: Container) -> None:
    owner = await _ctx(app, "own@example.com")
    doc = await app.document_uploads().create_text(
        owner, "x", DocumentType.TXT, DocumentFields(title="T")
    )

    await app.document_lifecycle().purge(owner, doc.id)

    async with app.uow_factory()(autocommit=True) as uow:
        purged = await uow.events.list(EventFilter(action="document.purged"), PageRequest(10))
    [event] = purged.items
    assert (event.actor_id, event.subject_type, event.subject_id, event.data) == (
        owner.actor_id,
        "document",
        str(doc.id),
        {"title": "T", "sha256": doc.sha256},
    )


async def test_a_member_cannot_raise_a_document_above_their_clearance(app: Container) -> None:
    admin = await _ctx(app, "adm@example.com", role="admin", access_level=3)
    member = await _ctx(app, "mem@example.com")
    doc = await app.document_uploads().create_text(
        member, "x", DocumentType.TXT, DocumentFields(title="T")
    )
    with pytest.raises(PermissionDenied):
        await app.document_lifecycle().update(member, doc.id, DocumentChanges({"access_level": 3}))
    raised = await app.document_lifecycle().update(
        admin, doc.id, DocumentChanges({"access_level": 3})
    )
    assert raised.access_level == 3


async def test_an_upload_failing_after_its_bytes_were_stored_leaves_no_blob(app: Container) -> None:
    ctx = await _ctx(app, "ann@example.com")
    with pytest.raises(ValidationFailed):
        await app.document_uploads().create_text(
            ctx, "hello", DocumentType.TXT, DocumentFields(title="t", category="nope")
        )
    assert await _nothing_stored(app)


async def test_a_failed_upload_keeps_bytes_another_document_uses(app: Container) -> None:
    ctx = await _ctx(app, "ann@example.com")
    kept = await app.document_uploads().upload(ctx, "a.txt", _chunks(b"shared"), DocumentFields())
    with pytest.raises(ValidationFailed):
        await app.document_uploads().upload(
            ctx, "b.txt", _chunks(b"shared"), DocumentFields(on_duplicate="allow", category="nope")
        )
    assert await app.blobs().exists(kept.storage_key)
