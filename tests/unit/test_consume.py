"""What the consume folder does with one file (`application.consume`), on the memory storage:
imported as the consume user with a `consume` record, a known file done as a duplicate, a
refused one failed with its reason, the storage's absence a retry, and the sub-folders as
tags or a category as configured."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import pytest
from dependency_injector import providers

from application.consume import (
    ConsumeOptions,
    ConsumeUserUnknown,
    DocumentConsumer,
    SubfoldersAs,
    Verdict,
)
from application.context import RequestContext
from application.document_import import DocumentImport, FileResult, Outcome
from application.users import CreateUser
from domain.document_ports import DocumentFilter, DocumentSort
from domain.documents import Document
from domain.pagination import PageRequest
from domain.uploads import UploadFilter, UploadSource, UploadStatus
from domain.users import User, UserChanges
from infrastructure.config import AppSettings
from infrastructure.container import Container, build_container
from tests.support.clock import SteppingClock
from tests.support.pdf import one_page_pdf

EMAIL = "scanner@example.com"


@dataclass(frozen=True)
class Dropped:
    name: str  # relative to the consume folder
    data: bytes

    @property
    def filename(self) -> str:
        return self.name.rsplit("/", 1)[-1]

    @property
    def folders(self) -> tuple[str, ...]:
        return tuple(self.name.split("/")[:-1])

    @property
    def size(self) -> int:
        return len(self.data)

    async def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    async def chunks(self) -> AsyncIterator[bytes]:
        yield self.data


@pytest.fixture
def app() -> Container:
    container = build_container(AppSettings(storage="memory"))
    container.clock.override(providers.Object(SteppingClock()))
    return container


async def scanner(app: Container) -> User:
    return await app.users().create(RequestContext.system(), CreateUser(email=EMAIL, name="Scan"))


def consumer(app: Container, subfolders_as: SubfoldersAs = "none") -> DocumentConsumer:
    options = ConsumeOptions(EMAIL.upper(), subfolders_as)  # e-mails in any case
    return DocumentConsumer(app.uow_factory(), app.document_import(), options)


async def documents(app: Container, user: User) -> Sequence[Document]:
    page = await app.document_reads().list_documents(
        RequestContext(actor=user), DocumentFilter(), DocumentSort.CREATED, PageRequest(100)
    )
    return page.items


async def test_a_file_becomes_a_document_of_the_consume_user(app: Container) -> None:
    user = await scanner(app)
    consume = consumer(app)

    done = await consume.consume(
        await consume.consume_user(), Dropped("scan.pdf", one_page_pdf("x"))
    )

    assert done.verdict is Verdict.DONE
    assert done.result.outcome is Outcome.IMPORTED
    [doc] = await documents(app, user)
    assert (doc.id, doc.owner_id, doc.source) == (done.result.document_id, user.id, "consume")
    async with app.uow_factory()(autocommit=True) as uow:
        [record] = (await uow.uploads.list(UploadFilter(), PageRequest(10))).items
    assert (record.source, record.status, record.user_id) == (
        UploadSource.CONSUME,
        UploadStatus.STORED,
        user.id,
    )


async def test_a_file_stored_before_is_done_as_a_duplicate(app: Container) -> None:
    user = await scanner(app)
    consume = consumer(app)
    first = await consume.consume(user, Dropped("a.txt", b"alpha"))

    again = await consume.consume(user, Dropped("a.txt", b"alpha"))

    assert (again.verdict, again.result.outcome) == (Verdict.DONE, Outcome.DUPLICATE)
    assert again.result.document_id == first.result.document_id
    assert len(await documents(app, user)) == 1


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("broken.pdf", b"%PDF-1.4 this is no pdf", "validation_failed"),
        ("fake.pdf", b"just text", "content_mismatch"),
        ("tool.exe", b"MZ", "unsupported_type"),
    ],
)
async def test_a_refused_file_fails_with_its_code_and_message(
    app: Container, name: str, data: bytes, code: str
) -> None:
    user = await scanner(app)

    failed = await consumer(app).consume(user, Dropped(name, data))

    assert failed.verdict is Verdict.FAILED
    assert failed.result.code == code
    assert failed.reason.startswith(f"{code}: ") and len(failed.reason) > len(code) + 2
    assert await documents(app, user) == []


@pytest.mark.parametrize(
    ("subfolders_as", "tags", "category"),
    [("tags", ["2024", "invoices"], None), ("category", [], "invoices"), ("none", [], None)],
)
async def test_sub_folders_give_tags_or_a_category_as_configured(
    app: Container, subfolders_as: SubfoldersAs, tags: list[str], category: str | None
) -> None:
    user = await scanner(app)
    made = await app.catalog().create_category(RequestContext.system(), "invoices")

    done = await consumer(app, subfolders_as).consume(user, Dropped("invoices/2024/a.txt", b"a"))

    assert done.verdict is Verdict.DONE, done.reason
    [doc] = await documents(app, user)
    assert sorted(doc.tags) == tags
    assert doc.category_id == (made.id if category else None)


async def test_a_category_folder_no_category_has_fails_the_file(app: Container) -> None:
    user = await scanner(app)

    failed = await consumer(app, "category").consume(user, Dropped("receipts/a.txt", b"a"))

    assert (failed.verdict, failed.result.code) == (Verdict.FAILED, "validation_failed")
    assert "receipts" in failed.reason


async def test_the_consume_user_must_be_set_known_and_active(app: Container) -> None:
    imports = app.document_import()
    with pytest.raises(ConsumeUserUnknown, match="not set"):
        await DocumentConsumer(app.uow_factory(), imports, ConsumeOptions(None)).consume_user()
    with pytest.raises(ConsumeUserUnknown, match="no active user"):
        await consumer(app).consume_user()
    user = await scanner(app)
    assert (await consumer(app).consume_user()).id == user.id

    await app.users().update(RequestContext.system(), user.id, UserChanges({"is_active": False}))

    with pytest.raises(ConsumeUserUnknown, match="no active user"):
        await consumer(app).consume_user()


class UnavailableImport(DocumentImport):
    """What `DocumentImport` answers while the database is away."""

    def __init__(self) -> None:
        pass

    async def run(self, ctx, sources, options, on_result=None):  # type: ignore[no-untyped-def]
        return [
            FileResult(s.name, Outcome.FAILED, s.size, code="storage_unavailable", message="down")
            for s in sources
        ]


async def test_an_unavailable_storage_leaves_the_file_to_be_tried_again(app: Container) -> None:
    user = await scanner(app)
    consume = DocumentConsumer(app.uow_factory(), UnavailableImport(), ConsumeOptions(EMAIL))

    later = await consume.consume(user, Dropped("a.txt", b"a"))

    assert later.verdict is Verdict.RETRY
