"""What several `archivist` commands share: the database they use, a one-line report when it
cannot be used, and running a use case on a container for a database at head. Imported
only once a command has been chosen (see main.py)."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

from domain.errors import DomainError
from infrastructure.config import AppSettings
from infrastructure.container import Container, build_container, shutdown_container
from infrastructure.sqlalchemy.embedded import resolve_database_url, start_embedded
from infrastructure.sqlalchemy.engine import safe_url

log = logging.getLogger("archivist")

T = TypeVar("T")


def database_url_of(
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


def database_failure(err: Exception, url: str) -> int:
    """Report an unreachable or unusable database in one line (no traceback, no password)."""
    cause = getattr(err, "orig", None) or err
    detail = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    print(f"archivist: cannot use the database {safe_url(url)}: {detail}", file=sys.stderr)
    return 1


def run_use_case(use_case: Callable[[Container], Awaitable[T]]) -> T | int:
    """Run `use_case` on a container for a database at head; an exit status on failure."""
    settings = AppSettings()
    url = None if settings.storage == "memory" else database_url_of(settings)

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
        return database_failure(err, url)
