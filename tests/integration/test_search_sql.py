"""Search specifics only PostgreSQL shows: the tsvector's 1 MB limit never breaks an upload."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from application.context import RequestContext
from application.documents import DocumentFields
from application.users import UserCreate
from domain.documents import DocumentType
from infrastructure.config import AppSettings
from infrastructure.container import Container, build_container
from infrastructure.sqlalchemy.database import Database
from tests.conftest import truncate_all

pytestmark = pytest.mark.postgres


@pytest.fixture
async def app(pg_database: Database, tmp_path: Path) -> Container:
    await truncate_all(pg_database.engine)
    container = build_container(
        AppSettings(storage="postgres", slow_query_ms=0, blob_dir=tmp_path), pg_database.url
    )
    container.database.override(pg_database)
    return container


def _unique_long_words(count: int) -> str:
    """Distinct ten-letter words of 4-byte UTF-8 letters (CJK Extension B): the most lexeme
    bytes a character of text can make (~3.6 per character, spaces included)."""
    letters = [chr(c) for c in range(0x20000, 0x20000 + 40)]
    words = ("".join(w) for w in itertools.product(letters, repeat=10))
    return " ".join(itertools.islice(words, count))


async def test_the_worst_text_for_a_tsvector_still_uploads_and_stays_searchable(
    app: Container,
) -> None:
    ctx = RequestContext(
        actor=await app.users().create(
            RequestContext.system(), UserCreate(email="k@example.com", name="K")
        )
    )
    text = "서문 " + _unique_long_words(40_000)  # 440k characters, ~1.6 MB of UTF-8
    doc = await app.documents().create_text(
        ctx, text, DocumentType.TXT, DocumentFields(title="huge")
    )
    found = await app.search().search(ctx, "서문")
    assert [h.document_id for h in found.results] == [doc.id]
    assert len((await app.documents().get(ctx, doc.id)).document.content or "") == len(text)
