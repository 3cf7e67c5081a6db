"""listing by a part of the title, and by title or size

The listing's `q` (a part of the title, any case) is served by a GIN index on the title's
trigrams: every three-character substring of the lower-cased title. PostgreSQL's own pg_trgm
extension does this, but the embedded server ships without it, so the trigrams come from a
small SQL function here (`archivist_trigrams`), on every server alike. `fastupdate = off`:
an upload writes its title's trigrams into the index at once, instead of into a pending list
that every `q` would then read through (6 ms at 100,000 freshly added titles).

The title and size sorts, either way, walk btree indexes (read backwards when descending)
that hold what the access predicate and a category filter read, as the newest-first one does
(0007): a page is then found from the index, not by sorting every readable document (20-40 ms
at 100,000 documents before).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Immutable, so an index may call it; schema-qualified, so it reads the same whatever the
# caller's search_path (a restore runs with an empty one). Not inlined (its sub-SELECT), so a
# query's `archivist_trigrams(title)` matches the index expression.
TRIGRAMS_FUNCTION = """
CREATE FUNCTION archivist_trigrams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT ARRAY(
        SELECT DISTINCT pg_catalog.substr(t.v, i, 3)
        FROM (SELECT pg_catalog.lower(value) AS v) AS t,
             pg_catalog.generate_series(1, pg_catalog.char_length(t.v) - 2) AS i
    )
$$
"""


# What `access.readable_by` and a category filter read of a row (as in 0007).
_INCLUDE = "INCLUDE (deleted_at, owner_id, access_level, department, category_id)"


def upgrade() -> None:
    op.execute(TRIGRAMS_FUNCTION)
    op.execute(
        "CREATE INDEX ix_documents_title_trigrams ON documents "
        "USING gin (archivist_trigrams(title)) WITH (fastupdate = off)"
    )
    op.execute(
        f'CREATE INDEX ix_documents_title_id ON documents (title COLLATE "C", id) {_INCLUDE}'
    )
    op.execute(f"CREATE INDEX ix_documents_size_bytes_id ON documents (size_bytes, id) {_INCLUDE}")


def downgrade() -> None:
    op.execute("DROP INDEX ix_documents_size_bytes_id")
    op.execute("DROP INDEX ix_documents_title_id")
    op.execute("DROP INDEX ix_documents_title_trigrams")
    op.execute("DROP FUNCTION archivist_trigrams(text)")
