"""Streaming `multipart/form-data` uploads for `POST /documents` (SPEC.md §2.5).

Litestar's own form parsing reads the whole body (into spooled upload files) before a handler
runs, and knows nothing of per-type limits. Here the body is parsed as it arrives, with the
push parser Litestar itself depends on (`multipart`; not `python-multipart`, which installs a
module of the same name and breaks Litestar's import — litestar-org/litestar#4000):

- as soon as the `file` part's headers are in, the use case is asked for a spool for it
  (`DocumentUploads.open_spool`): a caller who may create nothing gets 403 and an unknown or
  disallowed extension 415, before any of the file's bytes are read;
- its bytes stream into that spool, which counts them against the limit of their type (the
  first byte over it ends the request with 413) and hashes them once, for the blob store;
- the small text fields are collected with bounded sizes; the number of parts is bounded, so
  the whole body is bounded by the file's limit plus a small allowance;
- the spool is closed (its temporary file removed) whatever happens.

The use case then takes the spool as it is (`DocumentUploads.upload_spooled`): nothing is
spooled, read or hashed twice.

The web interface's upload form sends several files in one body (`received_files`): the same
parser, fields and limits, and the same early decisions per file, except that a file refused
as it arrives (its type, its size) is kept as that file's outcome, its remaining bytes read and
dropped, and the other files go on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final, Literal

from litestar import Request
from litestar.exceptions import ClientException
from multipart import (  # type: ignore[import-untyped]
    MultipartSegment,
    ParserError,
    ParserLimitReached,
    PushMultipartParser,
)

from application.catalog import MAX_UPLOAD_LIMIT
from application.context import RequestContext
from application.document_store import DocumentFields
from application.document_uploads import DocumentUploads
from application.file_spool import FileSpool
from application.upload_log import UploadTrace
from domain.documents import MAX_TAGS
from domain.errors import DomainError, PermissionDenied, TooLarge, UnsupportedType, ValidationFailed
from domain.values import AccessLevel, check_text
from interfaces.http.schemas.common import json_object

FILE_FIELD: Final = "file"
SINGLE_FIELDS: Final = frozenset(
    {
        "title",
        "access_level",
        "department",
        "category",
        "metadata",
        "source",
        "on_duplicate",
        "taxonomy_path",
        "taxonomy_version",
    }
)
REPEATABLE_FIELDS: Final = frozenset({"tags"})
TEXT_FIELDS: Final = SINGLE_FIELDS | REPEATABLE_FIELDS

FIELD_MAX_BYTES: Final = 128 * 1024  # one text field: metadata encodes to at most 64 KiB
FIELDS_MAX_BYTES: Final = 256 * 1024  # every text field together
MAX_PARTS: Final = 1 + len(SINGLE_FIELDS) + MAX_TAGS
PART_HEADERS_MAX: Final = 4096 + 128
# The most any upload body can be: the largest limit a file type may have, the fields, and
# the parts' headers and boundaries. Litestar refuses bodies above it on this route; within it,
# the parser's own limits and the file type's limit apply.
BODY_MAX_BYTES: Final = MAX_UPLOAD_LIMIT + FIELDS_MAX_BYTES + MAX_PARTS * (PART_HEADERS_MAX + 256)


@dataclass(frozen=True, slots=True)
class ReceivedUpload:
    """A fully received upload: the file in its spool, the fields parsed."""

    spool: FileSpool
    fields: DocumentFields


@asynccontextmanager
async def received_upload(
    request: Request[Any, Any, Any],
    ctx: RequestContext,
    documents: DocumentUploads,
    trace: UploadTrace | None = None,
) -> AsyncIterator[ReceivedUpload]:
    """Receive a multipart upload; the spooled file lives until the block exits.

    Raises `UnsupportedType` (415) for a body that is not multipart or a file type not
    accepted, `TooLarge` (413) as soon as the file passes its limit, `ValidationFailed` (422)
    for bad fields, `PermissionDenied` (403) before reading the file if the caller may create
    no document at all, and a 400 for a malformed multipart body. `trace` (the upload's
    record) learns the file's name and its spool as they come."""
    boundary = _boundary(request)
    receiver = _Receiver(ctx, documents, trace or UploadTrace())
    try:
        await receiver.receive(request.stream(), boundary)
        yield ReceivedUpload(receiver.spool(), receiver.fields())
    finally:
        receiver.close()  # removes the spool's temporary file, whatever happened


def _boundary(request: Request[Any, Any, Any]) -> str:
    media_type, options = request.content_type
    if media_type != "multipart/form-data":
        raise UnsupportedType("send the upload as multipart/form-data (or use /documents/text)")
    boundary = options.get("boundary")
    if not boundary:
        raise ClientException("multipart/form-data needs a boundary")
    return boundary


