"""Small builders of domain objects for tests."""

from __future__ import annotations

import hashlib
import itertools
import uuid
from datetime import UTC, datetime, timedelta

from domain.documents import Document, DocumentType
from domain.events import Event
from domain.tokens import ApiToken
from domain.users import User
from domain.values import AccessLevel

_seq = itertools.count(1)
BASE = datetime(2026, 1, 1, tzinfo=UTC)


def user(**overrides: object) -> User:
    n = next(_seq)
    fields: dict[str, object] = {
        "email": f"user{n}@example.com",
        "name": f"User {n}",
        "now": BASE + timedelta(seconds=n),
    }
    fields.update(overrides)
    return User.register(**fields)  # type: ignore[arg-type]


def token(owner: User, *, now: datetime | None = None, days: int = 30) -> tuple[ApiToken, str]:
    return ApiToken.issue(
        user_id=owner.id,
        name="test",
        now=now or BASE + timedelta(seconds=next(_seq)),
        ttl=timedelta(days=days),
    )


def event(action: str = "user.created", subject_id: str = "x", **overrides: object) -> Event:
    fields: dict[str, object] = {
        "occurred_at": BASE + timedelta(seconds=next(_seq)),
        "actor_id": None,
        "action": action,
        "subject_type": "user",
        "subject_id": subject_id,
        "data": {"n": 1},
    }
    fields.update(overrides)
    return Event(**fields)  # type: ignore[arg-type]


def document(owner: User, **overrides: object) -> Document:
    n = next(_seq)
    at = BASE + timedelta(seconds=n)
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "title": f"Document {n}",
        "content": f"text of document {n}",
        "document_type": DocumentType.TXT,
        "source": "",
        "access_level": AccessLevel.L1,
        "department": None,
        "metadata": None,
        "owner_id": owner.id,
        "category_id": None,
        "original_filename": f"doc{n}.txt",
        "extension": "txt",
        "mime_type": "text/plain",
        "size_bytes": 10 + n,
        "sha256": hashlib.sha256(str(n).encode()).hexdigest(),
        "storage_key": f"key-{n}",
        "created_at": at,
        "updated_at": at,
    }
    fields.update(overrides)
    return Document(**fields)  # type: ignore[arg-type]
