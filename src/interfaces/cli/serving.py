"""`archivist serve` and `archivist migrate`: migrate (creating the embedded PostgreSQL where
none is), make the first administrator on an empty database, and run the HTTP server under
uvicorn. Imported only once one of them has been chosen (see main.py)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

from sqlalchemy.exc import DBAPIError

from application.context import RequestContext
from application.passwords import IssuedPasswordLink
from infrastructure.config import AppSettings
from infrastructure.container import Container, build_container, shutdown_container
from infrastructure.sqlalchemy import migrations
from infrastructure.sqlalchemy.embedded import start_embedded
from infrastructure.sqlalchemy.engine import safe_url
from interfaces.cli.accounts import link_text
from interfaces.cli.common import database_failure, database_url_of, log_data_dir

log = logging.getLogger("archivist")


def write_secret_file(path: Path, secret: str) -> None:
    """Write `secret` to `path` readable by the owner only (0600), even if it existed."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (secret + "\n").encode())
    finally:
        os.close(fd)


async def _bootstrap_admin(
    container: Container, settings: AppSettings
) -> IssuedPasswordLink | None:
    """On an empty database: the first admin, its API token written to the token file, and
    a one-time link to set its password for the browser (returned; None when users exist).
    Memory storage keeps the container open: the server uses this one (its data lives in
    it)."""
    try:
        created = await container.bootstrap().ensure_initial_admin(
            settings.initial_admin_email, "Administrator"
        )
        if created is None:
            return None
        write_secret_file(settings.admin_token_path, created.issued.secret)
        return await container.passwords().issue_password_link(
            RequestContext.system(), created.user.id
        )
    finally:
        if settings.storage != "memory":
            await shutdown_container(container)


def first_sign_in_text(
    issued: IssuedPasswordLink, settings: AppSettings, host: str, port: int
) -> str:
    """What `serve` prints when it made the first admin: the token file, and the one-time
    link that sets the admin's password (on the public URL, else on the address served)."""
    if settings.public_url:
        link = link_text(issued.path, settings.public_url)
    else:
        shown = "localhost" if host in ("0.0.0.0", "::", "") else host  # noqa: S104
        shown = f"[{shown}]" if ":" in shown else shown
        link = f"http://{shown}:{port}{issued.path}"
    hours = round((issued.expires_at - issued.link.created_at).total_seconds() / 3600)
    return (
        f"Created the first administrator ({issued.user.email}); its API token is in "
        f"{settings.admin_token_path} (mode 0600).\n"
        f"To sign in from a browser, open this one-time link within {hours} hour(s) and "
        f"choose the administrator's password:\n  {link}"
    )


def _exit_normally_on_sigterm() -> None:
    """After a graceful shutdown uvicorn re-raises the SIGTERM it caught. Under the default
    disposition that kills the process before `atexit` runs, so pgserver never stops the
    embedded PostgreSQL and it outlives `archivist serve`. Exit through SystemExit instead."""

    def _exit(signum: int, frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _exit)


# What uvicorn runs: a callable building the app (one process), or the import string of
# the app factory (each of several worker processes builds its own).
AppSource: TypeAlias = Callable[[], Any] | str


def _run_uvicorn(app: AppSource, options: dict[str, Any]) -> None:
    import uvicorn

    _exit_normally_on_sigterm()
    uvicorn.run(app() if callable(app) else app, **options)


@dataclass(frozen=True)
class Effects:
    """What `serve` and `migrate upgrade` do beyond reading settings and the database:
    start the embedded PostgreSQL (`start_database(pgdata, shared_buffers=...)`, giving its
    URL) and run the HTTP server until it stops (`run_server(app, uvicorn_options)`). `main`
    uses these; the CLI's tests pass stand-ins that record the call."""

    start_database: Callable[..., str] = start_embedded
    run_server: Callable[[AppSource, dict[str, Any]], None] = _run_uvicorn


