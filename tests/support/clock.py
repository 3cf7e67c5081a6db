"""A deterministic clock: every `now()` is one step later than the last."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class SteppingClock:
    def __init__(
        self,
        start: datetime = datetime(2026, 1, 1, tzinfo=UTC),
        step: timedelta = timedelta(seconds=1),
    ) -> None:
        self.current = start
        self.step = step

    def now(self) -> datetime:
        self.current += self.step
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta
