"""The installed `archivist` command (SPEC §4), run as a subprocess against a freshly created
and migrated database, as an operator runs it: DATABASE_URL and ARCHIVIST_DATA_DIR set."""

from __future__ import annotations

import hashlib
import stat
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from domain.tokens import PREFIX_LENGTH, looks_like_token
from infrastructure.config import AppSettings
from infrastructure.container import build_container, shutdown_container
from tests.support.databases import libpq_url, url_for
from tests.support.integration_catalog import every_row_as_text
from tests.support.integration_cli import CliResult, Server, cli_env, run_cli, start_server
from tests.support.integration_databases import FreshDatabase, fresh_database, script_directory

# One xdist worker runs the whole module, so its module-scoped databases and server are set up once.
pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("cli")]

EMAIL = "x@example.com"


@dataclass(frozen=True, slots=True)
class Cli:
    """`archivist` bound to one database and data directory."""

    database: FreshDatabase
    data_dir: Path
    cwd: Path

    @property
    def env(self) -> dict[str, str]:
        return cli_env(self.database.libpq_url, self.data_dir)

    async def run(self, *args: str) -> CliResult:
        return await run_cli(*args, env=self.env, cwd=self.cwd)

    async def count(self, sql: str) -> int:
        async with self.database.connect() as conn:
            return int((await conn.execute(text(sql))).scalar_one())


@pytest.fixture
async def cli(tmp_path: Path) -> AsyncIterator[Cli]:
    """A migrated database of this test's own."""
    async with fresh_database(migrated=True) as database:
        yield Cli(database, tmp_path / "data", tmp_path)


# --- archivist admin create -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AdminCreated:
    cli: Cli
    result: CliResult

    @property
    def token(self) -> str:
        return self.result.stdout.strip()


@pytest.fixture(scope="module")
async def admin_cli(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cli]:
    tmp = tmp_path_factory.mktemp("admin")
    async with fresh_database(migrated=True) as database:
        yield Cli(database, tmp / "data", tmp)


@pytest.fixture(scope="module")
async def created(admin_cli: Cli) -> AdminCreated:
    """`archivist admin create` run once on an empty database; the tests below read it.
    The installed script itself, in a fresh interpreter (most runs are forked: see
    tests/support/forked_cli.py)."""
    result = await run_cli(
        "admin",
        "create",
        "--email",
        EMAIL,
        "--name",
        "X",
        env=admin_cli.env,
        cwd=admin_cli.cwd,
        fresh_interpreter=True,
    )
    assert result.returncode == 0, result.stderr
    return AdminCreated(admin_cli, result)


async def test_admin_create_prints_only_the_token_on_one_line(created: AdminCreated) -> None:
    lines = created.result.stdout.splitlines()

    assert len(lines) == 1
    assert looks_like_token(lines[0])


async def test_admin_create_does_not_write_the_token_to_stderr(created: AdminCreated) -> None:
    assert created.token not in created.result.stderr


async def test_admin_create_token_authenticates_as_an_l3_admin(created: AdminCreated) -> None:
    container = build_container(
        AppSettings(storage="postgres", slow_query_ms=0), created.cli.database.url
    )
    try:
        principal = await container.tokens().authenticate(created.token)
    finally:
        await shutdown_container(container)

    user = principal.user
    assert (user.email, user.name, user.role.value, int(user.access_level), user.is_active) == (
        EMAIL,
        "X",
        "admin",
        3,
        True,
    )


async def test_admin_create_stores_the_token_as_its_sha256_hex(created: AdminCreated) -> None:
    async with created.cli.database.connect() as conn:
        rows = (await conn.execute(text("SELECT token_hash, prefix FROM api_tokens"))).all()

    assert [tuple(r) for r in rows] == [
        (hashlib.sha256(created.token.encode()).hexdigest(), created.token[:PREFIX_LENGTH])
    ]


