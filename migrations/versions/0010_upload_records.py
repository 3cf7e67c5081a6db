"""upload records

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 01:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "uploads",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=True),
        sa.Column("client_ip", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.String(length=500), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error_code", sa.String(length=100), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document_id", sa.UUID(), nullable=True),
        sa.CheckConstraint(
            "source IN ('http', 'text', 'import', 'consume')",
            name=op.f("ck_uploads_source_known"),
        ),
        sa.CheckConstraint(
            "status IN ('stored', 'duplicate', 'rejected', 'failed')",
            name=op.f("ck_uploads_status_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uploads")),
    )
    op.create_index("ix_uploads_started_at_id", "uploads", ["started_at", "id"], unique=False)
    op.create_index(
        "ix_uploads_status_started_at", "uploads", ["status", "started_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_uploads_status_started_at", table_name="uploads")
    op.drop_index("ix_uploads_started_at_id", table_name="uploads")
    op.drop_table("uploads")
