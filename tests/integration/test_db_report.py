"""`archivist db-report` (issue #13 item 1) on PostgreSQL: its JSON on a fresh database (the
one CLI run) and on a seeded one, and the plans it reports held to the seed plans' checks —
the token and e-mail lookups use their indexes, and a metadata containment filter at 1,000
documents uses the GIN index in well under 100 ms."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.document_ports import DocumentFilter, DocumentSort
from domain.pagination import PageRequest
from domain.values import Role
from infrastructure.sqlalchemy.db_plans import explain_statements
from infrastructure.sqlalchemy.db_report import collect
from infrastructure.sqlalchemy.documents import SqlAlchemyDocumentRepository
from infrastructure.sqlalchemy.uow import SqlAlchemyUnitOfWorkFactory
from infrastructure.tuning import Tuning
from interfaces.cli.db_report import render, to_json
from tests.support import factories
from tests.support.integration_cli import cli_env, run_cli
from tests.support.integration_databases import fresh_database

pytestmark = pytest.mark.postgres

# Documents of one owner, fast: one INSERT ... SELECT generate_series. `metadata.case` takes
# 100 values (10 documents each); the search vector holds the title's words.
_SEED = text(
    """
    INSERT INTO documents (id, title, document_type, owner_id, original_filename, extension,
                           mime_type, size_bytes, sha256, storage_key, metadata,
                           search_vector, created_at)
    SELECT gen_random_uuid(), 'Quarterly report ' || i, 'TXT', :owner, 'r' || i || '.txt',
           'txt', 'text/plain', 10, lpad(to_hex(i), 64, '0'), 'seed/' || i,
           jsonb_build_object('case', 'c' || (i % 100), 'n', i),
           to_tsvector('simple', 'quarterly report ' || i),
           now() - i * interval '1 minute'
    FROM generate_series(1, :count) AS i
    """
)
# Other users, each with a token: on tables of a few rows the planner rightly scans the heap,
# so the lookups are checked where an index pays.
_SEED_USERS = text(
    """
    WITH made AS (
        INSERT INTO users (id, email, name)
        SELECT gen_random_uuid(), 'bulk' || i || '@example.com', 'Bulk ' || i
        FROM generate_series(1, :count) AS i
        RETURNING id
    )
    INSERT INTO api_tokens (id, user_id, name, prefix, token_hash, expires_at)
    SELECT gen_random_uuid(), id, 'bulk', 'bulk', md5(id::text) || md5(id::text || '.'),
           now() + interval '30 days'
    FROM made
    """
)


async def _seed(engine: AsyncEngine, count: int) -> tuple[Any, str]:
    """A member with a token owning `count` documents, among 2,000 other users with a token
    each, analyzed; the member and the secret."""
    owner = factories.user(role=Role.MEMBER, access_level=1, department="Eng")
    token, secret = factories.token(owner)
    async with SqlAlchemyUnitOfWorkFactory(engine)() as uow:
        await uow.users.add(owner)
        await uow.tokens.add(token)
        await uow.commit()
    async with engine.begin() as conn:
        await conn.execute(_SEED, {"owner": owner.id, "count": count})
        await conn.execute(_SEED_USERS, {"count": 2000})
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("ANALYZE documents, users, api_tokens"))
    return owner, secret


def _scans(report: dict[str, Any], operation: str) -> list[tuple[str, str | None]]:
    (op,) = [o for o in report["plans"]["operations"] if o["operation"] == operation]
    return [(s["node_type"], s["index"]) for p in op["statements"] for s in p["scans"]]


async def test_the_json_report_of_a_fresh_database(tmp_path: Path) -> None:
    async with fresh_database(migrated=True) as database:
        result = await run_cli(
            "db-report",
            "--json",
            env=cli_env(database.libpq_url, tmp_path / "data"),
            cwd=tmp_path,
        )

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)  # one JSON object, nothing else on stdout
    tables = {t["qualified_name"]: t for t in report["tables"]}
    assert tables["documents"]["rows_estimate"] == 0
    assert tables["documents"]["total_bytes"] > 0
    assert "jobs.pgqueuer" in tables
    indexes = {i["name"]: i for i in report["indexes"]}
    assert indexes["idx_documents_metadata"]["never_used"] is True
    assert report["plans"]["sample"] is None
    assert report["plans"]["note"] == "skipped: no document in the database to read"
    assert report["slowest"]["source"] == "the service"
    assert report["slowest"]["statements"] == []  # no server process has flushed
    assert report["size_bytes"] > 0


async def test_the_report_of_a_seeded_database_shows_the_hot_statements_on_their_indexes(
    pg_engine: AsyncEngine,
) -> None:
    owner, _ = await _seed(pg_engine, 300)

    built = await collect(pg_engine)
    report = json.loads(json.dumps(to_json(built)))

    documents = next(t for t in report["tables"] if t["qualified_name"] == "documents")
    assert documents["rows_estimate"] == 300
    assert documents["heap_bytes"] > 0 and documents["index_bytes"] > 0
    sample = report["plans"]["sample"]
    assert sample["user_id"] == str(owner.id) and sample["token"] == "the reader's"
    assert sample["search_query"] == "quarterly"
    operations = [o["operation"] for o in report["plans"]["operations"]]
    assert operations == ["token lookup", "email lookup", "document view", "listing", "search"]
    # The seed plans' checks: each lookup is an index scan on its unique index.
    assert ("Index Scan", "uq_api_tokens_token_hash") in _scans(report, "token lookup")
    assert _scans(report, "email lookup") in (
        [("Index Scan", "ix_users_email")],
        [("Index Only Scan", "ix_users_email")],
    )
    assert all(
        not p["large_seq_scans"] for o in report["plans"]["operations"] for p in o["statements"]
    )
    # The view's event was rolled back: the report wrote nothing.
    async with pg_engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM events"))).scalar_one() == 0

    out = io.StringIO()
    render(built, Console(file=out, width=100, color_system=None))
    shown = out.getvalue()
    assert "token lookup (SELECT api_tokens)" in shown
    assert "Index Scan api_tokens (uq_api_tokens_token_hash)" in shown
    assert "No sequential scan of a table of over 10,000 rows." in shown


async def test_a_metadata_filter_at_1000_documents_uses_the_gin_index_in_under_100_ms(
    pg_engine: AsyncEngine,
) -> None:
    owner, _ = await _seed(pg_engine, 1000)
    async with pg_engine.connect() as conn, conn.begin():
        repository = SqlAlchemyDocumentRepository(conn, Tuning())

        async def listing() -> object:
            started = time.perf_counter()
            page = await repository.list_readable(
                owner,
                DocumentFilter(metadata={"case": "c7"}),
                DocumentSort.CREATED_DESC,
                PageRequest(),
            )
            timings.append(time.perf_counter() - started)
            assert len(page.items) == 10
            return page

        timings: list[float] = []
        plans = await explain_statements(conn, listing, {"documents": 1000})

    scans = [(s.node_type, s.relation, s.index) for p in plans for s in p.scans]
    assert ("Bitmap Index Scan", None, "idx_documents_metadata") in scans, scans
    assert ("Seq Scan", "documents", None) not in scans
    assert all(p.execution_ms < 100 for p in plans)
    assert timings[0] < 0.1
