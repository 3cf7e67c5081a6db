"""What the documents pages show of a document, an event or a person, worked out once in
Python so the templates only lay it out: sizes, times, processing states, and names.

Names follow the API's rule: a reader learns nothing of other users the API would not tell
them. Anyone sees "you" for themselves; an administrator (who may read any user,
`UserService.get`) sees the others' names; everyone else sees "another user"."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from uuid import UUID

from application.context import RequestContext
from domain import events
from domain.documents import Document, DocumentType
from domain.errors import NotFound
from domain.events import Event
from domain.processing import Processing, ProcessingState
from infrastructure.container import Container
from interfaces.web.documents_listing import N_
from interfaces.web.form_support import human_bytes
from interfaces.web.session import Viewer

# The text shown of a text document on its page (characters).
EXCERPT_CHARS: Final = 3000
TEXT_TYPES: Final = frozenset({DocumentType.TXT, DocumentType.MARKDOWN})

EVENT_LABELS: Final = {
    events.DOCUMENT_UPLOADED: N_("Uploaded"),
    events.DOCUMENT_VIEWED: N_("Viewed"),
    events.DOCUMENT_DOWNLOADED: N_("Downloaded"),
    events.DOCUMENT_UPDATED: N_("Changed"),
    events.DOCUMENT_DELETED: N_("Moved to the trash"),
    events.DOCUMENT_RESTORED: N_("Restored from the trash"),
    events.DOCUMENT_OCR: N_("Text read by OCR"),
    events.PERMISSION_GRANTED: N_("Access granted"),
    events.PERMISSION_REVOKED: N_("Access revoked"),
    events.CLASSIFICATION_ADDED: N_("Classified"),
    events.CLASSIFICATION_REMOVED: N_("Classification removed"),
    events.CLASSIFICATION_APPROVED: N_("Classification approved"),
}
STATE_LABELS: Final = {
    ProcessingState.PENDING: N_("In progress"),
    ProcessingState.DONE: N_("Done"),
    ProcessingState.FAILED: N_("Failed"),
    ProcessingState.NOT_APPLICABLE: N_("Not needed"),
}
YOU: Final = N_("You")
ANOTHER_USER: Final = N_("Another user")
SYSTEM: Final = N_("Archivist")


def moment(at: datetime | None) -> str:
    """A time as the pages show it: UTC, to the minute."""
    return at.strftime("%Y-%m-%d %H:%M UTC") if at is not None else ""


@dataclass(frozen=True)
class Person:
    """Who someone is, as the viewer may know them: `label` a message to translate
    (`you`, `another user`) unless `name` is given."""

    label: str
    name: str | None = None
    email: str | None = None


class People:
    """Names of users for one page, each looked up once, as the viewer may see them."""

    def __init__(self, container: Container, ctx: RequestContext, viewer: Viewer) -> None:
        self._users = container.users()
        self._ctx = ctx
        self._viewer = viewer
        self._known: dict[UUID, Person] = {}

    async def of(self, user_id: UUID | None) -> Person:
        if user_id is None:
            return Person(SYSTEM)
        if user_id == self._viewer.user.id:
            return Person(YOU)
        if not self._viewer.user.is_active_admin:
            return Person(ANOTHER_USER)
        if user_id not in self._known:
            try:
                user = await self._users.get(self._ctx, user_id)
                self._known[user_id] = Person(ANOTHER_USER, user.name, user.email)
            except NotFound:
                self._known[user_id] = Person(ANOTHER_USER)
        return self._known[user_id]

    async def all(self, user_ids: Iterable[UUID | None]) -> dict[UUID | None, Person]:
        return {user_id: await self.of(user_id) for user_id in dict.fromkeys(user_ids)}


@dataclass(frozen=True)
class ProcessingView:
    """A document's background work, summed up: `state` the most telling one (failed, then
    in progress, then done), `kinds` each kind's state and reason."""

    state: str | None
    kinds: list[tuple[str, str, str | None]]  # kind, state label, reason

    @classmethod
    def of(cls, states: Mapping[str, Processing]) -> ProcessingView:
        present = {p.state for p in states.values()}
        summary = next(
            (
                STATE_LABELS[s]
                for s in (ProcessingState.FAILED, ProcessingState.PENDING, ProcessingState.DONE)
                if s in present
            ),
            None,
        )
        kinds = [(k, STATE_LABELS[p.state], p.reason) for k, p in sorted(states.items())]
        return cls(summary, kinds)

    @property
    def failed(self) -> bool:
        return self.state == STATE_LABELS[ProcessingState.FAILED]

    @property
    def pending(self) -> bool:
        return self.state == STATE_LABELS[ProcessingState.PENDING]


@dataclass(frozen=True)
class Row:
    """A document in the list."""

    doc: Document
    owner: Person
    processing: ProcessingView

    @property
    def size(self) -> str:
        return human_bytes(self.doc.size_bytes)

    @property
    def updated(self) -> str:
        return moment(self.doc.updated_at)

    @property
    def has_thumbnail(self) -> bool:
        return self.doc.thumbnail_key is not None


@dataclass(frozen=True)
class EventView:
    at: str
    iso: str
    action: str  # a message to translate, or the action's own name
    known: bool  # whether `action` is a message
    actor: Person
    client_ip: str | None
    user_agent: str | None

    @classmethod
    def of(cls, event: Event, actor: Person) -> EventView:
        label = EVENT_LABELS.get(event.action)
        return cls(
            at=moment(event.occurred_at),
            iso=event.occurred_at.isoformat(),
            action=label or event.action,
            known=label is not None,
            actor=actor,
            client_ip=event.client_ip,
            user_agent=event.user_agent,
        )


def excerpt(doc: Document) -> tuple[str, bool]:
    """The first part of the document's text, and whether there is more."""
    text = doc.content or ""
    return text[:EXCERPT_CHARS], len(text) > EXCERPT_CHARS
