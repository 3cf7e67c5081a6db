"""`ConsumerLease` within one process: memory storage is one process's (tests, demos)."""

from __future__ import annotations


class ConsumerClaims:
    """Who holds the lease, shared by the leases that compete for it."""

    def __init__(self) -> None:
        self.holder: object | None = None


class InMemoryConsumerLease:
    def __init__(self, claims: ConsumerClaims | None = None) -> None:
        self._claims = claims if claims is not None else ConsumerClaims()

    async def acquire(self) -> bool:
        if self._claims.holder is None:
            self._claims.holder = self
        return self._claims.holder is self

    async def still_held(self) -> bool:
        return self._claims.holder is self

    async def release(self) -> None:
        if self._claims.holder is self:
            self._claims.holder = None
