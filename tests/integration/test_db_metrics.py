"""The database metrics of `/metrics` (issue #13 item 2) on PostgreSQL: pool waits and their
time, the pool gauges, statement durations and slow statements by name, and errors by kind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from prometheus_client import Histogram
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine

from infrastructure.config import AppSettings
from infrastructure.sqlalchemy import db_metrics as m
from infrastructure.sqlalchemy.engine import create_engine

LABEL = "metrics-test"  # a pool label of this test's own: other engines do not add to it


def sample(metric: object, suffix: str, **labels: str) -> float:
    """The value of one sample of a process metric (0 when absent)."""
    for family in metric.collect():  # type: ignore[attr-defined]
        for s in family.samples:
            if s.name == family.name + suffix and s.labels == labels:
                return float(s.value)
    return 0.0


@pytest.fixture
async def engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    settings = AppSettings(slow_query_ms=100, db_pool_timeout=0.3)
    engine = create_engine(pg_url, settings, pool_size=1, max_overflow=0, pool_label=LABEL)
    yield engine
    await engine.dispose()


async def test_a_checkout_that_waits_is_counted_and_timed(engine: AsyncEngine) -> None:
    waits = sample(m.POOL_WAIT, "_count", pool=LABEL)
    waited = sample(m.POOL_WAIT, "_sum", pool=LABEL)
    timeouts = sample(m.ERRORS, "_total", kind="pool_timeout")
    async with engine.connect() as held:
        await held.execute(text("SELECT 1"))
        m.sample_pools()
        assert sample(m.POOL_SIZE, "", pool=LABEL) == 1
        assert sample(m.POOL_CHECKED_OUT, "", pool=LABEL) == 1
        assert sample(m.POOL_CHECKED_IN, "", pool=LABEL) == 0
        assert sample(m.POOL_OVERFLOW, "", pool=LABEL) == 0
        assert sample(m.POOL_CONNECTS, "_total", pool=LABEL) >= 1
        with pytest.raises(PoolTimeout):  # the only connection is held: waits 0.3 s
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))

        async def release_soon() -> None:
            await asyncio.sleep(0.1)
            await held.close()

        releasing = asyncio.create_task(release_soon())
        async with engine.connect() as conn:  # waits ~0.1 s for the held one
            await conn.execute(text("SELECT 1"))
        await releasing
    m.sample_pools()
    assert sample(m.POOL_CHECKED_OUT, "", pool=LABEL) == 0
    assert sample(m.POOL_CHECKED_IN, "", pool=LABEL) == 1
    assert sample(m.POOL_WAIT, "_count", pool=LABEL) == waits + 2
    assert 0.35 < sample(m.POOL_WAIT, "_sum", pool=LABEL) - waited < 2
    assert sample(m.ERRORS, "_total", kind="pool_timeout") == timeouts + 1
    async with engine.connect() as conn:  # an idle connection: no wait
        await conn.execute(text("SELECT 1"))
    assert sample(m.POOL_WAIT, "_count", pool=LABEL) == waits + 2


async def test_statements_are_timed_by_name_and_slow_ones_counted(engine: AsyncEngine) -> None:
    name = {"statement": "SELECT pg_sleep"}
    calls = sample(m.STATEMENT_DURATION, "_count", **name)
    slow = sample(m.SLOW_STATEMENTS, "_total", **name)
    async with engine.connect() as conn:
        await conn.execute(text("SELECT pg_sleep(0.001)"))
        await conn.execute(text("SELECT pg_sleep(0.12)"))
    assert sample(m.STATEMENT_DURATION, "_count", **name) == calls + 2
    assert sample(m.STATEMENT_DURATION, "_bucket", le="0.1", **name) >= 1
    assert sample(m.SLOW_STATEMENTS, "_total", **name) == slow + 1


async def test_errors_are_counted_by_kind(engine: AsyncEngine) -> None:
    def errors() -> dict[str, float]:
        return {kind: sample(m.ERRORS, "_total", kind=kind) for kind in m.ERROR_KINDS}

    before = errors()
    async with engine.connect() as conn:
        with pytest.raises(IntegrityError):
            await conn.execute(text("CREATE TEMP TABLE t (x int UNIQUE)"))
            await conn.execute(text("INSERT INTO t VALUES (1), (1)"))
        await conn.rollback()
        with pytest.raises(DBAPIError):
            await conn.execute(text("SET statement_timeout = 10"))
            await conn.execute(text("SELECT pg_sleep(1)"))
        await conn.rollback()
        with pytest.raises(DBAPIError):
            await conn.execute(text("SELECT * FROM no_such_table"))
        await conn.rollback()
        with pytest.raises(DBAPIError):  # the server ends the session: a lost connection
            await conn.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
    after = errors()
    assert {k: after[k] - before[k] for k in m.ERROR_KINDS} == {
        "connection": 1,
        "pool_timeout": 0,
        "statement_timeout": 1,
        "constraint": 1,
        "other": 1,
    }


async def test_a_refused_connection_is_a_connection_error() -> None:
    before = sample(m.ERRORS, "_total", kind="connection")
    nowhere = "postgresql://postgres@127.0.0.1:1/none"  # nothing listens on port 1
    engine = create_engine(nowhere, AppSettings(db_pool_timeout=2), pool_label=LABEL)
    try:
        with pytest.raises((DBAPIError, OSError)):
            async with engine.connect():
                pass
    finally:
        await engine.dispose()
    assert sample(m.ERRORS, "_total", kind="connection") == before + 1


def test_statement_names_past_the_cap_count_as_other() -> None:
    histogram = Histogram("cap_test", "a histogram of this test's", ["statement"], registry=None)
    observe = m.StatementObserver(histogram)
    for n in range(m.MAX_STATEMENT_NAMES):
        observe(f"SELECT t{n}", 0.001)
    observe("SELECT one_more", 0.001)
    observe("SELECT t0", 0.001)
    assert sample(histogram, "_count", statement=m.OTHER) == 1
    assert sample(histogram, "_count", statement="SELECT one_more") == 0
    assert sample(histogram, "_count", statement="SELECT t0") == 2
