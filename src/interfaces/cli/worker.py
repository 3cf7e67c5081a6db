"""`archivist worker [--concurrency N]`: run background jobs in a process of its own, on any
machine that reaches the database and the blob store (the scale-out path: start as many as
needed; a job is run by one of them). Stops gracefully on SIGTERM or SIGINT: the jobs in hand
finish first. It migrates nothing: the schema must be at head already."""

from __future__ import annotations

import argparse
import asyncio
import sys


def add_worker_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    worker = sub.add_parser(
        "worker",
        help="run background jobs until stopped (SIGTERM/SIGINT); any number may run",
        description=__doc__,
    )
    worker.add_argument(
        "--concurrency",
        type=_concurrency,
        default=None,
        help="jobs run at once (1-64; default ARCHIVIST_WORKER_CONCURRENCY, 2)",
    )
    worker.set_defaults(func="interfaces.cli.worker:cmd_worker")


def _concurrency(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1 to 64")
    return int(text)


def cmd_worker(args: argparse.Namespace) -> int:
    # Imported here, once the command line is parsed (see main.py).
    import asyncpg  # type: ignore[import-untyped]
    from sqlalchemy.exc import DBAPIError

    from infrastructure.config import AppSettings
    from infrastructure.container import build_container, shutdown_container
    from interfaces.cli.common import database_failure, database_url_of, log_data_dir

    settings = AppSettings()
    log_data_dir(settings)
    if settings.storage == "memory":
        print(
            "archivist worker: needs PostgreSQL (memory storage is per process; "
            "`archivist serve` runs its jobs itself)",
            file=sys.stderr,
        )
        return 2
    if args.concurrency is not None:
        settings = settings.model_copy(update={"worker_concurrency": args.concurrency})
    url = database_url_of(settings)  # never creates the embedded database

    async def run() -> int:
        container = build_container(settings, url)
        try:
            ready, detail = await container.readiness().check()
            if not ready:
                print(
                    f"archivist worker: {detail}; run 'archivist migrate upgrade' first",
                    file=sys.stderr,
                )
                return 1
            # Its statement statistics, for `archivist db-report` (docs/decisions.md,
            # "Database report"): flushed on schedule, and once more when stopping.
            flusher = container.statement_stats_flusher()
            if flusher is not None:
                await flusher.start()
            try:
                # With ARCHIVIST_CONSUME_DIR, the consume folder too (one consumer per
                # database).
                consume = container.consume_folder()
                if consume is not None:
                    await consume.start()
                try:
                    await container.job_worker().run_until_stopped()
                finally:
                    if consume is not None:
                        await consume.stop()
            finally:
                if flusher is not None:
                    await flusher.stop()
            return 0
        finally:
            await shutdown_container(container)

    try:
        return asyncio.run(run())
    except (DBAPIError, OSError, asyncpg.PostgresError) as err:
        return database_failure(err, url)
    except RuntimeError as err:  # the worker ended by itself
        print(f"archivist worker: {err}", file=sys.stderr)
        return 1
