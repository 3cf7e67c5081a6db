"""A versioned taxonomy: trees of labelled nodes, published versions frozen, documents
classified into nodes with a confidence and an optional human review."""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from uuid import UUID

from domain.errors import Conflict, DomainError, NotFound, ValidationFailed

VERSION_RE: Final = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,19}$")
LABEL_MAX: Final = 100
PATH_MAX_DEPTH: Final = 20
SUGGESTIONS: Final = 5

Path = tuple[str, ...]


class TaxonomyStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


def parse_version(raw: str, field_name: str = "version") -> str:
    if not isinstance(raw, str) or not VERSION_RE.match(raw):
        raise ValidationFailed.on(
            field_name, "must be 1-20 letters, digits, '.', '_' or '-' (e.g. 1.0.0)"
        )
    return raw


def parse_path(raw: str | Sequence[str], field_name: str = "path") -> Path:
    """`A/B/C` (or a list of labels) as a path. Labels are stripped, 1-100 characters, no
    '/' or control characters; at most 20 levels."""
    parts = raw.split("/") if isinstance(raw, str) else list(raw)
    if not parts or (isinstance(raw, str) and not raw.strip()):
        raise ValidationFailed.on(field_name, "must not be empty")
    labels = []
    for part in parts:
        if not isinstance(part, str):
            raise ValidationFailed.on(field_name, "labels must be strings")
        label = part.strip()
        if not label:
            raise ValidationFailed.on(field_name, "has an empty segment")
        if len(label) > LABEL_MAX:
            raise ValidationFailed.on(
                field_name, f"segments must be at most {LABEL_MAX} characters"
            )
        if "/" in label or any(ord(ch) < 32 or ord(ch) == 127 for ch in label):
            raise ValidationFailed.on(
                field_name, "segments must not contain '/' or control characters"
            )
        labels.append(label)
    if len(labels) > PATH_MAX_DEPTH:
        raise ValidationFailed.on(field_name, f"must be at most {PATH_MAX_DEPTH} levels deep")
    return tuple(labels)


def format_path(path: Path) -> str:
    return "/".join(path)


def parse_confidence(raw: float) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ValidationFailed.on("confidence", "must be a number from 0 to 1")
    value = float(raw)
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise ValidationFailed.on("confidence", "must be a number from 0 to 1")
    return value


@dataclass(eq=False, slots=True)
class TaxonomyVersion:
    version: str
    status: TaxonomyStatus
    created_at: datetime
    published_at: datetime | None = None

    @property
    def is_published(self) -> bool:
        return self.status is TaxonomyStatus.PUBLISHED

    def require_draft(self) -> None:
        if self.is_published:
            raise Conflict(f"taxonomy {self.version} is published and cannot change")

    def publish(self, now: datetime) -> None:
        self.require_draft()
        self.status = TaxonomyStatus.PUBLISHED
        self.published_at = now


@dataclass(eq=False, slots=True)
class TaxonomyNode:
    node_id: UUID
    version: str
    label: str
    canonical_path: Path
    parent_id: UUID | None
    created_at: datetime


@dataclass(eq=False, slots=True)
class Classification:
    doc_id: UUID
    node_id: UUID
    version: str
    path: Path
    confidence: float
    hitl_required: bool
    created_at: datetime
    reviewed_by: UUID | None = None
    reviewed_at: datetime | None = None

    def approve(self, reviewer: UUID, now: datetime) -> None:
        self.hitl_required = False
        self.reviewed_by = reviewer
        self.reviewed_at = now


class TaxonomyNodeNotFound(NotFound):
    """No node at this path in this version; carries the nearest existing paths."""

    def __init__(self, version: str, path: Path, suggestions: Sequence[Path]) -> None:
        DomainError.__init__(self, f"no node {format_path(path)!r} in taxonomy {version}")
        self.resource = "taxonomy node"
        self.identifier = format_path(path)
        self.version = version
        self.path = path
        self.suggestions = list(suggestions)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insert, delete, substitute: each 1)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def nearest_paths(wanted: Path, existing: Iterable[Path], limit: int = SUGGESTIONS) -> list[Path]:
    """The `limit` existing paths closest to `wanted` by edit distance of their `A/B/C`
    spelling; ties broken by the path itself, so the answer is deterministic."""
    target = format_path(wanted)
    scored = sorted((edit_distance(target, format_path(p)), format_path(p), p) for p in existing)
    return [p for _, _, p in scored[:limit]]
