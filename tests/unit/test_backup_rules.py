"""The rules of `infrastructure.backup` that need no database: which pg_dump is refused, what a
manifest must hold, how a database URL reaches libpq."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from infrastructure.backup import (
    BackupError,
    BlobEntry,
    Manifest,
    PgTool,
    check_tool,
    libpq_environment,
    verify_files,
)

DIGEST = hashlib.sha256(b"x").hexdigest()
KEY = f"{DIGEST[:2]}/{DIGEST[2:4]}/{DIGEST}"


def _manifest(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = Manifest(
        app_version="0.1.0",
        alembic_revision="0011",
        created_at="2026-01-01T00:00:00+00:00",
        server_version="16.2",
        pg_dump_version="16.2",
        dump_size_bytes=3,
        dump_sha256=DIGEST,
        blobs=(BlobEntry(KEY, 1, DIGEST),),
    ).to_json()
    data.update(changes)
    return data


def test_a_pg_dump_older_than_the_server_is_refused_with_what_to_do() -> None:
    old = PgTool(Path("/usr/lib/postgresql/15/bin/pg_dump"), "15.20")

    with pytest.raises(BackupError) as refused:
        check_tool(old, 16, "the database server (PostgreSQL 16.2)")

    assert str(refused.value) == (
        "pg_dump 15.20 (/usr/lib/postgresql/15/bin/pg_dump) is older than the database server "
        "(PostgreSQL 16.2): set ARCHIVIST_PG_BIN_DIR to the bin directory of PostgreSQL 16 or "
        "newer"
    )
    assert check_tool(PgTool(Path("pg_dump"), "16.2"), 15, "the server") == PgTool(
        Path("pg_dump"), "16.2"
    )


def test_a_manifest_round_trips_through_its_json() -> None:
    parsed = Manifest.from_json(_manifest())

    assert parsed.to_json() == _manifest()


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"format": "tarball"}, "not an Archivist backup manifest"),
        ({"format_version": 2}, "format version 2"),
        ({"blobs": [{"key": "../../etc/passwd", "size_bytes": 1, "sha256": DIGEST}]}, "malformed"),
        ({"database": {"file": "../x.dump", "size_bytes": 1, "sha256": DIGEST}}, "other than"),
        ({"alembic_revision": ""}, "malformed"),
    ],
)
def test_a_manifest_that_is_not_one_is_refused(changes: dict[str, Any], says: str) -> None:
    with pytest.raises(BackupError, match=says):
        Manifest.from_json(_manifest(**changes))


def test_verification_names_the_file_whose_checksum_differs(tmp_path: Path) -> None:
    manifest = Manifest.from_json(_manifest())
    (tmp_path / "database.dump").write_bytes(b"abc")  # 3 bytes, not the SHA-256 of "x"

    with pytest.raises(BackupError, match=r"database\.dump does not match its SHA-256"):
        verify_files(tmp_path, manifest)


def test_the_password_travels_in_the_environment_not_the_command_line() -> None:
    env = libpq_environment("postgresql://app:s3cret@db.internal:6432/archive?ssl=true")

    assert {k: env[k] for k in ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE")} == {
        "PGHOST": "db.internal",
        "PGPORT": "6432",
        "PGUSER": "app",
        "PGPASSWORD": "s3cret",
        "PGDATABASE": "archive",
    }
    assert env["PGSSLMODE"] == "require"
    socket = libpq_environment("postgresql+asyncpg://postgres@/archivist?host=/run/pg")
    assert (socket["PGHOST"], "PGPASSWORD" in socket) == ("/run/pg", False)
