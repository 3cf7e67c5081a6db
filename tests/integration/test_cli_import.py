"""`archivist import DIR` (SPEC §4; issue #12 item 6), run as a subprocess against a freshly
created and migrated database: a folder of ~100 generated files of every kind, with a scanned
page, a duplicate, a disallowed type and a corrupt PDF; the counts printed and reported, the
rows stored, their thumbnails made by the jobs the import queued, the scan found by its words
once OCR'd (or flagged where Tesseract is missing), and a second run that stores nothing."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from application.context import RequestContext
from infrastructure.config import AppSettings
from infrastructure.container import build_container, shutdown_container
from infrastructure.extraction.ocr import tesseract_problem
from interfaces.cli.main import main
from tests.support.integration_cli import CliResult, cli_env, run_cli
from tests.support.integration_databases import FreshDatabase, fresh_database
from tests.support.pdf import one_page_pdf
from tests.support.scans import SCANNED_WORDS, need_tesseract, scanned_pdf
from tests.unit.test_extraction import document_xml, docx, paragraph

pytestmark = pytest.mark.postgres

SUMMARY = re.compile(
    r"^(\d+) file\(s\) in [\d.]+ s \(\d+ files/s\): (\d+) imported, (\d+) duplicate, "
    r"(\d+) rejected, (\d+) failed; \d+ bytes imported$",
    re.MULTILINE,
)


@dataclass(frozen=True)
class Cli:
    database: FreshDatabase
    data_dir: Path
    cwd: Path

    async def run(self, *args: str) -> CliResult:
        env = cli_env(self.database.libpq_url, self.data_dir) | {
            "ARCHIVIST_BLOB_DIR": str(self.cwd / "blobs")
        }
        return await run_cli(*args, env=env, cwd=self.cwd)

    async def scalar(self, sql: str) -> object:
        async with self.database.connect() as conn:
            return (await conn.execute(text(sql))).scalar_one()


@pytest.fixture(scope="module")
async def cli(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cli]:
    """One database with an administrator for the module (each test imports its own folder)."""
    tmp_path = tmp_path_factory.mktemp("cli-import")
    async with fresh_database(migrated=True) as database:
        cli = Cli(database, tmp_path / "data", tmp_path)
        created = await cli.run("admin", "create", "--email", "ada@example.com", "--name", "Ada")
        assert created.returncode == 0, created.stderr
        yield cli


def make_folder(root: Path) -> None:
    """102 files to import (60 TXT, 20 Markdown in a sub-folder, 10 DOCX, 8 PDF, a scanned
    page as a PDF without text, a copy of a TXT, a disallowed .exe, a corrupt PDF) and a
    hidden file that is left out."""
    (root / "notes").mkdir(parents=True)
    for n in range(60):
        (root / f"memo-{n:02}.txt").write_text(f"memo number {n}: quarterly figures {n * 7}")
    for n in range(20):
        (root / "notes" / f"note-{n:02}.md").write_text(f"# Note {n}\n\nmeeting about {n}")
    for n in range(10):
        body = document_xml(paragraph(f"<w:t>contract clause {n}</w:t>"))
        (root / f"contract-{n}.docx").write_bytes(docx(body))
    for n in range(8):
        (root / f"report-{n}.pdf").write_bytes(one_page_pdf(f"annual report {n}"))
    (root / "scan.pdf").write_bytes(scanned_pdf(" ".join(SCANNED_WORDS)))
    (root / "memo-00-copy.txt").write_bytes((root / "memo-00.txt").read_bytes())
    (root / "setup.exe").write_bytes(b"MZ\x90\x00 not a document")
    (root / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> trailing junk")
    (root / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")


async def run_jobs_until_done(cli: Cli) -> None:
    """A job worker of the application on the CLI's database and blobs, until no job waits."""
    settings = AppSettings(storage="postgres", slow_query_ms=0, blob_dir=cli.cwd / "blobs")
    container = build_container(settings, cli.database.url)
    worker = container.job_worker()
    await worker.start()
    try:
        deadline = time.monotonic() + 120
        waiting = "SELECT count(*) FROM jobs.pgqueuer WHERE status IN ('queued', 'picked')"
        while await cli.scalar(waiting):
            assert time.monotonic() < deadline, "the jobs did not finish"
            await asyncio.sleep(0.1)
    finally:
        await worker.stop()
        await shutdown_container(container)


