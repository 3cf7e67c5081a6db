"""The upload page (issue #14, "upload"): a plain multipart form of several files and the
fields they share, and what became of each file: stored, a duplicate of a document the viewer
can read, or refused and why. One file's refusal leaves the others stored.

The router's admission hook has checked the CSRF token (the form's hidden field is its first
part; a script sends the header). The body is received as the API's upload route receives it
(`interfaces.http.uploads`: streamed, each file's type and size decided as it arrives, the
same field rules), and each file goes through the same use case
(`DocumentUploads.upload_spooled`), recorded in the upload log as an HTTP upload. Guests are
shown no upload (403), as the API refuses them.

With JavaScript (static/enhance/upload.js) the same route takes one file per request, asked
for as JSON, so each file has its own progress bar; the page then asks
`/documents/{id}/processing.json` (the processing state the API's document carries) until the
background work (thumbnail, OCR) is done."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from application.catalog import CatalogService
from application.context import RequestContext
from application.document_store import DocumentFields
from application.document_uploads import DocumentUploads
from application.processing import DocumentProcessing
from application.upload_log import UploadLog
from domain import policy
from domain.documents import TYPE_OF_EXTENSION, Document
from domain.errors import (
    DomainError,
    DuplicateDocument,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    error_code,
)
from domain.processing import Processing as DomainProcessing
from domain.processing import ProcessingState
from domain.uploads import UploadSource
from domain.values import AccessLevel
from interfaces.http.auth import client_ip
from interfaces.http.schemas.documents import Processing
from interfaces.http.uploads import BODY_MAX_BYTES, ReceivedFile, received_files
from interfaces.web.rendering import page, signed_in_viewer
from interfaces.web.session import CSRF_FIELD, Viewer

UPLOAD_PATH: Final = "/upload"
# Files one form may send at once (each within its type's limit).
MAX_FILES: Final = 20
# The form's description is kept in the document's metadata under this key.
DESCRIPTION_FIELD: Final = "description"
FORM_FIELDS: Final = ("file", "tags", "category", "access_level", "department", "description")
_GUESTS_REFUSED: Final = "guests cannot create documents"


class Outcome(enum.StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """What became of one file. `document_id`: the new document (stored) or the readable
    one holding the same bytes (duplicate). `code` and `reason`: why it was refused, as the
    API's problem details say it (`code` as the upload log names the error)."""

    filename: str
    outcome: Outcome
    document_id: UUID | None = None
    title: str | None = None
    code: str | None = None
    reason: str | None = None
    processing: Mapping[str, DomainProcessing] = field(default_factory=dict)
    field_errors: Mapping[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "outcome": self.outcome.value,
            "document_id": str(self.document_id) if self.document_id else None,
            "url": f"/documents/{self.document_id}" if self.document_id else None,
            "title": self.title,
            "code": self.code,
            "reason": self.reason,
            "processing_url": processing_url(self.document_id)
            if self.outcome is Outcome.STORED and self.document_id
            else None,
            "processing": processing_json(self.processing),
        }


def processing_url(doc_id: UUID) -> str:
    return f"/documents/{doc_id}/processing.json"


def processing_json(states: Mapping[str, DomainProcessing]) -> dict[str, Any]:
    """The states as the API's document representation carries them (`processing`)."""
    return {
        kind: Processing.of(state).model_dump(mode="json") for kind, state in sorted(states.items())
    }


def is_done(states: Mapping[str, DomainProcessing]) -> bool:
    return all(s.state is not ProcessingState.PENDING for s in states.values())


def _viewer(request: Request[Any, Any, Any]) -> Viewer:
    viewer = signed_in_viewer(request)
    assert viewer is not None  # the admission hook sent anonymous visitors to sign in
    return viewer


def _uploader(request: Request[Any, Any, Any]) -> Viewer:
    """The viewer, who may upload: guests are refused (403), as the API refuses them."""
    viewer = _viewer(request)
    if not viewer.may_upload:
        raise PermissionDenied(_GUESTS_REFUSED)
    return viewer


