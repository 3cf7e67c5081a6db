"""document processing state

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_processing",
        sa.Column("document_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'done', 'failed', 'not_applicable')",
            name=op.f("ck_document_processing_state_known"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_processing_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("document_id", "kind", name=op.f("pk_document_processing")),
    )
    op.create_index(
        "ix_document_processing_state_kind_document_id",
        "document_processing",
        ["state", "kind", "document_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_document_processing_state_kind_document_id", table_name="document_processing")
    op.drop_table("document_processing")
