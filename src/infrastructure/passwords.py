"""Password hashing with argon2id (argon2-cffi): the `domain.passwords.PasswordHasher` port.

`OffloadedHasher` is the `PasswordHashing` port the use cases call: a hasher run in a few
threads of its own, off the event loop (argon2-cffi releases the GIL), the number of threads
bounding the memory a burst of sign-ins takes (64 MiB a hash by default).

Parameters come from settings (`ARCHIVIST_PASSWORD_HASH_*`); the defaults are argon2-cffi's,
RFC 9106's second recommended option: 3 passes over 64 MiB with 4 lanes (~0.1 s of CPU per hash
on a small server). A hash records its parameters, so a hash made with others still verifies
and `needs_rehash` says to replace it."""

from __future__ import annotations

import asyncio
import os
import secrets
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

from domain.passwords import PASSWORD_MAX, PasswordHasher


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


class OffloadedHasher:
    """A `PasswordHasher` called from coroutines (the `PasswordHashing` port): each hash or
    check runs in one of a few threads, never on the event loop."""

    def __init__(self, hasher: PasswordHasher, threads: int | None = None) -> None:
        self.hasher = hasher
        self._pool = ThreadPoolExecutor(
            max_workers=threads or min(4, os.cpu_count() or 1), thread_name_prefix="argon2"
        )
        self._dummy: str | None = None

    async def hash(self, password: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, self.hasher.hash, password
        )

    async def verify(self, password_hash: str, password: str) -> bool:
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, self.hasher.verify, password_hash, password[:PASSWORD_MAX]
        )

    async def verify_nobody(self, password: str) -> None:
        """A check against a hash of a random secret, made once: what checking a real
        password costs."""
        if self._dummy is None:
            self._dummy = await self.hash(secrets.token_urlsafe(16))
        await self.verify(self._dummy, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self.hasher.needs_rehash(password_hash)
