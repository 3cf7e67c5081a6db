"""Running Alembic from code (the CLI, `serve`, tests) and checking the schema is at head."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from infrastructure.sqlalchemy.availability import is_unavailable

PROJECT_ROOT = Path(__file__).resolve().parents[3]


def alembic_config(database_url: str | None = None, connection: Connection | None = None) -> Config:
    """Alembic's config for this project. The URL (or an open connection, which tests use to
    migrate inside their own transaction) travels in `attributes`, never in the ini, so a
    password never lands in a file and '%' needs no escaping."""
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    # Called from code, the caller owns logging; alembic.ini's logging is for the alembic CLI.
    cfg.attributes["skip_logging_config"] = True
    if database_url is not None:
        cfg.attributes["database_url"] = database_url
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@cache
def head_revisions() -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


class SqlReadiness:
    """Ready when the database answers and its schema is at the migrations' head."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def check(self) -> tuple[bool, str]:
        try:
            async with self._engine.connect() as conn:
                rows = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
        except Exception as err:
            # Unreachable (a restart, no free pooled connection in time) or not migrated.
            if not isinstance(err, DBAPIError) and not is_unavailable(err, connecting=True):
                raise
            return False, f"database unavailable or not migrated ({type(err).__name__})"
        current = frozenset(r[0] for r in rows)
        if current != head_revisions():
            return False, "database schema is not at the migrations' head"
        return True, "ok"


class AlwaysReady:
    async def check(self) -> tuple[bool, str]:
        return True, "ok (in-memory storage)"