async def test_admin_create_stores_the_plaintext_token_in_no_column(
    created: AdminCreated,
) -> None:
    async with created.cli.database.connect() as conn:
        dump = await every_row_as_text(conn)
    everything = "\n".join(row for rows in dump.values() for row in rows)
    secret_part = created.token[PREFIX_LENGTH:]

    # The dump really holds the rows: the user, the token's public prefix, its events.
    assert EMAIL in everything
    assert created.token[:PREFIX_LENGTH] in everything
    assert {"users", "api_tokens", "events", "settings", "alembic_version"} <= dump.keys()
    assert created.token not in everything
    assert secret_part not in everything


async def test_admin_create_with_a_taken_email_fails_with_a_clear_message(
    created: AdminCreated,
) -> None:
    again = await created.cli.run("admin", "create", "--email", EMAIL, "--name", "Again")

    assert again.returncode != 0
    assert again.stdout == ""
    assert f"a user with email {EMAIL} already exists" in again.stderr
    assert "Traceback" not in again.stderr
    assert await created.cli.count("SELECT count(*) FROM users") == 1


async def test_admin_create_on_an_unmigrated_database_says_to_migrate(tmp_path: Path) -> None:
    async with fresh_database(migrated=False) as database:
        cli = Cli(database, tmp_path / "data", tmp_path)
        result = await cli.run("admin", "create", "--email", EMAIL, "--name", "X")

    assert result.returncode != 0
    assert result.stdout == ""
    assert "archivist migrate upgrade" in result.stderr
    assert "Traceback" not in result.stderr


# --- archivist migrate ----------------------------------------------------------------------


async def test_migrate_current_shows_the_head_revision(cli: Cli) -> None:
    result = await cli.run("migrate", "current")

    assert result.returncode == 0, result.stderr
    for head in script_directory().get_heads():
        assert f"{head} (head)" in result.stdout


async def test_migrate_check_passes_on_a_migrated_database(cli: Cli) -> None:
    result = await cli.run("migrate", "check")

    assert result.returncode == 0, result.stderr


async def test_migrate_check_fails_on_a_drifted_database(cli: Cli) -> None:
    async with cli.database.engine.begin() as conn:
        await conn.execute(text("DROP INDEX ix_users_department"))

    result = await cli.run("migrate", "check")

    assert result.returncode == 1
    assert "ix_users_department" in result.stderr
    assert "Traceback" not in result.stderr


async def test_migrate_downgrade_without_a_revision_exits_2_and_changes_nothing(
    cli: Cli,
) -> None:
    result = await cli.run("migrate", "downgrade")

    assert result.returncode == 2
    assert "needs a revision" in result.stderr
    assert await cli.database.revisions() == set(script_directory().get_heads())


