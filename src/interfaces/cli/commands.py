"""What each `archivist` command does (`main.py` parses the command line and imports this
only then: `archivist --help` and a refused argument start in a fraction of a second)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias, TypeVar

from sqlalchemy.exc import DBAPIError

from application.context import RequestContext
from application.demo import DemoReport
from application.document_import import FileResult, ImportOptions
from application.document_import import Outcome as ImportOutcome
from application.document_store import DocumentFields
from application.maintenance import PurgeReport
from application.passwords import IssuedPasswordLink
from domain.errors import DomainError, ValidationFailed
from domain.pagination import MAX_LIMIT, PageRequest
from domain.ports import UnitOfWorkFactory
from domain.taxonomy import TaxonomyNodeNotFound, format_path
from domain.users import User, UserFilter
from domain.values import Role, normalize_email
from infrastructure.config import AppSettings
from infrastructure.container import Container, build_container, shutdown_container
from infrastructure.sqlalchemy import migrations
from infrastructure.sqlalchemy.embedded import resolve_database_url, start_embedded
from infrastructure.sqlalchemy.engine import safe_url
from interfaces.cli.accounts import link_text

log = logging.getLogger("archivist")

T = TypeVar("T")


def _database_url(
    settings: AppSettings, *, create: bool = False, start: Callable[..., str] = start_embedded
) -> str:
    """The database to use. The embedded one is created (by `start`) only with `create`
    (`serve`, `migrate upgrade`); any other command on a data directory without one raises
    `NoDatabase`, which `main` reports with the directory's absolute path."""
    return resolve_database_url(
        settings.database_url,
        settings.data_dir,
        settings.embedded_shared_buffers,
        create=create,
        start=start,
    )


def log_data_dir(settings: AppSettings) -> None:
    """Say at start which data directory (absolute) a long-running command works in."""
    log.info("data directory %s (blobs in %s)", settings.data_dir, settings.blobs_path)


def _database_failure(err: Exception, url: str) -> int:
    """Report an unreachable or unusable database in one line (no traceback, no password)."""
    cause = getattr(err, "orig", None) or err
    detail = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    print(f"archivist: cannot use the database {safe_url(url)}: {detail}", file=sys.stderr)
    return 1


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
        url = _database_url(settings, create=True, start=effects.start_database)
        log.info("database %s", safe_url(url))
        try:
            migrations.upgrade(url)
        except (DBAPIError, OSError) as err:
            return _database_failure(err, url)
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
        url = _database_url(settings, create=args.action == "upgrade", start=effects.start_database)
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
        return _database_failure(err, url)
    return 0


def cmd_admin_create(args: argparse.Namespace) -> int:
    settings = AppSettings()
    url = None if settings.storage == "memory" else _database_url(settings)

    async def run() -> str:
        container = build_container(settings, url)
        try:
            ready, detail = await container.readiness().check()
            if not ready:
                raise SystemExit(f"archivist: {detail}; run 'archivist migrate upgrade' first")
            created = await container.bootstrap().create_admin(
                args.email, args.name, args.department
            )
            lines = [created.issued.secret]
            if getattr(args, "password_link", False):
                issued = await container.passwords().issue_password_link(
                    RequestContext.system(), created.user.id
                )
                lines.append(link_text(issued.path, settings.public_url))
            return "\n".join(lines)
        finally:
            await shutdown_container(container)

    try:
        secret = asyncio.run(run())
    except DomainError as err:
        print(f"archivist: {err.message}", file=sys.stderr)
        return 1
    print(secret)
    return 0


def _run_use_case(use_case: Callable[[Container], Awaitable[T]]) -> T | int:
    """Run `use_case` on a container for a database at head; an exit status on failure."""
    settings = AppSettings()
    url = None if settings.storage == "memory" else _database_url(settings)

    async def run() -> T:
        container = build_container(settings, url)
        try:
            ready, detail = await container.readiness().check()
            if not ready:
                raise SystemExit(f"archivist: {detail}; run 'archivist migrate upgrade' first")
            return await use_case(container)
        finally:
            await shutdown_container(container)

    try:
        return asyncio.run(run())
    except DomainError as err:
        print(f"archivist: {err.message}", file=sys.stderr)
        return 1
    except (DBAPIError, OSError) as err:
        assert url is not None  # memory storage touches neither
        return _database_failure(err, url)


def cmd_seed_demo(args: argparse.Namespace) -> int:
    report = _run_use_case(lambda c: c.demo().seed())
    if isinstance(report, int):
        return report
    print(format_demo_report(report))
    return 0


def format_demo_report(report: DemoReport) -> str:
    """What seed-demo did, for a person: new users with their token, then the documents."""
    if not report.changed:
        return "Demo data already present; nothing changed."
    lines = ["Demo users:"]
    for u in report.users:
        who = (
            f"  {u.user.email}  ({u.user.role.value}, L{int(u.user.access_level)}, "
            f"{u.user.department or 'no department'})"
        )
        if u.token is not None:
            lines += [f"{who}  created", f"    token: {u.token}"]
        else:
            lines.append(f"{who}  already present (no new token)")
    lines.append("Demo documents:")
    for d in report.documents:
        state = "created" if d.created else "already present"
        lines.append(
            f"  {d.title!r}  (L{d.access_level}, {d.department or 'all departments'}, "
            f"owner {d.owner_email})  {state}"
        )
    if any(u.token for u in report.users):
        lines.append("Each token is shown only this once; send it as 'Authorization: Bearer ...'.")
    return "\n".join(lines)


