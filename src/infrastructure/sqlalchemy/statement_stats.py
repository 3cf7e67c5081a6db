"""Statement statistics kept by the process: per statement name (`engine.statement_name`),
the calls, total and longest time. Fed by the engine's cursor events, so the statements run
on the driver connection (`prepared.PreparedStatement`) are counted too.

Each process keeps its own; a server process adds what it recorded since its last flush
(`take_unflushed`) to the `statement_stats` table every few seconds
(`statement_stats_flush`), where `archivist db-report`, another process, reads it
(docs/decisions.md, "Database report"). Recording costs a perf_counter pair, a lock and a
list update per statement (~1 µs, measured in docs/decisions.md); names are bounded by the
schema (verb and table), and past `max_names` (`MAX_NAMES` by default) further names count
under `OTHER`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

MAX_NAMES = 500
OTHER = "(other)"
_STARTED = "archivist_stats_t0"


@dataclass(frozen=True, slots=True)
class StatementStat:
    name: str
    calls: int
    total_ms: float
    max_ms: float

    @property
    def mean_ms(self) -> float:
        return self.total_ms / self.calls if self.calls else 0.0


class _Entry:
    __slots__ = ("calls", "longest", "total")

    def __init__(self, seconds: float) -> None:
        self.calls = 1
        self.total = seconds
        self.longest = seconds


class StatementStats:
    """A thread-safe registry: `record` per statement, `snapshot` to read the lifetime
    figures, `take_unflushed` for what came since the last take (and `put_back` when it
    could not be stored)."""

    def __init__(self, max_names: int = MAX_NAMES) -> None:
        self._max_names = max_names
        self._lock = threading.Lock()
        self._by_name: dict[str, _Entry] = {}
        # Since the last `take_unflushed`: its names are among `_by_name`'s (or OTHER).
        self._unflushed: dict[str, _Entry] = {}

    def record(self, name: str, seconds: float) -> None:
        with self._lock:
            entry = self._by_name.get(name)
            if entry is None:
                if len(self._by_name) >= self._max_names:
                    name = OTHER
                    entry = self._by_name.get(OTHER)
                if entry is None:
                    self._by_name[name] = _Entry(seconds)
            if entry is not None:
                _add(entry, 1, seconds, seconds)
            pending = self._unflushed.get(name)
            if pending is None:
                self._unflushed[name] = _Entry(seconds)
            else:
                _add(pending, 1, seconds, seconds)

    def take_unflushed(self) -> list[StatementStat]:
        """What was recorded since the last call (calls, total time and longest time of
        that span, per name), the largest total first; the span starts again empty."""
        with self._lock:
            taken, self._unflushed = self._unflushed, {}
        return _sorted(
            StatementStat(name, e.calls, e.total * 1000, e.longest * 1000)
            for name, e in taken.items()
        )

    def put_back(self, taken: list[StatementStat]) -> None:
        """Return what `take_unflushed` gave and could not be stored: added to what was
        recorded since, so the next take has both."""
        with self._lock:
            for stat in taken:
                seconds, longest = stat.total_ms / 1000, stat.max_ms / 1000
                pending = self._unflushed.get(stat.name)
                if pending is None:
                    pending = self._unflushed[stat.name] = _Entry(longest)
                    pending.calls, pending.total = stat.calls, seconds
                else:
                    _add(pending, stat.calls, seconds, longest)

    def snapshot(self) -> list[StatementStat]:
        """Every name's figures, the largest total time first."""
        with self._lock:
            items = [(name, e.calls, e.total, e.longest) for name, e in self._by_name.items()]
        stats = [
            StatementStat(name, calls, total * 1000, longest * 1000)
            for name, calls, total, longest in items
        ]
        return sorted(stats, key=lambda s: (-s.total_ms, s.name))

    def since(self, earlier: list[StatementStat]) -> list[StatementStat]:
        """What was recorded after `earlier` (a `snapshot`): calls and total time added,
        the largest total first. A name recorded before keeps its lifetime longest time."""
        before = {s.name: s for s in earlier}
        added = []
        for now in self.snapshot():
            then = before.get(now.name)
            if then is None:
                added.append(now)
            elif now.calls > then.calls:
                added.append(
                    StatementStat(
                        now.name, now.calls - then.calls, now.total_ms - then.total_ms, now.max_ms
                    )
                )
        return sorted(added, key=lambda s: (-s.total_ms, s.name))

    def clear(self) -> None:
        with self._lock:
            self._by_name.clear()
            self._unflushed.clear()


def _add(entry: _Entry, calls: int, seconds: float, longest: float) -> None:
    entry.calls += calls
    entry.total += seconds
    if longest > entry.longest:
        entry.longest = longest


def _sorted(stats: Iterable[StatementStat]) -> list[StatementStat]:
    return sorted(stats, key=lambda s: (-s.total_ms, s.name))


STATEMENT_STATS = StatementStats()
"""The process's statistics, fed by every engine `engine.create_engine` builds."""


def record_statements(
    engine: AsyncEngine,
    name_of: Callable[[str], str],
    stats: StatementStats = STATEMENT_STATS,
    *,
    observe: Callable[[str, float], None] | None = None,
) -> None:
    """Time every statement `engine` runs into `stats`, under `name_of(sql)`, and hand
    each name and duration to `observe` too (the `/metrics` histogram, `db_metrics`). The
    listeners read only the connection and the SQL (the driver-connection statements pass
    neither cursor nor context); a failed statement (no `after_cursor_execute`) is not
    recorded."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _start(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        conn.info[_STARTED] = time.perf_counter()

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def _stop(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        started = conn.info.pop(_STARTED, None)
        if started is not None:
            seconds = time.perf_counter() - started
            name = name_of(statement)
            stats.record(name, seconds)
            if observe is not None:
                observe(name, seconds)
