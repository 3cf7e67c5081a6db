"""The committed state of one in-memory database. One instance per container or test."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from domain.events import Event
from domain.settings import Setting
from domain.tokens import ApiToken
from domain.users import User


@dataclass
class InMemoryStore:
    users: dict[UUID, User] = field(default_factory=dict)
    tokens: dict[UUID, ApiToken] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    settings: dict[str, Setting] = field(default_factory=dict)
    last_event_id: int = 0
