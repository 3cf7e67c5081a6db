"""Domain errors. The HTTP layer maps each class to one status in one table."""

from __future__ import annotations

import re
from dataclasses import dataclass
from uuid import UUID


class DomainError(Exception):
    """Base of every error the domain and application raise on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


class ValidationFailed(DomainError):
    """Input breaks a rule of the domain (a bad email, a level out of range)."""

    def __init__(self, message: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.errors: list[FieldError] = errors or []

    @classmethod
    def on(cls, field_name: str, message: str) -> ValidationFailed:
        return cls(f"{field_name}: {message}", [FieldError(field_name, message)])


class NotFound(DomainError):
    """The thing does not exist, or the caller may not know that it does."""

    def __init__(self, resource: str, identifier: object) -> None:
        super().__init__(f"{resource} {identifier} was not found")
        self.resource = resource
        self.identifier = identifier


class ThumbnailNotReady(NotFound):
    """The document exists and may be read, but its thumbnail is not made (yet)."""

    def __init__(self, doc_id: object) -> None:
        DomainError.__init__(self, f"the thumbnail of document {doc_id} is not made yet")
        self.resource = "thumbnail"
        self.identifier = doc_id


class Conflict(DomainError):
    """The change collides with the current state (a taken email, the last admin)."""


class DuplicateDocument(Conflict):
    """An upload of bytes the uploader can already read as another document (`existing`)."""

    def __init__(self, message: str, existing: UUID) -> None:
        super().__init__(message)
        self.existing = existing


class PreconditionFailed(DomainError):
    """An optimistic-concurrency precondition (If-Match, expected version) does not hold."""


class PermissionDenied(DomainError):
    """The caller is known but may not do this."""


class AuthenticationFailed(DomainError):
    """No usable credentials: missing, malformed, unknown, expired, revoked or inactive."""


class TooManyAttempts(DomainError):
    """Too many refused credentials came from the caller's address lately: it may try again
    in `retry_after_seconds` (HTTP 429 with Retry-After)."""

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class UnsupportedType(DomainError):
    """The file's extension is unknown or not allowed (HTTP 415)."""


class TooLarge(DomainError):
    """The body is larger than its file type allows (HTTP 413)."""


class ContentMismatch(DomainError):
    """The bytes are not what the extension claims (a `.pdf` that is really text)."""


class ExtractionLimitExceeded(ValidationFailed):
    """Reading the text of the `file` would cost more than one file may: `limit` names which
    bound it hit (`pages`, `cpu time`, `memory`, `wall time`, or `killed` when the process
    reading it was killed from outside). HTTP 422 with its own code."""

    def __init__(self, limit: str, message: str) -> None:
        super().__init__(f"file: {message}", [FieldError("file", message)])
        self.limit = limit


class OcrUnavailable(DomainError):
    """No OCR engine is installed (or it lacks a configured language): a scanned page
    cannot be read. A background job's error, never an answer to a request."""

    def __init__(self, reason: str = "Tesseract is not installed: see README, OCR") -> None:
        super().__init__(reason)


class StorageUnavailable(DomainError):
    """The storage cannot be reached just now (the database restarts, its connections are
    exhausted): nothing was changed, and the same request may succeed if retried later."""

    def __init__(self, message: str, retry_after_seconds: int = 5) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


def error_code(err: DomainError) -> str:
    """The error's kind as records and reports name it: `UnsupportedType` is
    `unsupported_type`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(err).__name__).lower()
