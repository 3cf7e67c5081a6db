"""The slow-query log (issue #13 item 3) on PostgreSQL: a statement slower than
`ARCHIVIST_SLOW_QUERY_MS` is logged with its name and duration, never its parameters, and
carries the request id when a request ran it; a fast one is not logged."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from infrastructure.config import AppSettings
from infrastructure.sqlalchemy.engine import create_engine
from interfaces.logging_setup import REQUEST_ID, LineFormatter, RequestIdFilter

SLOW_MS = 100  # well above a fast statement, even the first on a connection
SECRET = "s3cret-parameter-value@example.com"
SLOW = text("SELECT pg_sleep(0.15), CAST(:secret AS text) AS echoed")
FAST = text("SELECT CAST(:secret AS text) AS echoed")


@pytest.fixture
async def engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(pg_url, AppSettings(slow_query_ms=SLOW_MS, db_pool_size=1))
    yield engine
    await engine.dispose()


@pytest.fixture
def lines() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    """What `archivist.sql` writes, in the text and the JSON format."""
    streams = io.StringIO(), io.StringIO()
    handlers = []
    for stream, json_lines in zip(streams, (False, True), strict=True):
        handler = logging.StreamHandler(stream)
        handler.setFormatter(LineFormatter(json_lines=json_lines))
        handler.addFilter(RequestIdFilter())
        handlers.append(handler)
    logger = logging.getLogger("archivist.sql")
    level = logger.level
    logger.setLevel(logging.WARNING)
    for handler in handlers:
        logger.addHandler(handler)
    try:
        yield streams
    finally:
        for handler in handlers:
            logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.mark.postgres
async def test_a_slow_statement_is_logged_by_name_and_duration_without_parameters(
    engine: AsyncEngine, lines: tuple[io.StringIO, io.StringIO]
) -> None:
    token = REQUEST_ID.set("req-slow-1")
    try:
        async with engine.connect() as conn:
            fast = (await conn.execute(FAST, {"secret": SECRET})).scalar_one()
            slow = (await conn.execute(SLOW, {"secret": SECRET})).one()
    finally:
        REQUEST_ID.reset(token)

    assert fast == SECRET and slow.echoed == SECRET  # the parameter did reach the server
    text_out, json_out = (s.getvalue() for s in lines)
    assert SECRET not in text_out and SECRET not in json_out
    (text_line,) = text_out.splitlines()  # the slow one only
    assert " WARNING archivist.sql [req-slow-1] slow statement SELECT pg_sleep: " in text_line
    (logged,) = [json.loads(line) for line in json_out.splitlines()]
    assert logged["statement"] == "SELECT pg_sleep"
    assert logged["request_id"] == "req-slow-1"
    assert 150 <= logged["duration_ms"] < 10_000
    assert logged["message"] == f"slow statement SELECT pg_sleep: {logged['duration_ms']:.1f} ms"
    assert f"{logged['duration_ms']:.1f} ms" in text_line


@pytest.mark.postgres
async def test_nothing_is_logged_when_the_threshold_is_zero(
    pg_url: str, lines: tuple[io.StringIO, io.StringIO]
) -> None:
    engine = create_engine(pg_url, AppSettings(slow_query_ms=0, db_pool_size=1))
    try:
        async with engine.connect() as conn:
            await conn.execute(SLOW, {"secret": SECRET})
    finally:
        await engine.dispose()

    assert lines[0].getvalue() == "" and lines[1].getvalue() == ""
