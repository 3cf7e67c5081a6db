"""`archivist`: serve, migrate, admin, seed-demo, purge, import, worker, backup, restore,
db-report. Output meant for scripts goes to stdout; logs and messages go to stderr.

The command line is parsed before anything heavy is imported, so that `archivist --help` and a
refused argument answer in a fraction of a second. Each subcommand names the function that
runs it, `set_defaults(func="package.module:function")`: a `Command`, which `main` imports
(`resolve_command`) only once the command line has chosen it. The commands live by area:
`serving.py` (serve, migrate), `accounts.py` (admin), `maintenance.py` (seed-demo, purge),
`importing.py` (import), `worker.py`, `backup.py` (backup, restore) and `db_report.py`;
`common.py` holds what several of them share."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeAlias

from interfaces.cli.accounts import add_account_commands
from interfaces.cli.backup import add_backup_commands
from interfaces.cli.db_report import add_db_report_command
from interfaces.cli.worker import add_worker_command

# What runs a command: given the parsed command line, it returns the exit status.
Command: TypeAlias = Callable[[argparse.Namespace], int]


def resolve_command(ref: str) -> Command:
    """The function a subcommand's `func` names ("package.module:function"), its module
    imported now: this is where a command's heavy imports happen."""
    module, _, name = ref.partition(":")
    command: Command = getattr(importlib.import_module(module), name)
    return command


def _worker_count(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1 to 64")
    return int(text)


class _Version(argparse.Action):
    """`--version`: the installed package's version, looked up only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(
            option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, nargs=0, **kwargs
        )

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            installed = version("archivist")
        except PackageNotFoundError:  # a source tree that was never installed
            installed = "unknown (not installed)"
        print(f"archivist {installed}")
        parser.exit()


def _trusted_proxies(text: str) -> str:
    """`--forwarded-allow-ips`: comma-separated IP addresses or networks, or `*`."""
    import ipaddress

    items = [item.strip() for item in text.split(",")]
    for item in items:
        if item == "*":
            continue
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{item!r} is not an IP address or network (e.g. 10.0.0.5,10.1.0.0/16 or *)"
            ) from None
    return ",".join(items)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="archivist", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrate, then serve the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-access-log", action="store_true", help="skip per-request log lines")
    serve.add_argument(
        "--workers",
        type=_worker_count,
        default=1,
        help="server processes sharing the port, database and blob directory (default 1)",
    )
    serve.add_argument(
        "--proxy-headers",
        action="store_true",
        help="behind a reverse proxy: take the client address (audit trail, upload records, "
        "login IP, throttling) and scheme from X-Forwarded-For/-Proto, when the peer is "
        "one of --forwarded-allow-ips. Off: the TCP peer is the client",
    )
    serve.add_argument(
        "--forwarded-allow-ips",
        type=_trusted_proxies,
        metavar="IPS",
        help="with --proxy-headers: the proxies trusted to set those headers, comma-separated "
        "addresses or networks, or * for any (default $FORWARDED_ALLOW_IPS, else "
        "127.0.0.1,::1)",
    )
    serve.set_defaults(func="interfaces.cli.serving:cmd_serve")

    migrate = sub.add_parser("migrate", help="Alembic migrations (plain `alembic` works too)")
    migrate.add_argument(
        "action",
        nargs="?",
        default="upgrade",
        choices=["upgrade", "downgrade", "current", "check", "history"],
    )
    migrate.add_argument("revision", nargs="?", help="target revision (default head)")
    migrate.set_defaults(func="interfaces.cli.serving:cmd_migrate")

    admin = sub.add_parser("admin", help="administrators")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    create = admin_sub.add_parser(
        "create",
        help="create an admin; prints only its new token (and a set-password link if asked)",
    )
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--department")
    create.add_argument(
        "--password-link",
        action="store_true",
        help="also print, on a second line, a one-time link with which the admin sets a "
        "web sign-in password (on ARCHIVIST_PUBLIC_URL when set, else its path)",
    )
    create.set_defaults(func="interfaces.cli.accounts:cmd_admin_create")
    add_account_commands(admin_sub)

    seed = sub.add_parser(
        "seed-demo", help="demo users and documents (idempotent); prints new users' tokens"
    )
    seed.set_defaults(func="interfaces.cli.maintenance:cmd_seed_demo")

    purge = sub.add_parser(
        "purge", help="delete trash past retention and unreferenced blobs for good"
    )
    purge.add_argument(
        "--dry-run", action="store_true", help="report what would go, change nothing"
    )
    purge.set_defaults(func="interfaces.cli.maintenance:cmd_purge")

    imports = sub.add_parser(
        "import",
        help="store a folder's files as documents (files already stored are skipped, so "
        "running it again resumes)",
        description="Store a folder's files as documents, by the rules of an HTTP upload. "
        "Hidden files are left out. Exit status 1 if any file was rejected or failed.",
    )
    imports.add_argument("directory", type=Path)
    imports.add_argument("--recursive", action="store_true", help="sub-folders too")
    imports.add_argument("--category", help="a category name, for every file")
    imports.add_argument("--tag", action="append", default=[], help="repeatable")
    imports.add_argument("--access-level", type=int, default=1, choices=[1, 2, 3])
    imports.add_argument("--department")
    imports.add_argument("--owner", help="e-mail of the owner (default: the first admin)")
    imports.add_argument("--taxonomy-path", help="classify every file at A/B (latest version)")
    imports.add_argument(
        "--on-duplicate",
        choices=["skip", "reject", "allow"],
        default="skip",
        help="a file whose bytes are already stored: skip it (default), count it rejected, "
        "or store it again",
    )
    imports.add_argument("--jobs", type=_job_count, default=4, help="files in flight (1-64)")
    imports.add_argument("--report", type=Path, help="write the files not imported as JSON")
    imports.set_defaults(func="interfaces.cli.importing:cmd_import")

    add_worker_command(sub)
    add_backup_commands(sub)
    add_db_report_command(sub)
    return parser


def _job_count(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1 to 64")
    return int(text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "forwarded_allow_ips", None) is not None and not args.proxy_headers:
        parser.error("--forwarded-allow-ips needs --proxy-headers")
    from pydantic import ValidationError

    from infrastructure.config import AppSettings, describe_invalid_settings
    from infrastructure.sqlalchemy.embedded import NoDatabase
    from interfaces.logging_setup import configure_logging

    command = resolve_command(args.func)
    try:
        # Log lines of every command: ARCHIVIST_LOG_FORMAT, ARCHIVIST_LOG_LEVEL.
        settings = AppSettings()
        configure_logging(
            settings.log_format,
            settings.log_level,
            access_log=not getattr(args, "no_access_log", False),
        )
        return command(args)
    except NoDatabase as err:
        print(f"archivist {args.command}: {err}", file=sys.stderr)
        return 1
    except ValidationError as err:
        if err.title != "AppSettings":  # not the configuration: a bug, with its traceback
            raise
        for line in describe_invalid_settings(err).splitlines():
            print(f"archivist: {line}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
