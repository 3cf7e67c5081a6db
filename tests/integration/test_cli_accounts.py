"""`archivist admin create --password-link`, `archivist admin set-password EMAIL` and
`archivist admin password-link EMAIL`, run as an operator runs them, against a migrated
database; what they did is checked through the application's own sign-in."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from application.accounts import AccountService
from application.context import RequestContext
from application.passwords import PasswordService
from domain.errors import AuthenticationFailed
from domain.tokens import looks_like_token
from infrastructure.config import AppSettings
from infrastructure.container import build_container, shutdown_container
from interfaces.cli.accounts import PasswordNotRead, read_password
from tests.support.integration_cli import CliResult, cli_env, run_cli
from tests.support.integration_databases import FreshDatabase, fresh_database

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("cli")]

PASSWORD = "violet staple orbit 42"
WEB = RequestContext(actor=None, client_ip="192.0.2.1")


@dataclass(frozen=True, slots=True)
class Cli:
    database: FreshDatabase
    data_dir: Path
    cwd: Path

    async def run(self, *args: str, stdin: bytes | None = None, **env: str) -> CliResult:
        environment = {**cli_env(self.database.libpq_url, self.data_dir), **env}
        return await run_cli(*args, env=environment, cwd=self.cwd, stdin=stdin)

    async def signs_in(self, email: str, password: str) -> bool:
        container = build_container(AppSettings(storage="postgres"), self.database.url)
        try:
            accounts: AccountService = container.accounts()
            await accounts.sign_in(email, password, WEB)
        except AuthenticationFailed:
            return False
        finally:
            await shutdown_container(container)
        return True

    async def set_with_link(self, secret: str, password: str) -> None:
        container = build_container(AppSettings(storage="postgres"), self.database.url)
        try:
            passwords: PasswordService = container.passwords()
            await passwords.set_password_with_link(secret, password, WEB)
        finally:
            await shutdown_container(container)


@pytest.fixture(scope="module")
async def cli(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cli]:
    """One migrated database for the module (making one costs seconds): each test works
    on a user of its own."""
    tmp = tmp_path_factory.mktemp("accounts")
    async with fresh_database(migrated=True) as database:
        yield Cli(database, tmp / "data", tmp)


async def test_admin_create_prints_a_set_password_link_on_a_second_line(cli: Cli) -> None:
    email = "linked@example.com"
    result = await cli.run("admin", "create", "--email", email, "--name", "Op", "--password-link")

    assert result.returncode == 0, result.stderr
    token, link = result.stdout.splitlines()
    assert looks_like_token(token)
    assert link.startswith("/set-password?token=arvp_")
    await cli.set_with_link(link.partition("token=")[2], PASSWORD)
    assert await cli.signs_in(email, PASSWORD)


async def test_a_link_is_printed_on_the_public_url_when_one_is_set(cli: Cli) -> None:
    email = "public@example.com"
    created = await cli.run("admin", "create", "--email", email, "--name", "Op")
    assert created.returncode == 0, created.stderr

    result = await cli.run(
        "admin", "password-link", email, ARCHIVIST_PUBLIC_URL="https://archive.example.com/"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("https://archive.example.com/set-password?token=arvp_")
    assert len(result.stdout.splitlines()) == 1


async def test_set_password_reads_the_password_from_stdin(cli: Cli) -> None:
    email = "piped@example.com"
    created = await cli.run("admin", "create", "--email", email, "--name", "Op")
    assert created.returncode == 0, created.stderr

    refused = await cli.run("admin", "set-password", email, stdin=b"Password2024!\n")
    result = await cli.run("admin", "set-password", email, stdin=f"{PASSWORD}\n".encode())

    assert refused.returncode == 1
    assert "password: is too common" in refused.stderr and "Traceback" not in refused.stderr
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and PASSWORD not in result.stderr
    assert await cli.signs_in(email, PASSWORD)


async def test_set_password_for_an_unknown_email_says_so(cli: Cli) -> None:
    result = await cli.run("admin", "set-password", "nobody@example.com", stdin=b"x\n")

    assert result.returncode == 1
    assert "user nobody@example.com was not found" in result.stderr


# --- reading the password -------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_piped_password_is_its_first_line_without_the_line_ending() -> None:
    assert read_password(io.StringIO("  spaced pass  \r\nsecond line\n")) == "  spaced pass  "


def test_on_a_terminal_the_password_is_typed_twice() -> None:
    typed = iter(["same one", "same one"])
    assert read_password(Terminal(), lambda _: next(typed)) == "same one"
    differing = iter(["one", "other"])
    with pytest.raises(PasswordNotRead, match="differ"):
        read_password(Terminal(), lambda _: next(differing))


def test_nothing_on_stdin_is_no_password() -> None:
    with pytest.raises(PasswordNotRead, match="no password"):
        read_password(io.StringIO(""))