def cmd_purge(args: argparse.Namespace) -> int:
    report = _run_use_case(lambda c: c.maintenance().purge(dry_run=args.dry_run))
    if isinstance(report, int):
        return report
    print(format_purge_report(report))
    return 0


def format_purge_report(report: PurgeReport) -> str:
    """The purge summary: one line per sweep, then the items, then the bytes freed."""
    verb = "would purge" if report.dry_run else "purged"
    trash_blobs = [b for b in report.blobs if b.reason == "trash"]
    loose_blobs = [b for b in report.blobs if b.reason == "unreferenced"]
    partial = [b for b in report.blobs if b.reason == "partial"]
    lines = ["Dry run: nothing was changed."] if report.dry_run else []
    lines.append(
        f"Trash: {verb} {len(report.documents)} document(s) deleted before "
        f"{report.cutoff:%Y-%m-%d %H:%M} UTC (retention {report.retention_days} days), "
        f"freeing {len(trash_blobs)} blob(s)"
    )
    lines += [
        f"  {d.id}  {d.title!r}  (in the trash since {d.deleted_at:%Y-%m-%d})"
        for d in report.documents
    ]
    lines.append(f"Blobs: {verb} {len(loose_blobs)} unreferenced blob(s)")
    lines += [f"  {b.key}  ({b.size_bytes} bytes)" for b in loose_blobs]
    lines.append(f"Partial uploads: {verb} {len(partial)} left by interrupted upload(s)")
    lines += [f"  {b.key}  ({b.size_bytes} bytes)" for b in partial]
    lines.append(
        f"Search logs: {verb} {report.search_queries} search(es) older than "
        f"{report.search_retention_days} days (with their responses and feedback)"
    )
    lines.append(
        f"Events: {verb} {report.events} view(s), download(s) and search(es) of the audit "
        f"trail older than {report.event_retention_days} days (changes are kept)"
    )
    lines.append(
        f"Upload records: {verb} {report.uploads} older than {report.upload_retention_days} days"
    )
    lines.append(
        f"Job log: {verb} {report.job_log} entr(ies) of jobs finished over "
        f"{report.job_log_retention_days} days ago"
    )
    lines.append(
        f"Sign-ins: {verb} {report.sessions} expired web session(s) and "
        f"{report.password_links} expired set-password link(s)"
    )
    would = " would be" if report.dry_run else ""
    lines.append(
        f"Total: {len(report.blobs)} blob(s){would} deleted, {report.bytes_freed} bytes{would} "
        "freed"
    )
    return "\n".join(lines)


def cmd_import(args: argparse.Namespace) -> int:
    from interfaces.cli.importing import (
        ImportProgress,
        sources_in,
        stderr_console,
        summary,
        write_report,
    )

    root: Path = args.directory
    if not root.is_dir():
        print(f"archivist import: {root} is not a folder", file=sys.stderr)
        return 2
    sources = sources_in(root, recursive=args.recursive)
    fields = DocumentFields(
        access_level=args.access_level,
        department=args.department,
        category=args.category,
        tags=tuple(args.tag),
        taxonomy_path=args.taxonomy_path,
    )
    options = ImportOptions(fields, args.on_duplicate, args.jobs)

    async def run(container: Container) -> list[FileResult]:
        ctx = RequestContext(actor=await _import_owner(container, args.owner))
        if args.taxonomy_path is not None:  # once, with the nearest paths on a miss
            try:
                await container.taxonomy().resolve(args.taxonomy_path)
            except TaxonomyNodeNotFound as err:
                nearest = ", ".join(format_path(p) for p in err.suggestions)
                raise ValidationFailed.on(
                    "taxonomy_path", f"{err.message}; the nearest paths: {nearest}"
                ) from err
        with ImportProgress(sources, stderr_console()) as progress:
            return await container.document_import().run(ctx, sources, options, progress.done)

    started = time.monotonic()
    results = _run_use_case(run)
    if isinstance(results, int):
        return results
    print(summary(results, time.monotonic() - started))
    if args.report is not None:
        with args.report.open("w", encoding="utf-8") as out:
            write_report(results, out)
    stored = (ImportOutcome.IMPORTED, ImportOutcome.DUPLICATE)
    return 0 if all(r.outcome in stored for r in results) else 1


async def _import_owner(container: Container, email: str | None) -> User:
    """The user the imported documents belong to: the one with `email`, or else the first
    administrator."""
    uow_factory: UnitOfWorkFactory = container.uow_factory()
    async with uow_factory(autocommit=True) as uow:
        if email is not None:
            user = await uow.users.get_by_email(normalize_email(email, "owner"))
            if user is None or not user.is_active:
                raise ValidationFailed.on("owner", f"no active user {email!r}")
            return user
        admins = await uow.users.list(
            UserFilter(role=Role.ADMIN, is_active=True), PageRequest(limit=MAX_LIMIT)
        )
    if not admins.items:
        raise ValidationFailed.on("owner", "no active administrator: name one with --owner")
    return min(admins.items, key=lambda u: (u.created_at, u.id))