class _Receiver:
    def __init__(self, ctx: RequestContext, documents: DocumentUploads, trace: UploadTrace) -> None:
        self._ctx = ctx
        self._documents = documents
        self._trace = trace
        self._texts: defaultdict[str, list[str]] = defaultdict(list)
        self._text_bytes = 0
        self._spool: FileSpool | None = None  # set once the file part has started
        self._max_parts = MAX_PARTS

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()

    def spool(self) -> FileSpool:
        """The received file (after `receive`)."""
        if self._spool is None:
            raise ValidationFailed.on(FILE_FIELD, "is required: a file part with a filename")
        return self._spool

    async def receive(self, stream: AsyncIterator[bytes], boundary: str) -> None:
        parser = PushMultipartParser(
            boundary, max_header_size=PART_HEADERS_MAX, max_segment_count=self._max_parts
        )
        segment: MultipartSegment | None = None
        value = bytearray()
        try:
            async for chunk in stream:
                for event in parser.parse(chunk):
                    if isinstance(event, MultipartSegment):
                        segment = event
                        value.clear()
                        await self._start(segment)
                    elif event is None:
                        assert segment is not None  # the parser opens a segment first
                        await self._end(segment, bytes(value))
                        segment = None
                    elif segment is not None and segment.name == FILE_FIELD:
                        await self._file_bytes(event)
                    elif segment is not None:
                        self._field_bytes(segment.name, len(value) + len(event))
                        value.extend(event)
                if parser.closed:
                    break
            parser.close()
        except ParserLimitReached:
            raise ClientException(
                f"the multipart body has too many parts (at most {self._max_parts}) "
                "or an oversized part header"
            ) from None
        except ParserError as err:
            raise ClientException(f"the multipart body is malformed: {err}") from None

    async def _start(self, segment: MultipartSegment) -> None:
        name = segment.name or ""
        if name == FILE_FIELD:
            if self._spool is not None:
                raise ValidationFailed.on(FILE_FIELD, "send one file per upload")
            if segment.filename is None:
                raise ValidationFailed.on(FILE_FIELD, "must be a file part with a filename")
            # The use case's early decisions (403, 415), before a byte of the file is read.
            self._trace.filename = segment.filename
            self._spool = await self._documents.open_spool(self._ctx, segment.filename)
            self._trace.spool = self._spool
        elif name not in TEXT_FIELDS:
            raise ValidationFailed.on(name or "(unnamed part)", "is not a field of an upload")
        elif segment.filename is not None:
            raise ValidationFailed.on(name, "must be a text field, not a file")
        elif name in SINGLE_FIELDS and self._texts[name]:
            raise ValidationFailed.on(name, "must be sent once")

    async def _file_bytes(self, chunk: bytes) -> None:
        assert self._spool is not None  # the file part has started
        await self._spool.write(chunk)  # 413 at the first byte over the type's limit

    def _field_bytes(self, name: str | None, length: int) -> None:
        if length > FIELD_MAX_BYTES:
            raise ValidationFailed.on(name or "", f"must be at most {FIELD_MAX_BYTES} bytes")
        self._text_bytes += length
        if self._text_bytes > FIELDS_MAX_BYTES:
            raise TooLarge(f"the text fields may be at most {FIELDS_MAX_BYTES} bytes in all")

    async def _end(self, segment: MultipartSegment, value: bytes) -> None:
        if segment.name == FILE_FIELD:
            assert self._spool is not None
            await self._spool.flush()
            return
        name = segment.name or ""
        try:
            text = value.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise ValidationFailed.on(name, "must be UTF-8 text") from None
        self._texts[name].append(check_text(text, name))  # no NUL: PostgreSQL text refuses it

    def fields(self) -> DocumentFields:
        """The fields as the use case takes them. An empty text field counts as absent (what
        an HTML form sends for a field left blank)."""
        one = {name: values[0] for name, values in self._texts.items() if values and values[0]}
        return DocumentFields(
            title=one.get("title"),
            access_level=_access_level(one.get("access_level")),
            department=one.get("department"),
            category=one.get("category"),
            tags=tuple(t for t in self._texts.get("tags", []) if t),
            metadata=json_object(one.get("metadata"), "metadata"),
            source=one.get("source"),
            on_duplicate=_on_duplicate(one.get("on_duplicate")),
            taxonomy_path=one.get("taxonomy_path"),
            taxonomy_version=one.get("taxonomy_version"),
        )


@dataclass(frozen=True, slots=True)
class ReceivedFile:
    """One file of a body of several: its name as sent, and its spool, or why it was
    refused as it arrived (`UnsupportedType`, `TooLarge`, `ValidationFailed` for its name).
    A refused file's spool, if it had one, holds what arrived before the refusal."""

    filename: str
    spool: FileSpool | None
    refusal: DomainError | None = None


