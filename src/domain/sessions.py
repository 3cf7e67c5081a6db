"""Sessions of people signed in to the web interface, kept server-side.

The browser holds only the session's secret (in a cookie); the store keeps its SHA-256, as it
does for API tokens, so a copy of the database signs no one in. A session ends when it has
not been used for the idle lifetime, or at the latest the absolute lifetime after sign-in,
whichever comes first."""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final
from uuid import UUID, uuid4

from domain.values import text_problem

SESSION_SCHEME: Final = "arvs_"  # a session secret starts so (a token's with "arv_")
# A session's last_seen_at (and with it its idle deadline) is moved at most this often, so
# resuming a session is a read on almost every request.
TOUCH_RESOLUTION: Final = timedelta(minutes=1)
USER_AGENT_MAX: Final = 500


def hash_session_secret(secret: str) -> str:
    """SHA-256 hex digest of a session secret: what the store keeps and looks up."""
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_session_secret(secret: str) -> bool:
    """Cheap shape check before any lookup: the scheme, then 20-200 URL-safe characters."""
    if not isinstance(secret, str) or not secret.startswith(SESSION_SCHEME):
        return False
    if not 20 <= len(secret) <= 200:
        return False
    rest = secret[len(SESSION_SCHEME) :].replace("-", "").replace("_", "")
    return rest.isascii() and (not rest or rest.isalnum())


@dataclass(frozen=True, slots=True)
class SessionLifetime:
    """How long a session lives: `idle` since it was last used, `absolute` since sign-in."""

    idle: timedelta
    absolute: timedelta

    def __post_init__(self) -> None:
        if self.idle <= timedelta(0) or self.absolute <= timedelta(0):
            raise ValueError("session lifetimes must be positive")


def _storable_ip(address: str | None) -> str | None:
    if not address:
        return None
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def _storable_agent(agent: str | None) -> str | None:
    if not agent or text_problem(agent) is not None:
        return None
    return agent[:USER_AGENT_MAX]


@dataclass(eq=False, slots=True)
class UserSession:
    """One signed-in browser. `csrf_secret` is the per-session value the web layer puts in
    its forms and compares with what each form sends back."""

    id: UUID
    user_id: UUID
    secret_hash: str = field(repr=False)
    csrf_secret: str = field(repr=False)
    created_at: datetime
    last_seen_at: datetime
    idle_expires_at: datetime
    expires_at: datetime  # the absolute end
    client_ip: str | None = None
    user_agent: str | None = None

    @classmethod
    def start(
        cls,
        *,
        user_id: UUID,
        now: datetime,
        lifetime: SessionLifetime,
        client_ip: str | None = None,
        user_agent: str | None = None,
    ) -> tuple[UserSession, str]:
        """A new session and its secret, which exists only in this return value."""
        secret = SESSION_SCHEME + secrets.token_urlsafe(32)
        expires_at = now + lifetime.absolute
        session = cls(
            id=uuid4(),
            user_id=user_id,
            secret_hash=hash_session_secret(secret),
            csrf_secret=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            idle_expires_at=min(now + lifetime.idle, expires_at),
            expires_at=expires_at,
            client_ip=_storable_ip(client_ip),
            user_agent=_storable_agent(user_agent),
        )
        return session, secret

    def is_expired(self, now: datetime) -> bool:
        """Idle too long, or past its absolute end."""
        return now >= self.idle_expires_at or now >= self.expires_at

    @property
    def ends_at(self) -> datetime:
        """When it expires if it is not used again."""
        return min(self.idle_expires_at, self.expires_at)

    def needs_touch(self, now: datetime) -> bool:
        """Whether using it now should be written down (at most once per resolution)."""
        return now - self.last_seen_at >= TOUCH_RESOLUTION

    def idle_deadline(self, now: datetime, lifetime: SessionLifetime) -> datetime:
        """Its idle deadline when used at `now`: never beyond its absolute end."""
        return min(now + lifetime.idle, self.expires_at)

    def touch(self, now: datetime, lifetime: SessionLifetime) -> None:
        self.last_seen_at = now
        self.idle_expires_at = self.idle_deadline(now, lifetime)
