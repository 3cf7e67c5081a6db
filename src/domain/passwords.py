"""Passwords of people who sign in to the web interface: the hashing port, the policy a new
password must meet, what is stored, and one-time set-password links.

A password is never stored, logged or put in an event; only its hash (argon2id, made by the
`PasswordHasher` adapter) is kept, in a table of its own (`user_passwords`), so the `User`
loaded with every request never carries it."""

from __future__ import annotations

import hashlib
import secrets
import string
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, Protocol
from uuid import UUID, uuid4

from domain.common_passwords import COMMON_PASSWORDS
from domain.errors import ValidationFailed
from domain.values import text_problem

PASSWORD_MIN: Final = 12
PASSWORD_MAX: Final = 1024
# An e-mail's local part shorter than this is not looked for inside a password: "jo" inside
# a passphrase says nothing about it (the whole address still is looked for).
LOCAL_PART_MIN: Final = 3
LINK_SCHEME: Final = "arvp_"  # a set-password link's secret starts so
_DECORATION: Final = string.digits + string.punctuation + " "


class PasswordHasher(Protocol):
    """Makes and checks password hashes (argon2id in `infrastructure.passwords`). Each call
    costs tens of milliseconds of CPU on purpose: call it off the event loop."""

    def hash(self, password: str) -> str:
        """The encoded hash of `password` (algorithm, parameters, salt and digest)."""
        ...

    def verify(self, password_hash: str, password: str) -> bool:
        """Whether `password` is the one `password_hash` was made from; False for a hash this
        hasher cannot read, never an exception."""
        ...

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether `password_hash` was made with other parameters than this hasher's (it is
        replaced at the next successful sign-in)."""
        ...


class PasswordHashing(Protocol):
    """The `PasswordHasher` the use cases call, from coroutines: each hash or check runs off
    the event loop (`infrastructure.passwords.OffloadedHasher`)."""

    async def hash(self, password: str) -> str:
        """The encoded hash of `password`."""
        ...

    async def verify(self, password_hash: str, password: str) -> bool:
        """Whether `password` (its first PASSWORD_MAX characters) made `password_hash`."""
        ...

    async def verify_nobody(self, password: str) -> None:
        """Spend what checking a real password costs, for a caller who has none to check
        (an unknown e-mail, an inactive user): refusals cost the same whatever their
        reason, so their timing does not tell which e-mail addresses have accounts."""
        ...

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with other parameters than the current ones."""
        ...


def check_password(password: str, email: str, field_name: str = "password") -> str:
    """`password` if it may be a user's new password, else `ValidationFailed` naming
    `field_name`: 12 to 1024 characters, storable text, not containing the user's e-mail
    address or its local part (any case), not a common password (a built-in list, also
    with digits and symbols added at either end)."""
    if not isinstance(password, str):
        raise ValidationFailed.on(field_name, "must be a string")
    if len(password) < PASSWORD_MIN:
        raise ValidationFailed.on(field_name, f"must be at least {PASSWORD_MIN} characters")
    if len(password) > PASSWORD_MAX:
        raise ValidationFailed.on(field_name, f"must be at most {PASSWORD_MAX} characters")
    problem = text_problem(password)
    if problem is not None:
        raise ValidationFailed.on(field_name, problem)
    folded = password.casefold()
    address = email.strip().casefold()
    local = address.partition("@")[0]
    if address and (address in folded or (len(local) >= LOCAL_PART_MIN and local in folded)):
        raise ValidationFailed.on(field_name, "must not contain your e-mail address or its name")
    if is_common_password(password):
        raise ValidationFailed.on(
            field_name, "is too common: it is on a list of passwords attackers try first"
        )
    return password


def is_common_password(password: str) -> bool:
    """Whether `password`, in any case, is on the built-in list, also once digits, symbols
    and spaces added at its start or end are taken away ("Password2024!" is "password")."""
    folded = password.casefold()
    core = folded.strip(_DECORATION)
    return folded in COMMON_PASSWORDS or core in COMMON_PASSWORDS


@dataclass(eq=False, slots=True)
class StoredPassword:
    """A user's password as stored: its hash and when it was set."""

    user_id: UUID
    password_hash: str = field(repr=False)
    changed_at: datetime


def hash_link_secret(secret: str) -> str:
    """SHA-256 hex digest of a link's secret: what is stored and looked up."""
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_link_secret(secret: str) -> bool:
    """Cheap shape check before any lookup: the scheme, then 20-200 URL-safe characters."""
    if not isinstance(secret, str) or not secret.startswith(LINK_SCHEME):
        return False
    if not 20 <= len(secret) <= 200:
        return False
    rest = secret[len(LINK_SCHEME) :].replace("-", "").replace("_", "")
    return rest.isascii() and (not rest or rest.isalnum())


@dataclass(eq=False, slots=True)
class PasswordLink:
    """A one-time link that lets its holder set the password of `user_id` until
    `expires_at`. Only the SHA-256 of its secret is stored; using it deletes it, and setting
    the user's password any other way deletes it too."""

    id: UUID
    user_id: UUID
    link_hash: str = field(repr=False)
    created_at: datetime
    expires_at: datetime

    @classmethod
    def issue(cls, *, user_id: UUID, now: datetime, ttl: timedelta) -> tuple[PasswordLink, str]:
        """A new link and its secret, which exists only in this return value."""
        secret = LINK_SCHEME + secrets.token_urlsafe(32)
        link = cls(
            id=uuid4(),
            user_id=user_id,
            link_hash=hash_link_secret(secret),
            created_at=now,
            expires_at=now + ttl,
        )
        return link, secret

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at