def cmd_serve(args: argparse.Namespace, effects: Effects | None = None) -> int:
    from interfaces.http.app import create_app

    effects = effects or Effects()
    settings = AppSettings()
    log_data_dir(settings)
    if args.workers > 1 and settings.storage == "memory":
        print(
            "archivist serve: --workers needs PostgreSQL (memory is per process)", file=sys.stderr
        )
        return 2
    if settings.storage == "memory":
        url = None
        log.warning("storage=memory: nothing is persisted; for tests and demos only")
    else:
        url = database_url_of(settings, create=True, start=effects.start_database)
        log.info("database %s", safe_url(url))
        try:
            migrations.upgrade(url)
        except (DBAPIError, OSError) as err:
            return database_failure(err, url)
    container = build_container(settings, url)
    issued = asyncio.run(_bootstrap_admin(container, settings))
    if issued is not None:
        print(first_sign_in_text(issued, settings, args.host, args.port), file=sys.stderr)

    def app() -> Any:
        return create_app(
            container if settings.storage == "memory" else build_container(settings, url),
            freeze_heap=True,
            run_workers=settings.workers_in_process,
            keep_statement_stats=True,
        )

    effects.run_server(
        app if args.workers == 1 else _worker_app(url), uvicorn_options(args, settings)
    )
    return 0


def uvicorn_options(args: argparse.Namespace, settings: AppSettings) -> dict[str, Any]:
    """The keywords `serve` runs uvicorn with (besides the app)."""
    from interfaces.http.server import BoundedHttpToolsProtocol, head_limit
    from interfaces.logging_setup import log_config

    return {
        "workers": args.workers,
        "factory": args.workers > 1,
        "host": args.host,
        "port": args.port,
        "loop": "uvloop",
        # httptools, with the request head bounded (interfaces/http/server.py).
        "http": BoundedHttpToolsProtocol,
        "h11_max_incomplete_event_size": head_limit(
            settings.max_header_bytes, settings.max_url_bytes
        ),
        # The same log lines as every command (interfaces/logging_setup.py), in each worker
        # process too; the app writes the access log (interfaces/http/request_log.py).
        "log_config": log_config(
            settings.log_format, settings.log_level, access_log=not args.no_access_log
        ),
        "access_log": False,
        "log_level": settings.log_level.lower(),
        # The client address (audit trail, upload records, login IP, the auth throttle) is
        # the TCP peer unless asked: uvicorn would otherwise trust X-Forwarded-For from
        # 127.0.0.1 by default, so anything local could claim any address.
        "proxy_headers": args.proxy_headers,
        "forwarded_allow_ips": args.forwarded_allow_ips,
    }


def _worker_app(url: str | None) -> str:
    """What uvicorn starts in each of several worker processes: the app factory by name. Each
    worker builds its own container and pools on the database resolved here (an embedded
    server stays this process's: the workers only connect to it). Safe since blob deletion
    is guarded by a lock in the database (docs/decisions.md, "Blobs")."""
    if url is not None:
        os.environ["DATABASE_URL"] = url
    return "interfaces.http.app:served_app"


def cmd_migrate(args: argparse.Namespace, effects: Effects | None = None) -> int:
    from alembic import command
    from alembic.util.exc import CommandError

    effects = effects or Effects()
    settings = AppSettings()
    if args.action == "history":  # the scripts only: no database needed
        url = None
    else:
        url = database_url_of(
            settings, create=args.action == "upgrade", start=effects.start_database
        )
    cfg = migrations.alembic_config(url)
    try:
        if args.action == "upgrade":
            command.upgrade(cfg, args.revision or "head")
        elif args.action == "downgrade":
            if not args.revision:
                print(
                    "archivist migrate downgrade needs a revision (e.g. -1 or base)",
                    file=sys.stderr,
                )
                return 2
            command.downgrade(cfg, args.revision)
        elif args.action == "current":
            command.current(cfg, verbose=False)
        elif args.action == "history":
            command.history(cfg)
        elif args.action == "check":
            command.check(cfg)
            print("models and migrations agree", file=sys.stderr)
    except CommandError as err:
        print(f"archivist migrate {args.action}: {err}", file=sys.stderr)
        return 1
    except (DBAPIError, OSError) as err:
        assert url is not None  # history touches no database
        return database_failure(err, url)
    return 0
