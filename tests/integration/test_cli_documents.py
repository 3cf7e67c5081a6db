"""`archivist seed-demo` and `archivist purge` (SPEC §4), run as subprocesses against a freshly
created and migrated database with the blobs in this test's own directory."""

from __future__ import annotations

import os
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import text

from application.context import RequestContext
from application.document_store import DocumentFields
from application.settings import SettingWrite
from application.users import CreateUser
from domain.documents import Document, DocumentType
from domain.tokens import looks_like_token
from infrastructure.config import AppSettings
from infrastructure.container import Container, build_container, shutdown_container
from tests.support.integration_cli import CliResult, cli_env, run_cli
from tests.support.integration_databases import FreshDatabase, fresh_database

pytestmark = pytest.mark.postgres

SYSTEM = RequestContext.system()
TWO_HOURS_AGO = time.time() - 2 * 3600


@dataclass(frozen=True, slots=True)
class Cli:
    """`archivist` bound to one database, data directory and blob directory."""

    database: FreshDatabase
    data_dir: Path
    blob_dir: Path
    cwd: Path

    @property
    def env(self) -> dict[str, str]:
        return cli_env(self.database.libpq_url, self.data_dir) | {
            "ARCHIVIST_BLOB_DIR": str(self.blob_dir)
        }

    async def run(self, *args: str) -> CliResult:
        return await run_cli(*args, env=self.env, cwd=self.cwd)

    async def scalar(self, sql: str, **params: object) -> object:
        async with self.database.connect() as conn:
            return (await conn.execute(text(sql), params)).scalar_one()

    async def execute(self, sql: str, **params: object) -> None:
        async with self.database.engine.begin() as conn:
            await conn.execute(text(sql), params)

    def container(self) -> Container:
        """The application in this process, on the same database and blob directory."""
        settings = AppSettings(storage="postgres", slow_query_ms=0, blob_dir=self.blob_dir)
        return build_container(settings, self.database.url)

    def blob_files(self) -> set[str]:
        return {
            p.relative_to(self.blob_dir).as_posix()
            for p in self.blob_dir.rglob("*")
            if p.is_file() and "tmp" not in p.relative_to(self.blob_dir).parts
        }


@pytest.fixture
async def cli(tmp_path: Path) -> AsyncIterator[Cli]:
    async with fresh_database(migrated=True) as database:
        yield Cli(database, tmp_path / "data", tmp_path / "blobs", tmp_path)


def _tokens(output: str) -> dict[str, str]:
    """email -> token, as seed-demo prints them: the user's line, then its token line."""
    found = re.findall(r"^\s+(\S+@\S+)\s.*\n\s+token: (\S+)$", output, re.MULTILINE)
    return dict(found)


# --- archivist seed-demo --------------------------------------------------------------------


async def test_seed_demo_prints_a_working_token_for_each_new_user(cli: Cli) -> None:
    result = await cli.run("seed-demo")

    assert result.returncode == 0, result.stderr
    tokens = _tokens(result.stdout)
    assert sorted(tokens) == [
        "admin@demo.archivist.localhost",
        "engineer@demo.archivist.localhost",
        "intern@demo.archivist.localhost",
    ]
    container = cli.container()
    try:
        for email, token in tokens.items():
            assert looks_like_token(token)
            principal = await container.tokens().authenticate(token)
            assert principal.user.email == email
    finally:
        await shutdown_container(container)


async def test_seed_demo_stores_three_documents_with_their_files(cli: Cli) -> None:
    result = await cli.run("seed-demo")

    assert result.returncode == 0, result.stderr
    async with cli.database.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT d.title, d.access_level, d.department, u.email, d.storage_key "
                    "FROM documents d JOIN users u ON u.id = d.owner_id ORDER BY d.access_level"
                )
            )
        ).all()
    assert [tuple(r[:4]) for r in rows] == [
        ("Employee Handbook", 1, None, "admin@demo.archivist.localhost"),
        ("Engineering Guide", 2, "Engineering", "engineer@demo.archivist.localhost"),
        ("Company Strategy 2026", 3, "Management", "admin@demo.archivist.localhost"),
    ]
    assert {r.storage_key for r in rows} == cli.blob_files()


async def test_seed_demo_run_twice_changes_nothing_and_says_so(cli: Cli) -> None:
    first = await cli.run("seed-demo")
    counts = (
        "SELECT ((SELECT count(*) FROM users), (SELECT count(*) FROM api_tokens), "
        "(SELECT count(*) FROM documents), (SELECT count(*) FROM events))::text"
    )
    before = await cli.scalar(counts)

    second = await cli.run("seed-demo")

    assert (first.returncode, second.returncode) == (0, 0), second.stderr
    assert "nothing changed" in second.stdout
    assert _tokens(second.stdout) == {}
    assert await cli.scalar(counts) == before


# --- archivist purge ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Archive:
    """Documents and blobs made in-process, then aged with SQL and `os.utime`."""

    old_trash: Document  # in the trash for two days: goes
    recent_trash: Document  # in the trash since now: stays
    live: Document  # its blob aged: stays
    loose_old: str  # an unreferenced blob, two hours old: goes
    loose_fresh: str  # an unreferenced blob just written (an upload in flight): stays