def _context(request: Request[Any, Any, Any], viewer: Viewer) -> RequestContext:
    return RequestContext(
        actor=viewer.user,
        client_ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _split_tags(tags: Sequence[str]) -> tuple[str, ...]:
    """The form's tags field holds several, separated by commas (the API's repeated field
    holds one each)."""
    return tuple(dict.fromkeys(t.strip() for raw in tags for t in raw.split(",") if t.strip()))


def _form_fields(fields: DocumentFields, extras: Mapping[str, str]) -> DocumentFields:
    """The upload fields as the form means them: tags split at commas, the description
    kept in the metadata."""
    metadata = fields.metadata
    description = extras.get(DESCRIPTION_FIELD)
    if description:
        metadata = {**(metadata or {}), DESCRIPTION_FIELD: description}
    return replace(fields, tags=_split_tags(fields.tags), metadata=metadata)


def _field_errors(err: ValidationFailed) -> dict[str, str]:
    """The API's field messages, by the form field that shows them (others by the files)."""
    if not err.errors:
        return {"file": err.message}
    out: dict[str, str] = {}
    for e in err.errors:
        name = DESCRIPTION_FIELD if e.field == "metadata" else e.field
        out.setdefault(name if name in FORM_FIELDS else "file", e.message)
    return out


@dataclass(frozen=True, slots=True)
class FormChoices:
    """What the form offers this viewer: the categories, the levels and the departments
    they may create documents for (the policy's rule, as the use case applies it)."""

    categories: tuple[str, ...]
    levels: tuple[int, ...]
    departments: tuple[str, ...] | None  # None: any (an admin types one)
    file_types: tuple[AcceptedType, ...]

    @property
    def accept(self) -> str:
        """The file input's `accept`: the extensions an upload may have."""
        return ",".join(f".{t.extension}" for t in self.file_types)


@dataclass(frozen=True, slots=True)
class AcceptedType:
    """An extension the upload policy accepts, and its size limit in MiB (one decimal)."""

    extension: str
    max_mib: str


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}".removesuffix(".0")


async def _choices(request: Request[Any, Any, Any], viewer: Viewer) -> FormChoices:
    catalog: CatalogService = request.app.state.container.catalog()
    categories = tuple(c.name for c in await catalog.categories() if c.is_active)
    file_types = tuple(
        AcceptedType(t.extension, _mib(t.max_size_bytes))
        for t in await catalog.file_types()
        if t.is_allowed and t.extension in TYPE_OF_EXTENSION
    )
    user = viewer.user
    levels = tuple(int(lv) for lv in AccessLevel if policy.can_create(user, lv, None))
    departments: tuple[str, ...] | None = None
    if not user.is_admin:
        departments = tuple(d for d in (user.department,) if d is not None)
    return FormChoices(categories, levels, departments, file_types)


def _values(form: Mapping[str, str]) -> dict[str, str]:
    return {name: form.get(name, "") for name in FORM_FIELDS if name != "file"}


