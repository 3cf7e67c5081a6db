"""search vectors kept in line

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 01:10:00

A document row of ~200 words (1.3 kB of text, a 2 kB tsvector) is over PostgreSQL's 2 kB
TOAST threshold, so the tsvector went to the TOAST table and every ranked match cost a TOAST
index lookup. Rows now stay whole up to 4 kB (`toast_tuple_target`), and the tsvector is the
last column to leave the row (`STORAGE MAIN`): long texts still go out of line first. Ranking
2,000 matches took 15 ms and now takes 8 (docs/benchmarks.md, issue #5). Applies to rows
written from now on; `VACUUM FULL documents` rewrites the existing ones.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE documents SET (toast_tuple_target = 4080)")
    op.execute("ALTER TABLE documents ALTER COLUMN search_vector SET STORAGE MAIN")


def downgrade() -> None:
    op.execute("ALTER TABLE documents ALTER COLUMN search_vector SET STORAGE EXTENDED")
    op.execute("ALTER TABLE documents RESET (toast_tuple_target)")