async def _archive(cli: Cli) -> Archive:
    container = cli.container()
    try:
        owner = await container.users().create(
            SYSTEM, CreateUser(email="olga@example.com", name="Olga", access_level=3)
        )
        ctx = RequestContext(owner)

        async def doc(title: str) -> Document:
            return await container.document_uploads().create_text(
                ctx, f"The text of {title}.", DocumentType.TXT, DocumentFields(title=title)
            )

        old_trash, recent_trash, live = await doc("old"), await doc("recent"), await doc("live")
        for trashed in (old_trash, recent_trash):
            await container.document_lifecycle().delete(ctx, trashed.id)
        await container.settings().put(SYSTEM, "trash_retention_days", SettingWrite(1))
        loose_old = await _put(container, b"left behind by a failed upload")
        loose_fresh = await _put(container, b"an upload in flight")
    finally:
        await shutdown_container(container)
    await cli.execute(
        "UPDATE documents SET deleted_at = now() - interval '2 days' WHERE id = :id",
        id=old_trash.id,
    )
    for key in (old_trash.storage_key, live.storage_key, loose_old):
        os.utime(cli.blob_dir / key, (TWO_HOURS_AGO, TWO_HOURS_AGO))
    return Archive(old_trash, recent_trash, live, loose_old, loose_fresh)


async def _put(container: Container, data: bytes) -> str:
    async def once() -> AsyncIterator[bytes]:
        yield data

    return (await container.blobs().put(once(), max_bytes=len(data))).key


async def _document_ids(cli: Cli) -> set[UUID]:
    async with cli.database.connect() as conn:
        return {r[0] for r in await conn.execute(text("SELECT id FROM documents"))}


async def test_purge_dry_run_changes_nothing_and_reports_what_would_go(cli: Cli) -> None:
    archive = await _archive(cli)
    before = (await _document_ids(cli), cli.blob_files(), await cli.scalar(_EVENTS))

    result = await cli.run("purge", "--dry-run")

    assert result.returncode == 0, result.stderr
    assert (await _document_ids(cli), cli.blob_files(), await cli.scalar(_EVENTS)) == before
    assert "Dry run: nothing was changed." in result.stdout
    assert "would purge 1 document(s)" in result.stdout
    assert str(archive.old_trash.id) in result.stdout
    assert archive.loose_old in result.stdout
    assert archive.loose_fresh not in result.stdout


async def test_purge_removes_trash_past_retention_with_a_purged_event(cli: Cli) -> None:
    archive = await _archive(cli)

    result = await cli.run("purge")

    assert result.returncode == 0, result.stderr
    assert await _document_ids(cli) == {archive.recent_trash.id, archive.live.id}
    assert (
        await cli.scalar(
            "SELECT count(*) FROM events WHERE action = 'document.purged' AND actor_id IS NULL "
            "AND subject_id = :id",
            id=str(archive.old_trash.id),
        )
        == 1
    )
    assert "purged 1 document(s)" in result.stdout


async def test_purge_removes_unreferenced_old_blobs_and_keeps_the_rest(cli: Cli) -> None:
    archive = await _archive(cli)

    result = await cli.run("purge")

    assert result.returncode == 0, result.stderr
    assert cli.blob_files() == {
        archive.recent_trash.storage_key,
        archive.live.storage_key,
        archive.loose_fresh,
    }
    freed = archive.old_trash.size_bytes + len(b"left behind by a failed upload")
    assert f"{freed} bytes freed" in result.stdout
    assert "Search logs: purged 0 search(es) older than 90 days" in result.stdout


async def test_purge_run_again_finds_nothing_more(cli: Cli) -> None:
    await _archive(cli)
    await cli.run("purge")

    again = await cli.run("purge")

    assert again.returncode == 0, again.stderr
    assert "purged 0 document(s)" in again.stdout
    assert "0 bytes freed" in again.stdout


async def test_purge_sweeps_what_crashed_uploads_left_in_the_temporary_directory(
    cli: Cli,
) -> None:
    await _archive(cli)  # creates the blob directory
    crashed, streaming = cli.blob_dir / ".tmp" / "put-crashed", cli.blob_dir / ".tmp" / "put-live"
    crashed.write_bytes(b"half of an upload when the server died")
    streaming.write_bytes(b"an upload still streaming in")
    os.utime(crashed, (TWO_HOURS_AGO, TWO_HOURS_AGO))

    planned = await cli.run("purge", "--dry-run")
    kept = crashed.exists()
    done = await cli.run("purge")

    assert planned.returncode == done.returncode == 0, planned.stderr + done.stderr
    assert "Partial uploads: would purge 1 left by interrupted upload(s)" in planned.stdout
    assert "put-crashed  (38 bytes)" in planned.stdout
    assert kept
    assert "Partial uploads: purged 1 left by interrupted upload(s)" in done.stdout
    assert sorted(p.name for p in (cli.blob_dir / ".tmp").iterdir()) == ["put-live"]


_EVENTS = "SELECT count(*) FROM events"
