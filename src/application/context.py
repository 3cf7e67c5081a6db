"""Who is asking, and from where: what every use case needs for rights and the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain import policy
from domain.errors import PermissionDenied
from domain.events import Event
from domain.users import User


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: the user as loaded with the token, and which token it was."""

    user: User
    token_id: UUID


@dataclass(frozen=True, slots=True)
class RequestContext:
    """The caller of a use case. `actor=None` is the system itself (the CLI, bootstrap)."""

    actor: User | None
    client_ip: str | None = None
    user_agent: str | None = None

    @classmethod
    def system(cls) -> RequestContext:
        return cls(actor=None)

    @property
    def actor_id(self) -> UUID | None:
        return self.actor.id if self.actor is not None else None

    @property
    def is_system_or_admin(self) -> bool:
        return self.actor is None or policy.can_administer(self.actor)

    def require_admin(self) -> None:
        """The system itself, or an active administrator (`domain.policy.require_admin`)."""
        if self.actor is not None:
            policy.require_admin(self.actor)

    def require_user(self, refusal: str = "this is done on behalf of a user") -> User:
        """The acting user: `PermissionDenied(refusal)` for the system itself (documents,
        searches and grants belong to someone)."""
        if self.actor is None:
            raise PermissionDenied(refusal)
        return self.actor

    def event(
        self,
        action: str,
        subject_type: str,
        subject_id: object,
        now: datetime,
        data: dict[str, Any] | None = None,
    ) -> Event:
        return Event(
            occurred_at=now,
            actor_id=self.actor_id,
            action=action,
            subject_type=subject_type,
            subject_id=str(subject_id),
            data=data or {},
            client_ip=self.client_ip,
            user_agent=self.user_agent,
        )
