"""The embedded PostgreSQL 16 (pgserver) used when DATABASE_URL is unset."""

from __future__ import annotations

import json
import logging
import os
import re
import warnings
from collections.abc import Callable
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


SIZE = re.compile(r"(\d{1,7})(kB|MB|GB)")
_MB = 1024 * 1024


def auto_shared_buffers(memory_bytes: int | None = None) -> str:
    """An eighth of the machine's memory, between PostgreSQL's default 128 MB and 1 GB: the
    documents and the search index of a 100,000-document archive (~420 MB) then stay in
    PostgreSQL's own cache (docs/decisions.md, "Embedded PostgreSQL")."""
    if memory_bytes is None:
        try:
            memory_bytes = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            memory_bytes = 0
    return f"{min(max(memory_bytes // 8 // _MB, 128), 1024)}MB"


def _psql_value(server: Any, query: str) -> str:
    out: str = server.psql(f"\\pset tuples_only on\n\\pset format unaligned\n{query};\n")
    return out.strip().splitlines()[-1].strip()


def _tune(server: Any, pgdata: Path, shared_buffers: str) -> None:
    """Give the server `shared_buffers` (ALTER SYSTEM, kept in pgdata) and restart it for the
    setting to apply, when this process is the server's only user; otherwise the setting
    applies at the server's next start."""
    if SIZE.fullmatch(shared_buffers) is None:
        raise ValueError(f"not a size like 512MB: {shared_buffers!r}")
    # shared_buffers matched a plain size pattern above, so interpolating it is safe.
    same = _psql_value(
        server,
        "SELECT pg_size_bytes(current_setting('shared_buffers')) = "
        f"pg_size_bytes('{shared_buffers}')",
    )
    if same == "t":
        return
    server.psql(f"ALTER SYSTEM SET shared_buffers = '{shared_buffers}';\n")
    holders = pgdata / ".handle_pids.json"
    try:
        alone = json.loads(holders.read_text()) == [os.getpid()]
    except (OSError, ValueError):
        alone = False
    if not alone:
        log.info("embedded PostgreSQL: shared_buffers=%s applies at its next start", shared_buffers)
        return
    from pgserver._commands import pg_ctl  # type: ignore[attr-defined]

    pg_ctl(
        ["-w", "-m", "fast", "-l", str(server.log), "restart"],
        pgdata=pgdata,
        user=server.system_user,
        timeout=60,
    )
    # pgserver stops the server it knows by its postmaster process at exit: tell it the new one.
    server.ensure_postgres_running()
    log.info("embedded PostgreSQL restarted with shared_buffers=%s", shared_buffers)


def start_embedded(
    pgdata: Path,
    *,
    database: str = DATABASE_NAME,
    throwaway: bool = False,
    shared_buffers: str | None = "auto",
) -> str:
    """Start (or attach to) the embedded server in `pgdata`; return an asyncpg URL for
    `database`, creating the database if needed. A throwaway server is deleted at exit.
    `shared_buffers` ("auto", a size like "512MB", or None to leave the server's own) is
    applied when this process starts the server."""
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
        if shared_buffers is not None:
            _tune(
                server,
                pgdata,
                auto_shared_buffers() if shared_buffers == "auto" else shared_buffers,
            )
        log.info("embedded PostgreSQL running in %s", pgdata)
    # `database` matched a plain-identifier pattern above, so interpolating it is safe.
    create_if_missing = (
        f"SELECT 'CREATE DATABASE {database}' "  # noqa: S608
        f"WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{database}')\\gexec"
    )
    server.psql(create_if_missing)
    uri: str = server.get_uri(database)
    return uri.replace("postgresql://postgres:@", "postgresql+asyncpg://postgres@", 1)


class NoDatabase(Exception):
    """The data directory holds no embedded database, and the command may not create one."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        super().__init__(
            f"no database in the data directory {data_dir} (no {data_dir / 'pgdata'}); "
            "'archivist serve' or 'archivist migrate upgrade' creates one. To use another, "
            "set ARCHIVIST_DATA_DIR to its directory or DATABASE_URL to its server"
        )


def has_embedded_database(data_dir: Path) -> bool:
    """Whether `<data_dir>/pgdata` holds a PostgreSQL cluster (initdb writes PG_VERSION)."""
    return (data_dir / "pgdata" / "PG_VERSION").is_file()


def resolve_database_url(
    database_url: str | None,
    data_dir: Path,
    shared_buffers: str | None = "auto",
    *,
    create: bool = True,
    start: Callable[..., str] = start_embedded,
) -> str:
    """DATABASE_URL when given; otherwise the embedded server under `<data_dir>/pgdata`,
    created there if missing unless `create` is false (then `NoDatabase`): only `serve` and
    `migrate upgrade` create one, so a command run from another directory cannot silently
    start an empty second database. `start(pgdata, shared_buffers=...)` starts it
    (`start_embedded`; the CLI's tests pass a stand-in)."""
    if database_url:
        return database_url
    data_dir = data_dir.expanduser().resolve()
    if not create and not has_embedded_database(data_dir):
        raise NoDatabase(data_dir)
    return start(data_dir / "pgdata", shared_buffers=shared_buffers)
