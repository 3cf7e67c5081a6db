"""The statement statistics the process keeps (`statement_stats`): per name, calls, total,
mean and longest time; what came after a snapshot; a bounded number of names."""

from __future__ import annotations

import pytest

from infrastructure.sqlalchemy.statement_stats import MAX_NAMES, OTHER, StatementStats


def test_the_statistics_sum_per_name_and_report_what_came_after_a_snapshot() -> None:
    stats = StatementStats()
    stats.record("SELECT users", 0.002)
    before = stats.snapshot()
    stats.record("SELECT users", 0.004)
    stats.record("INSERT events", 0.001)

    (users, events) = stats.snapshot()
    assert (users.name, users.calls, users.max_ms) == ("SELECT users", 2, pytest.approx(4.0))
    assert users.mean_ms == pytest.approx(3.0)
    assert (events.name, events.calls) == ("INSERT events", 1)
    since = {s.name: s for s in stats.since(before)}
    assert since["SELECT users"].calls == 1
    assert since["SELECT users"].total_ms == pytest.approx(4.0)
    assert since["INSERT events"].calls == 1


def test_names_past_the_bound_count_under_other() -> None:
    stats = StatementStats(max_names=2)
    for name in ("SELECT a", "SELECT b", "SELECT c", "SELECT d", "SELECT a"):
        stats.record(name, 0.001)

    calls = {s.name: s.calls for s in stats.snapshot()}
    assert calls == {"SELECT a": 2, "SELECT b": 1, OTHER: 2}


def test_the_default_bound_is_max_names() -> None:
    stats = StatementStats()
    for n in range(MAX_NAMES + 1):
        stats.record(f"SELECT t{n}", 0.001)

    calls = {s.name: s.calls for s in stats.snapshot()}
    assert len(calls) == MAX_NAMES + 1  # MAX_NAMES names, and the one past them
    assert calls[OTHER] == 1


def test_what_was_recorded_since_the_last_take_is_taken_once_and_can_be_put_back() -> None:
    stats = StatementStats()
    stats.record("SELECT users", 0.004)
    stats.record("SELECT users", 0.002)

    (taken,) = stats.take_unflushed()
    assert (taken.name, taken.calls) == ("SELECT users", 2)
    assert (taken.total_ms, taken.max_ms) == (pytest.approx(6.0), pytest.approx(4.0))
    assert stats.take_unflushed() == []

    stats.record("SELECT users", 0.001)
    stats.put_back([taken])  # its flush failed: added to what came since
    (again,) = stats.take_unflushed()
    assert (again.calls, again.total_ms, again.max_ms) == (
        3,
        pytest.approx(7.0),
        pytest.approx(4.0),
    )
    assert stats.snapshot()[0].calls == 3  # the lifetime figures are untouched by takes


def test_names_past_the_bound_are_taken_under_other() -> None:
    stats = StatementStats(max_names=1)
    stats.record("SELECT a", 0.001)
    stats.record("SELECT b", 0.001)

    assert {s.name for s in stats.take_unflushed()} == {"SELECT a", OTHER}