async def test_migrate_upgrade_brings_an_empty_database_to_head(tmp_path: Path) -> None:
    async with fresh_database(migrated=False) as database:
        cli = Cli(database, tmp_path / "data", tmp_path)
        result = await cli.run("migrate", "upgrade")
        revisions = await database.revisions()

    assert result.returncode == 0, result.stderr
    assert revisions == set(script_directory().get_heads())


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(("migrate", "current"), id="migrate"),
        pytest.param(("serve", "--port", "0"), id="serve"),
    ],
)
async def test_command_on_a_missing_database_fails_in_one_clear_line(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    name = f"archivist_it_missing_{uuid.uuid4().hex[:8]}"
    url = make_url(libpq_url(url_for(name))).set(password="not-to-be-shown")
    env = cli_env(url.render_as_string(hide_password=False), tmp_path / "data")

    result = await run_cli(*command, env=env, cwd=tmp_path)

    assert result.returncode == 1
    assert f'database "{name}" does not exist' in result.stderr
    assert "Traceback" not in result.stderr
    assert "not-to-be-shown" not in result.stderr


# --- archivist serve ------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def serve_cli(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cli]:
    tmp = tmp_path_factory.mktemp("serve")
    async with fresh_database(migrated=True) as database:
        yield Cli(database, tmp / "data", tmp)


@pytest.fixture(scope="module")
def served(serve_cli: Cli) -> Iterator[Server]:
    """`archivist serve` on a migrated, empty database, ready to answer: the installed
    script in a fresh interpreter."""
    server = start_server(
        serve_cli.env, serve_cli.cwd, serve_cli.cwd / "logs", fresh_interpreter=True
    )
    try:
        yield server
    finally:
        server.stop()


def _admin_token(cli: Cli) -> str:
    return (cli.data_dir / "admin-token").read_text().strip()


def test_serve_answers_health(served: Server) -> None:
    response = httpx.get(f"{served.base_url}/health")

    assert (response.status_code, response.json()["status"]) == (200, "ok")


def test_serve_answers_ready_with_the_schema_at_head(served: Server) -> None:
    response = httpx.get(f"{served.base_url}/ready")

    assert (response.status_code, response.json()["status"]) == (200, "ok")


def test_serve_writes_the_admin_token_file_readable_by_its_owner_only(
    served: Server, serve_cli: Cli
) -> None:
    mode = stat.S_IMODE((serve_cli.data_dir / "admin-token").stat().st_mode)

    assert mode == 0o600


def test_serve_admin_token_authenticates_as_admin(served: Server, serve_cli: Cli) -> None:
    response = httpx.get(
        f"{served.base_url}/api/v1/me",
        headers={"Authorization": f"Bearer {_admin_token(serve_cli)}"},
    )

    assert response.status_code == 200
    assert (response.json()["role"], response.json()["access_level"]) == ("admin", 3)


def test_serve_announces_the_token_file_in_one_line_without_the_token(
    served: Server, serve_cli: Cli
) -> None:
    token = _admin_token(serve_cli)
    console = served.stdout + served.stderr
    announcements = [line for line in console.splitlines() if "admin-token" in line]

    assert announcements == [
        "Created the first administrator (admin@archivist.localhost); its API token is in "
        f"{serve_cli.data_dir / 'admin-token'} (mode 0600)."
    ]
    assert token not in console


async def test_serve_started_again_creates_no_second_admin(cli: Cli) -> None:
    token_file = cli.data_dir / "admin-token"
    first = start_server(cli.env, cli.cwd, cli.cwd / "logs")
    first.stop()
    before = (token_file.read_bytes(), token_file.stat().st_mtime_ns)

    second = start_server(cli.env, cli.cwd, cli.cwd / "logs")
    try:
        async with httpx.AsyncClient(base_url=second.base_url) as client:
            response = await client.get(
                "/api/v1/me", headers={"Authorization": f"Bearer {_admin_token(cli)}"}
            )
    finally:
        second.stop()

    assert response.status_code == 200
    assert (token_file.read_bytes(), token_file.stat().st_mtime_ns) == before
    assert "Created the first administrator" not in second.stderr
    assert await cli.count("SELECT count(*) FROM users") == 1
    assert await cli.count("SELECT count(*) FROM api_tokens") == 1


async def test_serve_behind_a_trusted_proxy_records_the_forwarded_client_address(
    cli: Cli,
) -> None:
    server = start_server(
        cli.env,
        cli.cwd,
        cli.cwd / "logs",
        ["--proxy-headers", "--forwarded-allow-ips", "127.0.0.1"],
    )
    try:
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            response = await client.get(
                "/api/v1/me",
                headers={
                    "Authorization": f"Bearer {_admin_token(cli)}",
                    "X-Forwarded-For": "203.0.113.7",
                },
            )
    finally:
        server.stop()

    assert response.status_code == 200
    assert await cli.count("SELECT count(*) FROM users WHERE last_login_ip = '203.0.113.7'") == 1
    assert f"data directory {cli.data_dir.resolve()} " in server.stderr
