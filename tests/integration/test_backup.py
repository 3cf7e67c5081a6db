"""`archivist backup` / `archivist restore` (issue #13, item 4): a backup of a live archive
restores elsewhere with every document's bytes, the search index and the audit trail; restore
refuses a damaged backup and a target that is not empty. In-process calls of
`infrastructure.backup`, and one CLI smoke test."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from application.context import RequestContext
from application.document_store import DocumentFields
from application.users import CreateUser
from domain.documents import Document, DocumentType
from domain.pagination import PageRequest
from domain.users import UserFilter
from domain.values import Role
from infrastructure.backup import (
    BLOBS,
    DUMP,
    MANIFEST,
    BackupError,
    backup,
    read_manifest,
    restore,
)
from infrastructure.config import AppSettings
from infrastructure.container import Container, build_container, shutdown_container
from infrastructure.sqlalchemy.embedded import start_embedded
from infrastructure.sqlalchemy.migrations import head_revisions, upgrade
from interfaces.cli.main import main
from tests.support.integration_cli import cli_env, run_cli
from tests.support.integration_databases import FreshDatabase, fresh_database

pytestmark = pytest.mark.postgres

SYSTEM = RequestContext.system()
WORDS = ["amber", "basalt", "cobalt", "dolomite", "emerald"]
# Every row of the audit trail, in a form two databases can be compared by.
EVENTS = (
    "SELECT id, occurred_at::text, actor_id::text, action, subject_type, subject_id, "
    "data::text FROM events ORDER BY id"
)
DOCUMENTS = "SELECT id, storage_key, sha256 FROM documents ORDER BY id"


async def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return [tuple(r) for r in await conn.execute(text(sql))]
    finally:
        await engine.dispose()


def _container(url: str, blob_dir: Path) -> Container:
    settings = AppSettings(storage="postgres", slow_query_ms=0, blob_dir=blob_dir)
    return build_container(settings, url)


@dataclass(frozen=True, slots=True)
class Archive:
    """A database and a blob directory."""

    database: FreshDatabase
    blob_dir: Path

    @property
    def url(self) -> str:
        return self.database.url

    def container(self) -> Container:
        return _container(self.url, self.blob_dir)

    async def rows(self, sql: str) -> list[tuple[object, ...]]:
        return await _rows(self.url, sql)


async def _archive(path: Path, *, migrated: bool) -> AsyncIterator[Archive]:
    async with fresh_database(migrated=migrated) as database:
        yield Archive(database, path / "blobs")


@pytest.fixture
async def source(tmp_path: Path) -> AsyncIterator[Archive]:
    async for archive in _archive(tmp_path / "source", migrated=True):
        yield archive


@pytest.fixture
async def target(tmp_path: Path) -> AsyncIterator[Archive]:
    """An empty database (not even migrated) and no blob directory: where restores go."""
    async for archive in _archive(tmp_path / "target", migrated=False):
        yield archive


async def _owner(container: Container) -> RequestContext:
    admin = await container.users().create(
        SYSTEM, CreateUser(email="ada@example.com", name="Ada", access_level=3, role="admin")
    )
    return RequestContext(admin)


async def _text_document(container: Container, ctx: RequestContext, title: str) -> Document:
    return await container.document_uploads().create_text(
        ctx, f"{title}: notes about {title} rock.", DocumentType.TXT, DocumentFields(title=title)
    )


async def _download_sha256(container: Container, ctx: RequestContext, doc: Document) -> str:
    download = await container.document_reads().download(ctx, doc.id)
    hasher = hashlib.sha256()
    async for chunk in download.chunks:
        hasher.update(chunk)
    return hasher.hexdigest()


@pytest.fixture(scope="module")
async def seeded(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Archive, Path]]:
    """An archive of five documents (one in the trash, one viewed and downloaded, one with the
    same bytes as another) and a backup of it, shared by the tests that only read them."""
    root = tmp_path_factory.mktemp("seeded")
    async for archive in _archive(root, migrated=True):
        container = archive.container()
        try:
            ctx = await _owner(container)
            docs = [await _text_document(container, ctx, word) for word in WORDS]
            await container.document_uploads().create_text(
                ctx,
                "amber: notes about amber rock.",
                DocumentType.TXT,
                DocumentFields(title="amber again", on_duplicate="allow"),
            )
            await container.document_lifecycle().delete(ctx, docs[1].id)
            await container.document_reads().get(ctx, docs[0].id)
            await _download_sha256(container, ctx, docs[0])
        finally:
            await shutdown_container(container)
        report = await backup(archive.url, archive.blob_dir, root / "backup")
        assert report.snapshots == 1
        yield archive, root / "backup"


async def test_restore_gives_back_every_document_its_search_and_its_audit_trail(
    seeded: tuple[Archive, Path], target: Archive
) -> None:
    source, backup_dir = seeded

    report = await restore(backup_dir, target.url, target.blob_dir)

    assert (report.migrated, report.blobs) == (False, 5)  # six documents, one shared file
    assert await target.database.revisions() == set(head_revisions())
    assert await target.rows(DOCUMENTS) == await source.rows(DOCUMENTS)
    assert await target.rows(EVENTS) == await source.rows(EVENTS)
    container = target.container()
    try:
        ada = await container.users().list(
            SYSTEM, UserFilter(role=Role.ADMIN), PageRequest(limit=1)
        )
        ctx = RequestContext(ada.items[0])
        for doc_id, _, sha256 in await target.rows(DOCUMENTS):
            assert isinstance(doc_id, UUID)
            doc = (await container.document_reads().get(ctx, doc_id)).document
            assert await _download_sha256(container, ctx, doc) == sha256
        for word in WORDS:
            found = await container.search().search(ctx, word)
            titles = {hit.title for hit in found.results}
            assert word in titles or word == "basalt"  # basalt is in the trash
    finally:
        await shutdown_container(container)


async def test_the_manifest_lists_the_dump_and_every_referenced_blob_with_checksums(
    seeded: tuple[Archive, Path],
) -> None:
    source, backup_dir = seeded
    manifest = read_manifest(backup_dir)
    raw = json.loads((backup_dir / MANIFEST).read_text())

    referenced = {r[1] for r in await source.rows(DOCUMENTS)}
    assert {b.key for b in manifest.blobs} == referenced
    for blob in manifest.blobs:
        data = (backup_dir / BLOBS / blob.key).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (blob.size_bytes, blob.sha256)
    dump = (backup_dir / DUMP).read_bytes()
    assert raw["database"]["sha256"] == hashlib.sha256(dump).hexdigest()
    assert raw["alembic_revision"] in head_revisions()
    assert (raw["format"], raw["format_version"]) == ("archivist-backup", 1)
    assert {"app_version", "created_at"} <= raw.keys()


async def test_restore_refuses_a_tampered_blob_and_names_it(
    seeded: tuple[Archive, Path], target: Archive, tmp_path: Path
) -> None:
    _, backup_dir = seeded
    copy = tmp_path / "copy"
    shutil.copytree(backup_dir, copy)
    victim = read_manifest(copy).blobs[2].key
    data = bytearray((copy / BLOBS / victim).read_bytes())
    data[0] ^= 1  # same size, other bytes
    (copy / BLOBS / victim).write_bytes(bytes(data))

    with pytest.raises(BackupError, match=victim):
        await restore(copy, target.url, target.blob_dir)

    assert await target.rows("SELECT relname FROM pg_class WHERE relname = 'documents'") == []
    assert not target.blob_dir.exists()


async def test_restore_refuses_a_database_that_is_not_empty(
    seeded: tuple[Archive, Path], tmp_path: Path
) -> None:
    source, backup_dir = seeded
    before = await source.rows(DOCUMENTS)

    # The first object named: a table, or the function of the title index (migration 0012).
    not_empty = r"database .* is not empty \((relation|function) public\."
    with pytest.raises(BackupError, match=not_empty):
        await restore(backup_dir, source.url, tmp_path / "fresh-blobs")

    assert await source.rows(DOCUMENTS) == before


async def test_restore_refuses_a_blob_directory_that_is_not_empty(
    seeded: tuple[Archive, Path], target: Archive
) -> None:
    _, backup_dir = seeded
    (target.blob_dir / "ab").mkdir(parents=True)

    with pytest.raises(BackupError, match=r"blob directory .* is not empty"):
        await restore(backup_dir, target.url, target.blob_dir)


async def test_backup_refuses_a_destination_that_is_not_empty(
    seeded: tuple[Archive, Path],
) -> None:
    source, backup_dir = seeded

    with pytest.raises(BackupError, match=r"destination .* is not empty"):
        await backup(source.url, source.blob_dir, backup_dir)


async def test_a_failed_backup_leaves_nothing_behind(target: Archive, tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="not an Archivist database"):
        await backup(target.url, target.blob_dir, tmp_path / "backup")

    assert not (tmp_path / "backup").exists()


async def test_the_dump_and_the_blobs_are_of_one_snapshot(
    source: Archive, target: Archive, tmp_path: Path
) -> None:
    container = source.container()
    try:
        ctx = await _owner(container)
        before = await _text_document(container, ctx, "before")
        after: list[Document] = []

        async def upload_once_the_snapshot_is_taken(stage: str) -> None:
            if stage == "snapshot":
                after.append(await _text_document(container, ctx, "after"))

        await backup(
            source.url,
            source.blob_dir,
            tmp_path / "backup",
            checkpoint=upload_once_the_snapshot_is_taken,
        )
    finally:
        await shutdown_container(container)

    assert {b.key for b in read_manifest(tmp_path / "backup").blobs} == {before.storage_key}
    await restore(tmp_path / "backup", target.url, target.blob_dir)
    assert [r[0] for r in await target.rows(DOCUMENTS)] == [before.id]
    assert len(after) == 1


async def test_a_document_purged_after_the_snapshot_makes_the_backup_take_another(
    source: Archive, target: Archive, tmp_path: Path
) -> None:
    container = source.container()
    try:
        ctx = await _owner(container)
        kept = await _text_document(container, ctx, "kept")
        late: list[Document] = []

        async def race(stage: str) -> None:
            # Uploaded after the first copy, so in the snapshot but not copied yet; then
            # purged (with its blob) as soon as the first snapshot is taken.
            if stage == "copied":
                late.append(await _text_document(container, ctx, "late"))
            elif stage == "snapshot" and late[0].id not in purged:
                await container.document_lifecycle().purge(ctx, late[0].id)
                purged.add(late[0].id)

        purged: set[object] = set()
        report = await backup(source.url, source.blob_dir, tmp_path / "backup", checkpoint=race)
    finally:
        await shutdown_container(container)

    assert report.snapshots == 2
    assert not (source.blob_dir / late[0].storage_key).exists()
    await restore(tmp_path / "backup", target.url, target.blob_dir)
    assert [r[0] for r in await target.rows(DOCUMENTS)] == [kept.id]
    assert (target.blob_dir / kept.storage_key).is_file()


async def test_a_backup_taken_while_uploads_and_purges_run_restores_consistently(
    source: Archive, target: Archive, tmp_path: Path
) -> None:
    container = source.container()
    stop, going = asyncio.Event(), asyncio.Event()
    stored: list[Document] = []
    try:
        ctx = await _owner(container)

        async def churn(worker: int) -> None:
            while not stop.is_set():
                doc = await _text_document(container, ctx, f"churn {worker} {len(stored)}")
                stored.append(doc)
                if len(stored) >= 6:
                    going.set()
                if len(stored) % 3 == 0:  # some go for good at once, their blobs with them
                    await container.document_lifecycle().purge(ctx, doc.id)

        writers = [asyncio.create_task(churn(n)) for n in range(3)]
        async with asyncio.timeout(30):
            await going.wait()
        during = len(stored)
        report = await backup(source.url, source.blob_dir, tmp_path / "backup")
        stop.set()
        await asyncio.gather(*writers)
    finally:
        stop.set()
        await shutdown_container(container)

    assert len(stored) > during  # the backup really ran among uploads
    await restore(tmp_path / "backup", target.url, target.blob_dir)
    restored = await target.rows(DOCUMENTS)
    assert 0 < len(restored) == report.blobs
    for _, key, sha256 in restored:
        assert hashlib.sha256((target.blob_dir / str(key)).read_bytes()).hexdigest() == sha256


async def test_a_backup_of_an_older_schema_is_migrated_after_the_restore(
    target: Archive, tmp_path: Path
) -> None:
    async with fresh_database(migrated=False) as older:
        await older.alembic("upgrade", "head")
        await older.alembic("downgrade", "-1")
        revision = next(iter(await older.revisions()))
        await backup(older.url, tmp_path / "no-blobs", tmp_path / "backup")

    report = await restore(tmp_path / "backup", target.url, target.blob_dir)

    assert (report.alembic_revision, report.migrated) == (revision, True)
    assert await target.database.revisions() == set(head_revisions())


async def test_the_cli_moves_an_archive_from_the_embedded_server_to_a_server(
    target: Archive, tmp_path: Path
) -> None:
    """An archive on the embedded server (PostgreSQL 16, its own pg_dump): `archivist backup`
    while this process holds the server, `archivist restore` into an empty data directory
    (a new embedded server), and the same backup restored on the test server."""
    data_dir = tmp_path / "data"
    url = start_embedded(data_dir / "pgdata", throwaway=True, shared_buffers=None)
    await asyncio.to_thread(upgrade, url)
    container = _container(url, data_dir / "blobs")
    try:
        ctx = await _owner(container)
        for word in WORDS[:2]:
            await _text_document(container, ctx, word)
    finally:
        await shutdown_container(container)
    env = cli_env(None, data_dir) | {"ARCHIVIST_EMBEDDED_SHARED_BUFFERS": "128MB"}
    elsewhere = env | {"ARCHIVIST_DATA_DIR": str(tmp_path / "elsewhere")}

    made = await run_cli("backup", str(tmp_path / "backup"), env=env, cwd=tmp_path)
    restored = await run_cli("restore", str(tmp_path / "backup"), env=elsewhere, cwd=tmp_path)

    assert made.returncode == 0, made.stderr
    assert "2 blob(s)" in made.stdout
    assert read_manifest(tmp_path / "backup").server_version.startswith("16.")
    assert restored.returncode == 0, restored.stderr
    assert f"2 blob(s) into {tmp_path / 'elsewhere' / 'blobs'}" in restored.stdout
    assert len(list((tmp_path / "elsewhere" / "blobs").glob("*/*/*"))) == 2
    await restore(tmp_path / "backup", target.url, target.blob_dir)
    assert await target.rows(DOCUMENTS) == await _rows(url, DOCUMENTS)
    assert await target.rows(EVENTS) == await _rows(url, EVENTS)


def test_a_refused_restore_says_why_in_one_line(
    seeded: tuple[Archive, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source, backup_dir = seeded
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", source.database.libpq_url)
    monkeypatch.setenv("ARCHIVIST_BLOB_DIR", str(tmp_path / "blobs"))

    status = main(["restore", str(backup_dir)])

    err = capsys.readouterr().err.strip()
    assert status == 1
    assert err.startswith(f"archivist restore: the database {source.database.name} is not empty")
    assert len(err.splitlines()) == 1


def test_a_restore_refuses_a_data_directory_that_is_not_empty(
    seeded: tuple[Archive, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, backup_dir = seeded
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "admin-token").write_text("secret\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("ARCHIVIST_DATA_DIR", str(tmp_path / "data"))

    status = main(["restore", str(backup_dir)])

    assert status == 1
    assert capsys.readouterr().err.strip() == (
        f"archivist restore: the data directory {tmp_path / 'data'} is not empty (it holds "
        "admin-token): restore needs an empty one (set ARCHIVIST_DATA_DIR or move it away)"
    )
    assert not (tmp_path / "data" / "pgdata").exists()