async def found_by(cli: Cli, query: str) -> list[object]:
    """The ids of the documents the application's search finds for the administrator."""
    settings = AppSettings(storage="postgres", slow_query_ms=0, blob_dir=cli.cwd / "blobs")
    container = build_container(settings, cli.database.url)
    try:
        async with container.uow_factory()(autocommit=True) as uow:
            admin = await uow.users.get_by_email("ada@example.com")
        found = await container.search().search(RequestContext(actor=admin), query)
        return [hit.document_id for hit in found.results]
    finally:
        await shutdown_container(container)


def counts(result: CliResult) -> tuple[int, ...]:
    found = SUMMARY.search(result.stdout)
    assert found, result.stdout + result.stderr
    return tuple(int(g) for g in found.groups())


async def test_a_folder_is_imported_reported_and_a_second_run_stores_nothing(
    cli: Cli, tmp_path: Path
) -> None:
    folder = tmp_path / "inbox"
    make_folder(folder)
    report = tmp_path / "report.json"

    first = await cli.run(
        "import", str(folder), "--recursive", "--tag", "inbox", "--report", str(report)
    )

    assert first.returncode == 1, first.stderr  # two files were rejected
    assert counts(first) == (102, 99, 1, 2, 0)
    assert "Traceback" not in first.stderr
    not_imported = {r["name"]: (r["outcome"], r["code"]) for r in json.loads(report.read_text())}
    # Of the two files with the same bytes, whichever came second is the duplicate.
    [duplicate] = {"memo-00.txt", "memo-00-copy.txt"} & not_imported.keys()
    assert not_imported == {
        duplicate: ("duplicate", "duplicate"),
        "setup.exe": ("rejected", "unsupported_type"),
        "broken.pdf": ("rejected", "validation_failed"),
    }
    assert await cli.scalar("SELECT count(*) FROM documents") == 99
    assert await cli.scalar("SELECT count(DISTINCT document_id) FROM document_tags") == 99
    assert await cli.scalar("SELECT count(*) FROM documents WHERE source <> 'import'") == 0
    assert await cli.scalar(
        "SELECT content FROM documents WHERE original_filename = 'contract-3.docx'"
    ) == ("contract clause 3")

    # Every stored document queued its thumbnail, the scan its OCR; a job worker does them all.
    assert (
        await cli.scalar("SELECT count(*) FROM jobs.pgqueuer WHERE entrypoint = 'thumbnail'") == 99
    )
    assert await cli.scalar("SELECT count(*) FROM jobs.pgqueuer WHERE entrypoint = 'ocr'") == 1
    await run_jobs_until_done(cli)
    assert await cli.scalar("SELECT count(*) FROM documents WHERE thumbnail_key IS NULL") == 0
    ocr = await cli.scalar(
        "SELECT p.state || coalesce(' ' || p.reason, '') FROM document_processing p"
        " JOIN documents d ON d.id = p.document_id"
        " WHERE d.original_filename = 'scan.pdf' AND p.kind = 'ocr'"
    )
    if tesseract_problem("eng+kor") is None:  # read: found by the words on the picture
        assert ocr == "done"
        scan = await cli.scalar("SELECT id FROM documents WHERE original_filename = 'scan.pdf'")
        assert await found_by(cli, " ".join(SCANNED_WORDS)) == [scan]
    else:  # flagged: listed by needs_ocr until Tesseract is installed and the job retried
        assert str(ocr).startswith("failed OcrUnavailable"), ocr
        need_tesseract("eng+kor")  # fails here when ARCHIVIST_REQUIRE_TESSERACT=1

    again = await cli.run("import", str(folder), "--recursive")

    assert again.returncode == 1
    assert counts(again) == (102, 0, 100, 2, 0)
    assert await cli.scalar("SELECT count(*) FROM documents") == 99


async def test_a_clean_folder_exits_0_and_an_unknown_owner_is_refused(
    cli: Cli, tmp_path: Path
) -> None:
    folder = tmp_path / "clean"
    folder.mkdir()
    (folder / "only.txt").write_text("a file no other test imports")
    (folder / "nested").mkdir()
    (folder / "nested" / "b.txt").write_text("beta")  # not imported without --recursive

    unknown = await cli.run("import", str(folder), "--owner", "nobody@example.com")
    done = await cli.run("import", str(folder), "--jobs", "1", "--owner", "ADA@example.com")

    assert unknown.returncode == 1
    assert "no active user 'nobody@example.com'" in unknown.stderr
    assert done.returncode == 0, done.stderr
    assert counts(done) == (1, 1, 0, 0, 0)


def test_a_path_that_is_not_a_folder_is_refused_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(tmp_path / "no-such-folder")]) == 2
    assert "is not a folder" in capsys.readouterr().err
