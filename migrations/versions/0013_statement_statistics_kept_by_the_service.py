"""statement statistics kept by the service

Each server process (`serve`, `worker`) adds what it measured since its last flush to one
row per statement name (`statement_stats_flush`): calls, total and longest time. Read by
`archivist db-report`. No index but the primary key: a few hundred rows at most (names are
bounded by the schema and by each process's registry). `FLOAT` is double precision.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 05:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "statement_stats",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("calls", sa.BigInteger(), nullable=False),
        sa.Column("total_ms", sa.Float(), nullable=False),
        sa.Column("max_ms", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_statement_stats")),
    )


def downgrade() -> None:
    op.drop_table("statement_stats")
