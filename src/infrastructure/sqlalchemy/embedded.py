"""The embedded PostgreSQL 16 (pgserver) used when DATABASE_URL is unset."""

from __future__ import annotations

import json
import logging
import os
import re
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger("archivist.embedded")

DATABASE_NAME = "archivist"

# Keeps the server handles alive for the life of the process; pgserver stops a server when
# its last handle in the last process using it goes away.
_servers: dict[Path, Any] = {}


def _forget_dead_holders(pgdata: Path) -> None:
    """pgserver stops the server when the last process holding it exits, and keeps the
    holders' pids in `<pgdata>/.handle_pids.json`. A holder that died without its exit
    handlers (SIGKILL, OOM, an unhandled signal) stays listed for ever, and then no later
    process ever stops the server. Drop the pids of processes that no longer exist."""
    holders = pgdata / ".handle_pids.json"
    if not holders.exists():
        return
    from pgserver.postgres_server import PostgresServer

    with PostgresServer._lock:
        try:
            pids = [int(p) for p in json.loads(holders.read_text())]
        except (OSError, ValueError, TypeError):
            return
        alive = [pid for pid in pids if _process_exists(pid)]
        if alive != pids:
            holders.write_text(json.dumps(alive))
            log.info("forgot %d stale embedded PostgreSQL holder(s)", len(pids) - len(alive))


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def start_embedded(pgdata: Path, *, database: str = DATABASE_NAME, throwaway: bool = False) -> str:
    """Start (or attach to) the embedded server in `pgdata`; return an asyncpg URL for
    `database`, creating the database if needed. A throwaway server is deleted at exit."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", database):
        raise ValueError(f"not a plain database name: {database!r}")
    pgdata = pgdata.expanduser().resolve()
    server = _servers.get(pgdata)
    if server is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pgserver warns about XDG_RUNTIME_DIR
            from pgserver import get_server  # type: ignore[attr-defined]

            pgdata.parent.mkdir(parents=True, exist_ok=True)
            _forget_dead_holders(pgdata)
            server = get_server(pgdata, cleanup_mode="delete" if throwaway else "stop")
        _servers[pgdata] = server
        log.info("embedded PostgreSQL running in %s", pgdata)
    # `database` matched a plain-identifier pattern above, so interpolating it is safe.
    create_if_missing = (
        f"SELECT 'CREATE DATABASE {database}' "  # noqa: S608
        f"WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{database}')\\gexec"
    )
    server.psql(create_if_missing)
    uri: str = server.get_uri(database)
    return uri.replace("postgresql://postgres:@", "postgresql+asyncpg://postgres@", 1)


def resolve_database_url(database_url: str | None, data_dir: Path) -> str:
    """DATABASE_URL when given; otherwise the embedded server under `<data_dir>/pgdata`."""
    if database_url:
        return database_url
    return start_embedded(data_dir / "pgdata")
