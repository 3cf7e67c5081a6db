"""Password hashing with argon2id (argon2-cffi): the `domain.passwords.PasswordHasher` port.

Parameters come from settings (`ARCHIVIST_PASSWORD_HASH_*`); the defaults are argon2-cffi's,
RFC 9106's second recommended option: 3 passes over 64 MiB with 4 lanes (~0.1 s of CPU per hash
on a small server). A hash records its parameters, so a hash made with others still verifies
and `needs_rehash` says to replace it."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import argon2
from argon2.exceptions import InvalidHashError, VerificationError


@dataclass(frozen=True, slots=True)
class Argon2Parameters:
    time_cost: int = argon2.DEFAULT_TIME_COST  # passes
    memory_kib: int = argon2.DEFAULT_MEMORY_COST
    parallelism: int = argon2.DEFAULT_PARALLELISM  # lanes


def _encoded(password: str) -> bytes:
    """What is hashed: the password in NFKC (so the same text typed on any keyboard or system,
    composed or decomposed Hangul alike, gives the same bytes), as UTF-8. A lone surrogate is
    kept as its code (`surrogatepass`): a string that is no valid text still hashes, never
    raises."""
    return unicodedata.normalize("NFKC", password).encode("utf-8", "surrogatepass")


class Argon2PasswordHasher:
    def __init__(self, parameters: Argon2Parameters | None = None) -> None:
        p = parameters or Argon2Parameters()
        self.parameters = p
        self._hasher = argon2.PasswordHasher(
            time_cost=p.time_cost,
            memory_cost=p.memory_kib,
            parallelism=p.parallelism,
            type=argon2.Type.ID,
        )

    def hash(self, password: str) -> str:
        return self._hasher.hash(_encoded(password))

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, _encoded(password))
        except (VerificationError, InvalidHashError):  # a mismatch is a VerificationError
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except (InvalidHashError, ValueError):
            return True
