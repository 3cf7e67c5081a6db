"""The accounts of `archivist admin`: `admin create` makes an administrator;
`admin set-password EMAIL` and `admin password-link EMAIL` give a person a way into the web
interface from the server's shell (what the admin API routes do, for an operator who has no
token at hand). This module is imported when the parser is built, so everything heavy is
imported inside the command that uses it (see main.py)."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from domain.users import User
    from infrastructure.container import Container


def add_account_commands(admin: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The account subcommands of `archivist admin`."""
    set_password = admin.add_parser(
        "set-password",
        help="set a user's web sign-in password (read from the terminal, or from stdin)",
        description="Set the web sign-in password of the user with this e-mail: typed twice "
        "at a prompt on a terminal, else the first line of stdin (so scripts can pipe it; it "
        "never appears in the command line). The user's web sessions end.",
    )
    set_password.add_argument("email", metavar="EMAIL")
    set_password.set_defaults(func="interfaces.cli.accounts:cmd_admin_set_password")
    link = admin.add_parser(
        "password-link",
        help="print a one-time link with which a user sets their own password",
        description="Print a one-time set-password link for the active user with this e-mail "
        "(ARCHIVIST_PASSWORD_LINK_HOURS valid; it replaces any earlier link of theirs): on "
        "ARCHIVIST_PUBLIC_URL when set, else its path.",
    )
    link.add_argument("email", metavar="EMAIL")
    link.set_defaults(func="interfaces.cli.accounts:cmd_admin_password_link")


def link_text(path: str, public_url: str | None) -> str:
    """A set-password link as printed: absolute on the public URL when one is configured."""
    return f"{public_url}{path}" if public_url else path


class PasswordNotRead(Exception):
    """No password could be read (nothing on stdin, or the two typed differ)."""


def read_password(stdin: TextIO, prompt: Callable[[str], str] = getpass.getpass) -> str:
    """The new password: typed twice, unechoed, on a terminal; else stdin's first line
    (without its line ending, nothing else stripped)."""
    if stdin.isatty():
        first, second = prompt("New password: "), prompt("Once more: ")
        if first != second:
            raise PasswordNotRead("the two passwords differ")
        password = first
    else:
        password = stdin.readline().removesuffix("\n").removesuffix("\r")
    if not password:
        raise PasswordNotRead("no password given (type it at the prompt, or pipe it to stdin)")
    return password


def cmd_admin_create(args: argparse.Namespace) -> int:
    from application.context import RequestContext
    from interfaces.cli.common import run_use_case

    async def run(container: Container) -> str:
        created = await container.bootstrap().create_admin(args.email, args.name, args.department)
        lines = [created.issued.secret]
        if getattr(args, "password_link", False):
            issued = await container.passwords().issue_password_link(
                RequestContext.system(), created.user.id
            )
            lines.append(link_text(issued.path, container.app_settings().public_url))
        return "\n".join(lines)

    done = run_use_case(run)
    if isinstance(done, int):
        return done
    print(done)
    return 0


async def _user_by_email(container: Container, email: str) -> User:
    from domain.errors import NotFound
    from domain.values import normalize_email

    address = normalize_email(email)
    async with container.uow_factory()(autocommit=True) as uow:
        user: User | None = await uow.users.get_by_email(address)
    if user is None:
        raise NotFound("user", address)
    return user


def cmd_admin_set_password(args: argparse.Namespace) -> int:
    from application.context import RequestContext
    from interfaces.cli.common import run_use_case

    try:
        password = read_password(sys.stdin)
    except (PasswordNotRead, EOFError) as err:
        print(f"archivist admin set-password: {err or 'no password given'}", file=sys.stderr)
        return 1

    async def run(container: Container) -> str:
        user = await _user_by_email(container, args.email)
        await container.passwords().set_password(RequestContext.system(), user.id, password)
        return user.email

    done = run_use_case(run)
    if isinstance(done, int):
        return done
    print(f"Password set for {done}; their web sessions ended.", file=sys.stderr)
    return 0


def cmd_admin_password_link(args: argparse.Namespace) -> int:
    from application.context import RequestContext
    from interfaces.cli.common import run_use_case

    async def run(container: Container) -> str:
        user = await _user_by_email(container, args.email)
        issued = await container.passwords().issue_password_link(RequestContext.system(), user.id)
        return link_text(issued.path, container.app_settings().public_url)

    done = run_use_case(run)
    if isinstance(done, int):
        return done
    print(done)
    return 0
