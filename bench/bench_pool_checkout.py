"""What a pooled connection's liveness check costs: checkout plus `SELECT 1`, 2,000 times,
median of 5 rounds, for three engines: without any check, with Archivist's closed-socket check
at checkout (what `create_engine` installs), and with `pool_pre_ping` on top.

Run from the project root: `DATABASE_URL=postgresql://... .venv/bin/python
bench/bench_pool_checkout.py` (figures in docs/benchmarks.md, "Faults").
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sqlalchemy import text

import infrastructure.sqlalchemy.engine as engines
from infrastructure.config import AppSettings

ROUNDS, CHECKOUTS, WARM_UP = 5, 2000, 200


async def per_checkout_us(url: str, *, check: bool, pre_ping: bool) -> float:
    install = engines._replace_closed_connections
    if not check:
        engines._replace_closed_connections = lambda engine: None  # type: ignore[assignment]
    try:
        engine = engines.create_engine(url, AppSettings(slow_query_ms=0, db_pool_pre_ping=pre_ping))
    finally:
        engines._replace_closed_connections = install  # type: ignore[assignment]
    query = text("SELECT 1")
    try:
        for _ in range(WARM_UP):
            async with engine.connect() as conn:
                await conn.execute(query)
        rounds = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            for _ in range(CHECKOUTS):
                async with engine.connect() as conn:
                    await conn.execute(query)
            rounds.append((time.perf_counter() - started) / CHECKOUTS * 1e6)
        return statistics.median(rounds)
    finally:
        await engine.dispose()


async def main() -> None:
    url = os.environ["DATABASE_URL"]
    for label, check, pre_ping in (
        ("no check", False, False),
        ("closed-socket check", True, False),
        ("pool_pre_ping", True, True),
    ):
        print(f"{label:>20}: {await per_checkout_us(url, check=check, pre_ping=pre_ping):7.0f} µs")


if __name__ == "__main__":
    asyncio.run(main())