class UploadPageController(Controller):
    path = "/"
    include_in_schema = False

    @get(UPLOAD_PATH)
    async def upload_form(self, request: Request[Any, Any, Any]) -> Response[Any]:
        viewer = _uploader(request)
        return page(
            request,
            "upload/upload.html",
            choices=await _choices(request, viewer),
            values=_values({}),
            errors={},
            outcomes=[],
            max_files=MAX_FILES,
        )

    @post(UPLOAD_PATH, status_code=200, request_max_body_size=MAX_FILES * BODY_MAX_BYTES)
    async def upload(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """The files of the form (or the one file a script sends), each stored, found to be
        a duplicate, or refused; as a page, or as JSON when the request asks for JSON."""
        viewer = _uploader(request)
        ctx = _context(request, viewer)
        container = request.app.state.container
        uploads: DocumentUploads = container.document_uploads()
        upload_log: UploadLog = container.upload_log()
        errors: dict[str, str] = {}
        settled: list[tuple[FileOutcome, Document | None]] = []
        values = _values({})
        try:
            async with received_files(
                request,
                ctx,
                uploads,
                max_files=MAX_FILES,
                # The router checked the token (taken out of the body when it came first);
                # a script's FormData may carry the hidden field again: ignored.
                extra_fields=frozenset({CSRF_FIELD, DESCRIPTION_FIELD}),
            ) as received:
                values = {name: received.sent(name) for name in values}
                fields: DocumentFields | ValidationFailed
                try:
                    fields = _form_fields(received.fields(), received.extras)
                except ValidationFailed as err:
                    fields = err
                for file in received.files:
                    settled.append(await _settle(ctx, uploads, upload_log, file, fields))
        except ValidationFailed as err:  # the body as a whole: no file, too many, a bad part
            errors = _field_errors(err)
        outcomes = await _with_processing(request, settled)
        for outcome in outcomes:  # a field's rule refuses every file: said by the field too
            errors = {**outcome.field_errors, **errors}
        status = 422 if errors else 200
        if _wants_json(request):
            return Response(
                {"files": [o.as_json() for o in outcomes], "errors": errors}, status_code=status
            )
        return page(
            request,
            "upload/upload.html",
            status=status,
            choices=await _choices(request, viewer),
            values=values,
            errors=errors,
            outcomes=outcomes,
            max_files=MAX_FILES,
        )

    @get("/documents/{doc_id:uuid}/processing.json")
    async def processing(
        self, request: Request[Any, Any, Any], doc_id: FromPath[UUID]
    ) -> Response[Any]:
        """The processing state of a document the viewer may read, as the API's document
        carries it, and whether nothing is pending any more; 404 for any other document.
        Reading it records no view (the upload page asks again and again)."""
        viewer = _viewer(request)
        service: DocumentProcessing = request.app.state.container.document_processing()
        headers = {"Cache-Control": "no-store"}
        try:
            states = await service.of_readable(_context(request, viewer), doc_id)
        except NotFound:
            return Response(
                {"status": 404, "detail": "not found"}, status_code=404, headers=headers
            )
        return Response(
            {
                "document_id": str(doc_id),
                "processing": processing_json(states),
                "done": is_done(states),
            },
            headers=headers,
        )


async def _settle(
    ctx: RequestContext,
    uploads: DocumentUploads,
    upload_log: UploadLog,
    file: ReceivedFile,
    fields: DocumentFields | ValidationFailed,
) -> tuple[FileOutcome, Document | None]:
    """One file through the use case, recorded as one upload attempt (as the API records
    each): its refusal as it arrived, the fields' refusal, or what the use case made of it
    (with the document stored)."""
    try:
        async with upload_log.attempt(ctx, UploadSource.HTTP) as trace:
            trace.filename = file.filename
            trace.spool = file.spool
            if file.refusal is not None:
                raise file.refusal
            if isinstance(fields, ValidationFailed):
                raise fields
            assert file.spool is not None  # a file not refused has its spool
            document = trace.document = await uploads.upload_spooled(ctx, file.spool, fields)
    except DuplicateDocument as err:
        duplicate = FileOutcome(
            file.filename, Outcome.DUPLICATE, err.existing, code="duplicate", reason=err.message
        )
        return duplicate, None
    except DomainError as err:
        refused = FileOutcome(
            file.filename,
            Outcome.REFUSED,
            code=error_code(err),
            reason=err.message,
            field_errors=_form_field_errors(err),
        )
        return refused, None
    return FileOutcome(file.filename, Outcome.STORED, document.id, document.title), document


def _form_field_errors(err: DomainError) -> dict[str, str]:
    """A refusal by the rule of one of the form's shared fields, by that field (a refusal
    of the file itself is the file's alone)."""
    if not isinstance(err, ValidationFailed):
        return {}
    return {k: v for k, v in _field_errors(err).items() if k != "file"}


async def _with_processing(
    request: Request[Any, Any, Any], settled: list[tuple[FileOutcome, Document | None]]
) -> list[FileOutcome]:
    """The outcomes, the stored ones with their processing state (one read for them all)."""
    stored = [document for _, document in settled if document is not None]
    if not stored:
        return [outcome for outcome, _ in settled]
    service: DocumentProcessing = request.app.state.container.document_processing()
    states = await service.of(stored)
    return [
        replace(outcome, processing=states.get(document.id, {})) if document else outcome
        for outcome, document in settled
    ]
