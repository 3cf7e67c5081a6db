"""Schemas of the events routes; `Event` is also what a document's audit trail lists."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from domain.events import Event as DomainEvent
from domain.values import clip_json_value


class Event(BaseModel):
    id: int
    occurred_at: datetime
    actor_id: UUID | None
    action: str
    subject_type: str
    subject_id: str
    client_ip: str | None
    user_agent: str | None
    data: dict[str, Any]

    @classmethod
    def of(cls, event: DomainEvent) -> Event:
        return cls(
            id=event.id or 0,
            occurred_at=event.occurred_at,
            actor_id=event.actor_id,
            action=event.action,
            subject_type=event.subject_type,
            subject_id=event.subject_id,
            client_ip=event.client_ip,
            user_agent=event.user_agent,
            data=clip_json_value(event.data),
        )
