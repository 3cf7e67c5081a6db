"""The consume folder (issue #12 item 7): what becomes of one file found in it.

A file is imported as the consume user by the rules of `archivist import` (`DocumentImport`:
those of an HTTP upload; a file whose bytes are stored already is skipped by its SHA-256),
with tags or a category from the sub-folders it sits in if so configured; its upload record
says `consume`. The verdict tells the folder's watcher where the file goes: `done/` (stored
now, or before), `failed/` with a reason (refused by a rule, or an error of its own), or
nowhere yet (the storage is unavailable: not the file's fault, so it is tried again later).

The watcher moves a file only after this returns, that is after the import's unit of work
has committed, so a consumer that dies mid-file leaves the file where it was; the next one
finds it, and if its document was committed it is then a duplicate and goes to `done/`.

One consumer per database at a time (`ConsumerLease`); the SHA-256 check in the upload's
own unit of work, under the blob lock of those bytes, keeps a second document out even if
two consumers ever took the same file at once."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal, Protocol

from application.context import RequestContext
from application.document_import import (
    DocumentImport,
    FileResult,
    ImportOptions,
    ImportSource,
    Outcome,
)
from application.document_store import DocumentFields
from domain.errors import DomainError, StorageUnavailable, error_code
from domain.ports import UnitOfWorkFactory
from domain.uploads import UploadSource
from domain.users import User
from domain.values import normalize_email

SubfoldersAs = Literal["tags", "category", "none"]

# Documents made from the folder say where they came from.
DOCUMENT_SOURCE = "consume"
USER_AGENT = "archivist consume folder"


class ConsumedFile(ImportSource, Protocol):
    """A file found in the consume folder."""

    @property
    def folders(self) -> tuple[str, ...]:
        """The sub-folders between the consume folder and the file, outermost first."""


class ConsumerLease(Protocol):
    """Who consumes: at most one holder at a time across every process on one database."""

    async def acquire(self) -> bool:
        """Try to become the consumer: True if this holder is it (now, or already). Never
        waits for another holder; raises what reaching the storage raises."""
        ...

    async def still_held(self) -> bool:
        """Whether this holder still is the consumer (False once the lease was lost: its
        connection to the database went away). Never raises."""
        ...

    async def release(self) -> None:
        """Stop being the consumer (nothing if not). Never raises."""
        ...


class ConsumeUserUnknown(DomainError):
    """The configured consume user is not set, unknown or not active."""


class Verdict(enum.StrEnum):
    DONE = "done"  # stored, or stored before: move it to done/
    FAILED = "failed"  # refused, or an error of the file's own: move it to failed/
    RETRY = "retry"  # the storage is unavailable: leave it, try again later


@dataclass(frozen=True)
class ConsumeResult:
    verdict: Verdict
    result: FileResult

    @property
    def reason(self) -> str:
        """Why it failed, for its reason file: the error's code and message."""
        return f"{self.result.code}: {self.result.message}"


@dataclass(frozen=True)
class ConsumeOptions:
    user_email: str | None  # the consume user
    subfolders_as: SubfoldersAs = "none"


class DocumentConsumer:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        document_import: DocumentImport,
        options: ConsumeOptions,
    ) -> None:
        self._uow = uow_factory
        self._import = document_import
        self._options = options

    async def consume_user(self) -> User:
        """The active user files are consumed as. Raises `ConsumeUserUnknown` when none is
        configured or no active user has the e-mail, `StorageUnavailable` as reads do."""
        email = self._options.user_email
        if not email:
            raise ConsumeUserUnknown("ARCHIVIST_CONSUME_USER is not set")
        try:
            address = normalize_email(email, "consume_user")
        except DomainError as err:
            raise ConsumeUserUnknown(f"ARCHIVIST_CONSUME_USER: {err.message}") from err
        async with self._uow(autocommit=True) as uow:
            user = await uow.users.get_by_email(address)
        if user is None or not user.is_active:
            raise ConsumeUserUnknown(f"ARCHIVIST_CONSUME_USER: no active user {email!r}")
        return user

    def fields_for(self, folders: tuple[str, ...]) -> DocumentFields:
        """The fields of a document made from a file in `folders`: with `tags`, each folder
        name is a tag (made if missing); with `category`, the outermost folder names an
        existing category (a name no category has fails the file); else none."""
        match self._options.subfolders_as:
            case "tags":
                return DocumentFields(tags=folders, source=DOCUMENT_SOURCE)
            case "category" if folders:
                return DocumentFields(category=folders[0], source=DOCUMENT_SOURCE)
            case _:
                return DocumentFields(source=DOCUMENT_SOURCE)

    async def consume(self, user: User, file: ConsumedFile) -> ConsumeResult:
        """Import `file` as `user` (found by `consume_user`): what became of it and where
        it goes. Raises nothing for the file's own faults (they are the verdict)."""
        ctx = RequestContext(actor=user, user_agent=USER_AGENT)
        options = ImportOptions(
            fields=self.fields_for(file.folders),
            on_duplicate="skip",
            jobs=1,
            upload_source=UploadSource.CONSUME,
        )
        [result] = await self._import.run(ctx, [file], options)
        return ConsumeResult(_verdict(result), result)


_UNAVAILABLE = error_code(StorageUnavailable(""))


def _verdict(result: FileResult) -> Verdict:
    if result.outcome in (Outcome.IMPORTED, Outcome.DUPLICATE):
        return Verdict.DONE
    if result.outcome is Outcome.FAILED and result.code == _UNAVAILABLE:
        return Verdict.RETRY
    return Verdict.FAILED
