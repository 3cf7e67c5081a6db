"""search vectors written by the analyzer

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 15:30:00

Until now `search_vector` was a generated column: `to_tsvector('simple', …)` of the title and
content, whole words only. Questions need more than PostgreSQL's core configurations give:
English stems kept apart from exact words, and Korean split into character bigrams so that
particles and endings do not hide a word (issue #10). The vector is now written by the
application with the document (`infrastructure.search_index.analysis`, the same code the
in-memory storage indexes with): the column's expression is dropped and every existing row is
re-indexed here, in batches. Title words now stand before content words by position rather
than by weight (the scorer tells them apart by position; no positions carry weight A).

The downgrade restores the generated column (PostgreSQL recomputes it for every row).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500
OLD_EXPRESSION = (
    "setweight(to_tsvector('simple'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, left(coalesce(content, ''), 200000)), 'B')"
)


def upgrade() -> None:
    # The analyzer as of this revision; a later change to it re-indexes in its own migration.
    from infrastructure.search_index.analysis import document_vector

    op.execute("ALTER TABLE documents ALTER COLUMN search_vector DROP EXPRESSION")
    conn = op.get_bind()
    documents = sa.table(
        "documents",
        sa.column("id", sa.UUID()),
        sa.column("title", sa.String()),
        sa.column("content", sa.Text()),
        sa.column("search_vector", postgresql.TSVECTOR()),
    )
    last = None
    while True:
        query = sa.select(documents.c.id, documents.c.title, documents.c.content)
        if last is not None:
            query = query.where(documents.c.id > last)
        rows = conn.execute(query.order_by(documents.c.id).limit(BATCH)).all()
        if not rows:
            break
        conn.execute(
            sa.update(documents)
            .where(documents.c.id == sa.bindparam("row_id"))
            .values(search_vector=sa.cast(sa.bindparam("vector"), postgresql.TSVECTOR)),
            [{"row_id": r.id, "vector": document_vector(r.title, r.content)} for r in rows],
        )
        last = rows[-1].id


def downgrade() -> None:
    op.drop_index("ix_documents_search_vector", table_name="documents", postgresql_using="gin")
    op.drop_column("documents", "search_vector")
    op.add_column(
        "documents",
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(OLD_EXPRESSION, persisted=True),
            nullable=True,
        ),
    )
    op.execute("ALTER TABLE documents ALTER COLUMN search_vector SET STORAGE MAIN")
    op.create_index(
        "ix_documents_search_vector",
        "documents",
        ["search_vector"],
        unique=False,
        postgresql_using="gin",
    )
