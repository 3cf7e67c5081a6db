"""What has been done to a document after it was stored (issue #12 item 4): its processing
state per kind of background work ("thumbnail", "ocr", ...).

A document has one state per kind that concerns it; a kind that has no row for a document
was never asked for it (read as "not applicable"). The use case that enqueues a document's
job marks the kind `pending` in the same unit of work; the job's handler marks it `done` or
`not_applicable`; a job that fails for good marks it `failed` with the reason (the worker
does this, so a handler that raises need not).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.errors import ValidationFailed

# A failure's reason as kept: long enough for an exception's type and message.
REASON_MAX = 2000
# A kind is a job kind's name ("thumbnail", "ocr"): short, lower-case ASCII.
KIND_MAX = 50
_KIND = re.compile(r"[a-z][a-z0-9_.-]*")
# The kind whose pending or failed state makes a document `needs_ocr`.
OCR = "ocr"


class ProcessingState(enum.StrEnum):
    PENDING = "pending"  # a job is queued or running
    DONE = "done"
    FAILED = "failed"  # the job failed for good: `reason` says why
    NOT_APPLICABLE = "not_applicable"  # the kind does not apply to this document's file


def check_kind(kind: str) -> str:
    """`kind` if it can name a kind of work, else `ValueError` (a wiring mistake)."""
    if not isinstance(kind, str) or len(kind) > KIND_MAX or _KIND.fullmatch(kind) is None:
        raise ValueError(f"a processing kind must match {_KIND.pattern} (at most {KIND_MAX})")
    return kind


def kept_reason(state: ProcessingState, reason: str | None) -> str | None:
    """The reason as every adapter keeps it: only for FAILED, at most `REASON_MAX`
    characters, and storable as PostgreSQL text (no NUL, no lone surrogate)."""
    if state is not ProcessingState.FAILED or reason is None:
        return None
    text = reason.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return text[:REASON_MAX]


@dataclass(frozen=True, slots=True)
class ProcessingFilter:
    """Documents with a kind of work in `state` (`kind` None: any kind)."""

    state: ProcessingState
    kind: str | None = None

    @classmethod
    def parse(cls, raw: str, field_name: str = "processing") -> ProcessingFilter:
        """`<state>` or `<kind>:<state>` (`thumbnail:failed`); `ValidationFailed` otherwise."""
        kind, _, state = raw.rpartition(":")
        try:
            parsed = ProcessingState(state)
        except ValueError:
            states = ", ".join(s.value for s in ProcessingState)
            raise ValidationFailed.on(
                field_name, f"must be <state> or <kind>:<state>, a state one of {states}"
            ) from None
        if not kind:
            if raw != state:  # ":failed"
                raise ValidationFailed.on(field_name, "the kind before ':' must not be empty")
            return cls(parsed)
        try:
            return cls(parsed, check_kind(kind))
        except ValueError:
            raise ValidationFailed.on(
                field_name, f"the kind must match {_KIND.pattern} (at most {KIND_MAX} characters)"
            ) from None


# The states of the "ocr" kind that make a document `needs_ocr` (its text lacks OCR's part).
NEEDS_OCR = frozenset({ProcessingState.PENDING, ProcessingState.FAILED})


def needs_ocr(states: Mapping[str, Processing]) -> bool:
    ocr = states.get(OCR)
    return ocr is not None and ocr.state in NEEDS_OCR


@dataclass(frozen=True, slots=True)
class Processing:
    """One kind of work on one document: its state, why it failed, when it last changed."""

    kind: str
    state: ProcessingState
    reason: str | None
    updated_at: datetime


class ProcessingRepository(Protocol):
    async def mark(
        self,
        document_id: UUID,
        kind: str,
        state: ProcessingState,
        at: datetime,
        reason: str | None = None,
    ) -> None:
        """Set the state of `kind` on a document (insert or replace), in this unit of work.
        `reason` is kept only for FAILED (cut to `REASON_MAX` characters) and cleared
        otherwise. A document that does not exist (purged meanwhile) is not an error:
        nothing is written. Raises `ValueError` for a kind `check_kind` refuses."""
        ...

    async def mark_all(
        self, document_ids: Sequence[UUID], kind: str, state: ProcessingState, at: datetime
    ) -> None:
        """`mark` of several documents with one state (no reason: not for FAILED), in one
        statement on SQL (a batch of uploads)."""
        ...

    async def of(self, document_id: UUID) -> Mapping[str, Processing]:
        """Every kind's state on a document, by kind (empty for a document with none)."""
        ...

    async def of_many(
        self, document_ids: Sequence[UUID]
    ) -> Mapping[UUID, Mapping[str, Processing]]:
        """`of` for several documents at once (a listing page): documents with no state are
        left out."""
        ...
