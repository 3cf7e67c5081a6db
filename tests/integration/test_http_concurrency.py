"""Concurrency through HTTP on a real PostgreSQL (acceptance item 4 of issue #3). The app is
driven by httpx's ASGI transport in the test's own event loop, so requests really overlap."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from application.context import RequestContext
from application.tokens import TokenIssue
from application.users import CreateUser
from infrastructure.config import AppSettings
from infrastructure.container import build_container
from infrastructure.sqlalchemy.database import Database
from interfaces.http.app import create_app
from tests.conftest import truncate_all

pytestmark = pytest.mark.postgres
API = "/api/v1"


@pytest.fixture
async def client(pg_database: Database, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    await truncate_all(pg_database.engine)
    container = build_container(
        AppSettings(storage="postgres", slow_query_ms=0, blob_dir=tmp_path / "blobs"),
        pg_database.url,
    )
    container.database.override(pg_database)
    system = RequestContext.system()
    user = await container.users().create(
        system, CreateUser(email="m@example.com", name="M", access_level=2)
    )
    issued = await container.tokens().issue(system, TokenIssue("t", user_id=user.id))
    transport = httpx.ASGITransport(app=create_app(container))
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://archivist.test",
        headers={"Authorization": f"Bearer {issued.secret}"},
    ) as http:
        yield http


async def test_twenty_patches_with_one_if_match_give_one_200_and_nineteen_412(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    created = await client.post(
        f"{API}/documents/text", json={"title": "Original", "content": "hello"}
    )
    doc_id = created.json()["id"]
    etag = created.headers["etag"]

    responses = await asyncio.gather(
        *(
            client.patch(
                f"{API}/documents/{doc_id}",
                json={"title": f"Title {n}"},
                headers={"If-Match": etag},
            )
            for n in range(20)
        )
    )
    after = await client.get(f"{API}/documents/{doc_id}")

    assert Counter(r.status_code for r in responses) == {200: 1, 412: 19}
    assert after.json()["version"] == 2
    assert after.headers["etag"] == 'W/"2"'


async def test_thirty_patches_without_if_match_all_succeed(client: httpx.AsyncClient) -> None:
    # Issue #9, item 6: without a precondition there is nothing to fail (RFC 9110 §13.1.1).
    created = await client.post(
        f"{API}/documents/text", json={"title": "Original", "content": "hello"}
    )
    doc_id = created.json()["id"]

    responses = await asyncio.gather(
        *(client.patch(f"{API}/documents/{doc_id}", json={"metadata": {"n": n}}) for n in range(30))
    )
    after = await client.get(f"{API}/documents/{doc_id}")

    assert Counter(r.status_code for r in responses) == {200: 30}
    assert sorted(r.json()["version"] for r in responses) == list(range(2, 32))
    assert after.json()["version"] == 31


async def test_ten_uploads_of_the_same_bytes_give_ten_documents_and_one_blob(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    data = b"the same bytes, ten times over\n"

    responses = await asyncio.gather(
        *(
            client.post(
                f"{API}/documents",
                files={"file": (f"copy{n}.txt", data, "text/plain")},
                data={"on_duplicate": "allow"},
            )
            for n in range(10)
        )
    )
    listing = await client.get(f"{API}/documents", params={"limit": 50})
    blob_files = [
        p for p in (tmp_path / "blobs").rglob("*") if p.is_file() and ".tmp" not in p.parts
    ]

    assert [r.status_code for r in responses] == [201] * 10
    assert len(listing.json()["items"]) == 10
    assert len({d["sha256"] for d in listing.json()["items"]}) == 1
    assert len(blob_files) == 1
