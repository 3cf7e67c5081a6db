"""The audit trail: append-only events, written in the same unit of work as the change."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final
from uuid import UUID

from domain.values import check_instant, check_text

USER_CREATED: Final = "user.created"
USER_UPDATED: Final = "user.updated"
USER_SIGNED_IN: Final = "user.signed_in"
USER_SIGN_IN_FAILED: Final = "user.sign_in_failed"  # data: the e-mail tried, never the password
USER_SIGNED_OUT: Final = "user.signed_out"
USER_SESSIONS_ENDED: Final = "user.sessions_ended"  # "sign out everywhere"
USER_PASSWORD_CHANGED: Final = "user.password_changed"  # noqa: S105 (by the user themselves)
USER_PASSWORD_SET: Final = "user.password_set"  # noqa: S105 (by an admin, or with a link)
USER_PASSWORD_LINK_ISSUED: Final = "user.password_link_issued"  # noqa: S105 (never the secret)
TOKEN_ISSUED: Final = "token.issued"  # noqa: S105 (an action name)
TOKEN_REVOKED: Final = "token.revoked"  # noqa: S105 (an action name)
SETTING_UPDATED: Final = "setting.updated"
DOCUMENT_UPLOADED: Final = "document.uploaded"
DOCUMENT_VIEWED: Final = "document.viewed"
DOCUMENT_DOWNLOADED: Final = "document.downloaded"
DOCUMENT_UPDATED: Final = "document.updated"
DOCUMENT_DELETED: Final = "document.deleted"
DOCUMENT_RESTORED: Final = "document.restored"
DOCUMENT_PURGED: Final = "document.purged"
DOCUMENT_OCR: Final = "document.ocr"  # the text of its scanned pages was read by OCR
PERMISSION_GRANTED: Final = "permission.granted"
PERMISSION_REVOKED: Final = "permission.revoked"
CATEGORY_CREATED: Final = "category.created"
CATEGORY_UPDATED: Final = "category.updated"
CATEGORY_DELETED: Final = "category.deleted"
TAG_CREATED: Final = "tag.created"
TAG_UPDATED: Final = "tag.updated"
TAG_DELETED: Final = "tag.deleted"
FILE_TYPE_UPDATED: Final = "file_type.updated"
TAXONOMY_CREATED: Final = "taxonomy.created"
TAXONOMY_NODE_ADDED: Final = "taxonomy.node_added"
TAXONOMY_PUBLISHED: Final = "taxonomy.published"
CLASSIFICATION_ADDED: Final = "classification.added"
CLASSIFICATION_REMOVED: Final = "classification.removed"
CLASSIFICATION_APPROVED: Final = "classification.approved"
SEARCH_PERFORMED: Final = "search.performed"
SEARCH_RATED: Final = "search.rated"
JOB_RETRIED: Final = "job.retried"  # an admin queued a failed job again

# What people read and looked for, as opposed to what they changed: these expire after the
# `event_retention_days` setting; every other event is kept for good.
EXPIRING: Final = frozenset({DOCUMENT_VIEWED, DOCUMENT_DOWNLOADED, SEARCH_PERFORMED, SEARCH_RATED})


@dataclass(frozen=True, slots=True)
class Event:
    occurred_at: datetime
    actor_id: UUID | None
    action: str
    subject_type: str
    subject_id: str
    data: dict[str, Any] = field(default_factory=dict)
    client_ip: str | None = None
    user_agent: str | None = None
    id: int | None = None  # assigned by the store, in append order


@dataclass(frozen=True, slots=True)
class EventFilter:
    actor_id: UUID | None = None
    action: str | None = None
    subject_type: str | None = None
    subject_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        # What PostgreSQL refuses, every storage refuses (a 422, never a 500).
        for name in ("action", "subject_type", "subject_id"):
            text = getattr(self, name)
            if text is not None:
                check_text(text, name)
        for name in ("since", "until"):
            instant = getattr(self, name)
            if instant is not None:
                check_instant(instant, name)

    def matches(self, event: Event) -> bool:
        return (
            (self.actor_id is None or event.actor_id == self.actor_id)
            and (self.action is None or event.action == self.action)
            and (self.subject_type is None or event.subject_type == self.subject_type)
            and (self.subject_id is None or event.subject_id == self.subject_id)
            and (self.since is None or event.occurred_at >= self.since)
            and (self.until is None or event.occurred_at < self.until)
        )
