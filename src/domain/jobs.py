"""Background jobs: the `JobQueue` port and what it lists.

A job is a kind (the name of its handler) and a payload (a JSON object), enqueued within a
unit of work: it exists only if that unit of work commits, so a rolled-back change leaves no
job behind. Workers run jobs at least once, highest priority first; a handler must be
idempotent (decisions: "Background jobs").
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeAlias

JsonValue: TypeAlias = (
    "str | int | float | bool | Sequence[JsonValue] | Mapping[str, JsonValue] | None"
)
JsonObject: TypeAlias = Mapping[str, JsonValue]

# The queue's priority column is a PostgreSQL integer.
PRIORITY_MIN = -(2**31)
PRIORITY_MAX = 2**31 - 1


class JobState(enum.StrEnum):
    QUEUED = "queued"  # waiting for a worker
    RUNNING = "running"  # taken by a worker, not finished


@dataclass(frozen=True, slots=True)
class QueuedJob:
    id: int
    kind: str
    payload: dict[str, JsonValue]
    priority: int
    state: JobState


class JobQueue(Protocol):
    async def enqueue(
        self,
        kind: str,
        payload: JsonObject,
        *,
        dedupe_key: str | None = None,
        priority: int = 0,
    ) -> bool:
        """Queue a job in this unit of work's transaction: it exists once the unit commits.

        `dedupe_key`: while a job with the same key (of any kind: make keys like
        `thumbnail:<document id>`) is queued or running, this one is skipped and False is
        returned; True when queued. A finished or failed job no longer holds its key.
        Higher `priority` runs first. Raises `ValueError` if the payload is not a JSON
        object or a value is out of range."""
        ...

    async def queued(self, kind: str | None = None) -> Sequence[QueuedJob]:
        """The jobs waiting or running (of `kind`, if given) as this unit of work sees them:
        committed ones and its own. In the order workers take them: highest priority
        first, then oldest (lowest id) first."""
        ...


def encode_payload(payload: JsonObject) -> bytes:
    """The stored form of a payload, the same for every adapter (compact UTF-8 JSON).

    Raises `ValueError` for anything but a JSON object (NaN and infinities are not JSON)."""
    if not isinstance(payload, Mapping):
        raise ValueError("a job's payload must be a JSON object")
    try:
        text = json.dumps(dict(payload), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as err:
        raise ValueError(f"a job's payload must be JSON: {err}") from None
    return text.encode()


def decode_payload(stored: bytes | None) -> dict[str, JsonValue]:
    value = json.loads(stored) if stored else {}
    if not isinstance(value, dict):
        raise ValueError("a stored job payload is not a JSON object")
    return value


def check_job(kind: str, dedupe_key: str | None, priority: int) -> None:
    """Refuse, the same way on every adapter, what PostgreSQL would refuse or misread."""
    if not kind or "\x00" in kind:
        raise ValueError("a job's kind must be a non-empty string without NUL")
    if dedupe_key is not None and (not dedupe_key or "\x00" in dedupe_key):
        raise ValueError("a dedupe key must be a non-empty string without NUL")
    if isinstance(priority, bool) or not PRIORITY_MIN <= priority <= PRIORITY_MAX:
        raise ValueError(f"a job's priority must be an integer in [{PRIORITY_MIN}, {PRIORITY_MAX}]")
