"""Streaming `multipart/form-data` uploads for `POST /documents` (SPEC.md §2.5).

Litestar's own form parsing reads the whole body (into spooled upload files) before a handler
runs, and knows nothing of per-type limits. Here the body is parsed as it arrives, with the
push parser Litestar itself depends on (`multipart`; not `python-multipart`, which installs a
module of the same name and breaks Litestar's import — litestar-org/litestar#4000):

- the `file` part's name is checked (`DocumentUploads.upload_policy`) as soon as its headers
  are in, so an unknown or disallowed extension gets 415 before any of its bytes are read;
- its bytes are counted while they stream into a spooled temporary file (memory first, disk
  past `SPOOL_IN_MEMORY`), and the first byte over its type's limit ends the request with 413;
- the small text fields are collected with bounded sizes; the number of parts is bounded, so
  the whole body is bounded by the file's limit plus a small allowance;
- the temporary file is closed (and so removed) whatever happens.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from tempfile import SpooledTemporaryFile
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
from application.document_uploads import SPOOL_IN_MEMORY, DocumentFields, DocumentUploads
from domain import policy
from domain.documents import MAX_TAGS
from domain.errors import PermissionDenied, TooLarge, UnsupportedType, ValidationFailed
from domain.users import User
from domain.values import AccessLevel, check_text
from interfaces.http.document_schemas import json_object

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
_WRITE_BATCH: Final = 1024 * 1024  # one thread hop per MiB of spooled file
_READ_CHUNK: Final = 64 * 1024


@dataclass(frozen=True, slots=True)
class ReceivedUpload:
    """A fully received upload: the file spooled, the fields parsed."""

    filename: str
    size_bytes: int
    fields: DocumentFields
    _spool: SpooledTemporaryFile[bytes]

    async def chunks(self) -> AsyncIterator[bytes]:
        """The file's bytes, from the start."""
        await asyncio.to_thread(self._spool.seek, 0)
        while chunk := await asyncio.to_thread(self._spool.read, _READ_CHUNK):
            yield chunk


@asynccontextmanager
async def received_upload(
    request: Request[Any, Any, Any], user: User, documents: DocumentUploads
) -> AsyncIterator[ReceivedUpload]:
    """Receive a multipart upload; the spooled file lives until the block exits.

    Raises `UnsupportedType` (415) for a body that is not multipart or a file type not
    accepted, `TooLarge` (413) as soon as the file passes its limit, `ValidationFailed` (422)
    for bad fields, `PermissionDenied` (403) before reading the file if the caller may create
    no document at all, and a 400 for a malformed multipart body."""
    media_type, options = request.content_type
    if media_type != "multipart/form-data":
        raise UnsupportedType("send the upload as multipart/form-data (or use /documents/text)")
    boundary = options.get("boundary")
    if not boundary:
        raise ClientException("multipart/form-data needs a boundary")
    # Closing the spool (leaving the block, whatever happens) removes its temporary file.
    with SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
        receiver = _Receiver(spool, user, documents)
        await receiver.receive(request.stream(), boundary)
        yield ReceivedUpload(receiver.filename, receiver.size, receiver.fields(), spool)


class _Receiver:
    def __init__(
        self, spool: SpooledTemporaryFile[bytes], user: User, documents: DocumentUploads
    ) -> None:
        self._spool = spool
        self._user = user
        self._documents = documents
        self._texts: defaultdict[str, list[str]] = defaultdict(list)
        self._text_bytes = 0
        self._limit: int | None = None  # set once the file part has started
        self._extension = ""
        self._batch: list[bytes] = []
        self._batched = 0
        self.filename = ""
        self.size = 0

    async def receive(self, stream: AsyncIterator[bytes], boundary: str) -> None:
        parser = PushMultipartParser(
            boundary, max_header_size=PART_HEADERS_MAX, max_segment_count=MAX_PARTS
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
                f"the multipart body has too many parts (at most {MAX_PARTS}) "
                "or an oversized part header"
            ) from None
        except ParserError as err:
            raise ClientException(f"the multipart body is malformed: {err}") from None
        if self._limit is None:
            raise ValidationFailed.on(FILE_FIELD, "is required: a file part with a filename")

    async def _start(self, segment: MultipartSegment) -> None:
        name = segment.name or ""
        if name == FILE_FIELD:
            if self._limit is not None:
                raise ValidationFailed.on(FILE_FIELD, "send one file per upload")
            if segment.filename is None:
                raise ValidationFailed.on(FILE_FIELD, "must be a file part with a filename")
            # Refuse callers who may create nothing before reading a byte of the file; the
            # use case checks the requested level and department again, with every field.
            if not policy.can_create(self._user, AccessLevel.L1, self._user.department):
                raise PermissionDenied("guests cannot create documents")
            file_type = await self._documents.upload_policy(segment.filename)
            self.filename = segment.filename
            self._limit = file_type.max_size_bytes
            self._extension = file_type.extension
        elif name not in TEXT_FIELDS:
            raise ValidationFailed.on(name or "(unnamed part)", "is not a field of an upload")
        elif segment.filename is not None:
            raise ValidationFailed.on(name, "must be a text field, not a file")
        elif name in SINGLE_FIELDS and self._texts[name]:
            raise ValidationFailed.on(name, "must be sent once")

    async def _file_bytes(self, chunk: bytes) -> None:
        assert self._limit is not None
        self.size += len(chunk)
        if self.size > self._limit:
            raise TooLarge(f".{self._extension} files may be at most {self._limit} bytes")
        self._batch.append(chunk)
        self._batched += len(chunk)
        if self._batched >= _WRITE_BATCH:
            await self._flush()

    async def _flush(self) -> None:
        if self._batch:
            data = b"".join(self._batch)
            self._batch, self._batched = [], 0
            await asyncio.to_thread(self._spool.write, data)

    def _field_bytes(self, name: str | None, length: int) -> None:
        if length > FIELD_MAX_BYTES:
            raise ValidationFailed.on(name or "", f"must be at most {FIELD_MAX_BYTES} bytes")
        self._text_bytes += length
        if self._text_bytes > FIELDS_MAX_BYTES:
            raise TooLarge(f"the text fields may be at most {FIELDS_MAX_BYTES} bytes in all")

    async def _end(self, segment: MultipartSegment, value: bytes) -> None:
        if segment.name == FILE_FIELD:
            await self._flush()
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
