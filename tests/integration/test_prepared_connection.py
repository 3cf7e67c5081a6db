"""A `PreparedStatement` takes the driver connection straight from a live `AsyncConnection`
(no greenlet round trip), and through SQLAlchemy when the connection must reconnect first."""

from __future__ import annotations

import pytest
from sqlalchemy import Integer, bindparam, text
from sqlalchemy.ext.asyncio import AsyncEngine

from infrastructure.sqlalchemy.prepared import PreparedStatement, _pooled_connection

_PLUS_ONE = PreparedStatement(text("SELECT :n + 1").bindparams(bindparam("n", type_=Integer)))


@pytest.mark.postgres
async def test_a_live_connection_hands_over_the_connection_sqlalchemy_would(
    pg_engine: AsyncEngine,
) -> None:
    async with pg_engine.connect() as conn:
        assert await _pooled_connection(conn) is await conn.get_raw_connection()
        assert (await _PLUS_ONE.fetchrow(conn, {"n": 1}))[0] == 2


@pytest.mark.postgres
async def test_an_invalidated_connection_reconnects_before_the_statement(
    pg_engine: AsyncEngine,
) -> None:
    async with pg_engine.connect() as conn:
        before = (await conn.get_raw_connection()).driver_connection
        await conn.invalidate()
        assert conn.invalidated

        record = await _PLUS_ONE.fetchrow(conn, {"n": 41})

        assert record[0] == 42
        assert (await conn.get_raw_connection()).driver_connection is not before
