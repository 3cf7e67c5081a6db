"""PostgreSQL for the test suites: TEST_DATABASE_URL's server, or a throwaway embedded one.

Each session makes its own uniquely named databases on that server and drops them at the end,
so suites never touch data they did not create. Under pytest-xdist the controller starts the
embedded server once (`share_with_workers`) and the workers use it through an environment
variable, each making databases of its own (named after the worker) on it."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import asyncpg
from alembic import command
from sqlalchemy import Connection
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from infrastructure.sqlalchemy.embedded import start_embedded
from infrastructure.sqlalchemy.migrations import alembic_config

# Set by the xdist controller for its workers (and stripped, as every ARCHIVIST_ variable, from
# the environment of the `archivist` processes the tests start).
SHARED_SERVER_ENV = "ARCHIVIST_TEST_SHARED_SERVER_URL"

_server_url: str | None = None


def server_url() -> str:
    """The server's URL (asyncpg form), pointing at its maintenance database."""
    global _server_url
    if _server_url is None:
        given = os.environ.get("TEST_DATABASE_URL") or os.environ.get(SHARED_SERVER_ENV)
        if given:
            _server_url = str(
                make_url(given)
                .set(drivername="postgresql+asyncpg")
                .render_as_string(hide_password=False)
            )
        else:
            parent = Path(tempfile.mkdtemp(prefix="archivist-test-pg-"))
            # atexit runs last-in first-out: pgserver (registered next) stops the server and
            # deletes pgdata first, then this removes the emptied parent.
            atexit.register(shutil.rmtree, parent, ignore_errors=True)
            pgdata = parent / "pgdata"
            _server_url = start_embedded(pgdata, database="postgres", throwaway=True)
    return _server_url


def share_with_workers() -> None:
    """Start the server in this process (the xdist controller, which outlives its workers,
    so the throwaway server is stopped and deleted only after every worker is done) and hand
    its URL to the workers it is about to spawn."""
    os.environ[SHARED_SERVER_ENV] = server_url()


def libpq_url(url: str) -> str:
    return str(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))


def url_for(database: str) -> str:
    return str(make_url(server_url()).set(database=database).render_as_string(hide_password=False))


async def create_database(prefix: str = "archivist_test") -> tuple[str, str]:
    """A new empty database; returns (name, asyncpg URL). Under xdist the name carries the
    worker's id (`gw0`...), so a leftover database tells whose it was."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    tag = f"{worker}_" if worker else ""
    name = f"{prefix}_{tag}{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(libpq_url(server_url()))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name, url_for(name)


async def drop_database(name: str) -> None:
    conn = await asyncpg.connect(libpq_url(server_url()))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _alembic(sync_conn: Connection, action: str, revision: str) -> None:
    cfg = alembic_config(connection=sync_conn)
    if action == "upgrade":
        command.upgrade(cfg, revision)
    elif action == "downgrade":
        command.downgrade(cfg, revision)
    elif action == "check":
        command.check(cfg)
    else:
        raise ValueError(action)


async def alembic_on(conn: AsyncConnection, action: str, revision: str = "head") -> None:
    """Run an Alembic command on an open async connection (inside the test's event loop)."""
    await conn.run_sync(_alembic, action, revision)