@dataclass(frozen=True, slots=True)
class ReceivedFiles:
    """A fully received body of several files (`received_files`)."""

    files: tuple[ReceivedFile, ...]
    extras: dict[str, str]  # the caller's own text fields, by name (first value)
    _receiver: _FilesReceiver

    def fields(self) -> DocumentFields:
        """The upload fields, applied to every file; `ValidationFailed` for a bad one."""
        return self._receiver.fields()

    def sent(self, name: str) -> str:
        """The text field `name` as sent (its first value; "" when absent): what a form
        shows again."""
        return self._receiver.sent(name)


@asynccontextmanager
async def received_files(
    request: Request[Any, Any, Any],
    ctx: RequestContext,
    documents: DocumentUploads,
    *,
    max_files: int,
    extra_fields: frozenset[str] = frozenset(),
) -> AsyncIterator[ReceivedFiles]:
    """Receive a multipart body of up to `max_files` parts named `file` (a form's file input
    with `multiple`) and the upload's fields, which apply to every file; the spools live
    until the block exits. `extra_fields`: text fields of the caller's own (the form's CSRF
    token), read with the same bounds and returned in `extras`.

    Per file, what `received_upload` would raise for it as it arrives is kept as its
    `refusal` instead. A file input left empty (a part with an empty filename) is no file.
    Raises what concerns the whole body: `PermissionDenied` if the caller may create no
    document at all (before any file's bytes are read), `ValidationFailed` for no file, too
    many, or a bad part, `UnsupportedType` for a body that is not multipart, a 400 for a
    malformed one."""
    boundary = _boundary(request)
    receiver = _FilesReceiver(ctx, documents, max_files, extra_fields)
    try:
        await receiver.receive(request.stream(), boundary)
        yield ReceivedFiles(receiver.received(), receiver.extras(), receiver)
    finally:
        receiver.close()  # removes every spool's temporary file, whatever happened


class _FilesReceiver(_Receiver):
    def __init__(
        self,
        ctx: RequestContext,
        documents: DocumentUploads,
        max_files: int,
        extra_fields: frozenset[str],
    ) -> None:
        super().__init__(ctx, documents, UploadTrace())
        self._max_files = max_files
        self._extra_fields = extra_fields - TEXT_FIELDS - {FILE_FIELD}
        self._max_parts = max_files + len(SINGLE_FIELDS) + MAX_TAGS + len(self._extra_fields)
        self._files: list[ReceivedFile] = []
        self._current: FileSpool | None = None  # the spool the file part now arriving fills

    def close(self) -> None:
        for received in self._files:
            if received.spool is not None:
                received.spool.close()

    def received(self) -> tuple[ReceivedFile, ...]:
        if not self._files:
            raise ValidationFailed.on(FILE_FIELD, "is required: a file part with a filename")
        return tuple(self._files)

    def extras(self) -> dict[str, str]:
        return {name: self._texts[name][0] for name in self._extra_fields if self._texts[name]}

    def sent(self, name: str) -> str:
        values = self._texts.get(name)
        return values[0] if values else ""

    async def _start(self, segment: MultipartSegment) -> None:
        name = segment.name or ""
        if name in self._extra_fields:
            if segment.filename is not None:
                raise ValidationFailed.on(name, "must be a text field, not a file")
            if self._texts[name]:
                raise ValidationFailed.on(name, "must be sent once")
            return
        if name != FILE_FIELD:
            await super()._start(segment)
            return
        self._current = None
        if segment.filename is None:
            raise ValidationFailed.on(FILE_FIELD, "must be a file part with a filename")
        if not segment.filename:
            return  # a file input left empty: its (empty) part is read and dropped
        if len(self._files) >= self._max_files:
            raise ValidationFailed.on(FILE_FIELD, f"send at most {self._max_files} files at once")
        try:
            spool = await self._documents.open_spool(self._ctx, segment.filename)
        except PermissionDenied:
            raise  # no file at all may be created: nothing is read
        except DomainError as err:
            self._files.append(ReceivedFile(segment.filename, None, err))
            return
        self._files.append(ReceivedFile(segment.filename, spool))
        self._current = spool

    async def _file_bytes(self, chunk: bytes) -> None:
        if self._current is None:
            return  # a refused file's bytes are read and dropped
        try:
            await self._current.write(chunk)
        except TooLarge as err:
            last = self._files[-1]
            self._files[-1] = ReceivedFile(last.filename, last.spool, err)
            self._current = None

    async def _end(self, segment: MultipartSegment, value: bytes) -> None:
        if segment.name != FILE_FIELD:
            await super()._end(segment, value)
        elif self._current is not None:
            await self._current.flush()
            self._current = None


def _access_level(raw: str | None) -> int:
    if raw is None:
        return int(AccessLevel.L1)
    if raw not in {"1", "2", "3"}:
        raise ValidationFailed.on("access_level", "must be 1, 2 or 3")
    return int(raw)


def _on_duplicate(raw: str | None) -> Literal["reject", "allow"]:
    if raw is None or raw == "reject":
        return "reject"
    if raw == "allow":
        return "allow"
    raise ValidationFailed.on("on_duplicate", "must be reject or allow")
