"""The statement statistics each server process adds to `statement_stats` (issue #13 item 1;
`statement_stats_flush`): deltas added across flushes and processes, the longest time kept,
a failed flush keeping its figures, the flush itself not counted, the app flushing at
shutdown, and `archivist db-report` showing the table."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from infrastructure.config import AppSettings
from infrastructure.container import build_container
from infrastructure.sqlalchemy.database import Database
from infrastructure.sqlalchemy.db_report import collect
from infrastructure.sqlalchemy.statement_stats import STATEMENT_STATS, StatementStats
from infrastructure.sqlalchemy.statement_stats_flush import StatementStatsFlusher
from interfaces.cli.db_report import to_json
from interfaces.http.app import create_app

pytestmark = pytest.mark.postgres

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/nowhere"  # refused at once


async def _rows(engine: AsyncEngine) -> dict[str, tuple[int, float, float]]:
    async with engine.connect() as conn:
        result = await conn.execute(
            text("SELECT name, calls, total_ms, max_ms FROM statement_stats")
        )
        return {r.name: (r.calls, r.total_ms, r.max_ms) for r in result}


@pytest.fixture
async def engine(pg_engine: AsyncEngine) -> AsyncEngine:
    return pg_engine  # emptied: `statement_stats` too


async def test_flushes_add_the_deltas_of_every_process_and_keep_the_longest_time(
    engine: AsyncEngine, pg_database: Database
) -> None:
    one, two = StatementStats(), StatementStats()  # two server processes
    first = StatementStatsFlusher(pg_database.url, 60, one)
    second = StatementStatsFlusher(pg_database.url, 60, two)
    one.record("SELECT documents", 0.010)
    one.record("SELECT documents", 0.030)
    two.record("SELECT documents", 0.020)
    two.record("INSERT events", 0.001)

    assert await first.flush() and await second.flush()
    rows = await _rows(engine)
    assert rows["SELECT documents"] == (3, pytest.approx(60.0), pytest.approx(30.0))
    assert rows["INSERT events"] == (1, pytest.approx(1.0), pytest.approx(1.0))

    one.record("SELECT documents", 0.005)  # only this is new to the next flush
    assert await first.flush()
    assert await second.flush()  # nothing new: nothing written
    rows = await _rows(engine)
    assert rows["SELECT documents"] == (4, pytest.approx(65.0), pytest.approx(30.0))
    assert rows["INSERT events"] == (1, pytest.approx(1.0), pytest.approx(1.0))
    assert one.snapshot()[0].calls == 3  # the process's own figures stay whole


async def test_a_failed_flush_keeps_its_figures_for_the_next(
    engine: AsyncEngine, pg_database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    stats = StatementStats()
    stats.record("SELECT users", 0.004)

    with caplog.at_level(logging.WARNING, logger="archivist.sql"):
        assert await StatementStatsFlusher(UNREACHABLE, 60, stats).flush() is False
    assert "could not store the statement statistics" in caplog.text
    assert await _rows(engine) == {}

    stats.record("SELECT users", 0.002)
    assert await StatementStatsFlusher(pg_database.url, 60, stats).flush()
    assert await _rows(engine) == {"SELECT users": (2, pytest.approx(6.0), pytest.approx(4.0))}


async def test_the_flush_is_not_among_the_statements_it_stores(
    engine: AsyncEngine, pg_database: Database
) -> None:
    STATEMENT_STATS.take_unflushed()  # what earlier tests ran
    STATEMENT_STATS.record("SELECT documents", 0.001)

    assert await StatementStatsFlusher(pg_database.url, 60).flush()

    assert STATEMENT_STATS.take_unflushed() == []
    assert set(await _rows(engine)) == {"SELECT documents"}


async def test_a_served_app_flushes_its_statements_at_shutdown(
    engine: AsyncEngine, pg_database: Database, tmp_path: Any
) -> None:
    settings = AppSettings(storage="postgres", data_dir=tmp_path, slow_query_ms=0)
    container = build_container(settings, pg_database.url)
    STATEMENT_STATS.take_unflushed()
    try:
        async with AsyncTestClient(create_app(container, keep_statement_stats=True)) as client:
            assert (await client.get("/ready")).status_code == 200  # runs a statement
            assert await _rows(engine) == {}  # the first flush is a minute away
    finally:
        await container.database().dispose()

    assert await _rows(engine)  # flushed at shutdown


def test_no_flusher_for_memory_storage_or_a_zero_interval() -> None:
    memory = build_container(AppSettings(storage="memory"))
    off = build_container(
        AppSettings(storage="postgres", statement_stats_flush_seconds=0), UNREACHABLE
    )
    on = build_container(AppSettings(storage="postgres"), UNREACHABLE)

    assert memory.statement_stats_flusher() is None
    assert off.statement_stats_flusher() is None
    flusher = on.statement_stats_flusher()
    assert flusher is not None and flusher.interval_seconds == 60


async def test_db_report_shows_the_statements_the_service_kept(
    engine: AsyncEngine, pg_database: Database
) -> None:
    stats = StatementStats()
    for seconds in (0.010, 0.050):
        stats.record("SELECT documents", seconds)
    stats.record("UPDATE api_tokens", 0.001)
    assert await StatementStatsFlusher(pg_database.url, 60, stats).flush()

    report: dict[str, Any] = to_json(await collect(engine, flush_seconds=30))

    slowest = report["slowest"]
    assert slowest["source"] == "the service"
    assert "flushed every 30 s" in slowest["note"]
    assert slowest["last_updated"] is not None
    first, second = slowest["statements"]  # by total time
    assert first["name"] == "SELECT documents" and first["calls"] == 2
    assert first["total_ms"] == pytest.approx(60.0)
    assert first["mean_ms"] == pytest.approx(30.0)
    assert first["max_ms"] == pytest.approx(50.0)
    assert second["name"] == "UPDATE api_tokens"
    assert report["server_statements"] is None or (
        report["server_statements"]["source"] == "pg_stat_statements"
    )
