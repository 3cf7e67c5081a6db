"""documents listed by category newest first

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 23:31:00.351927
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index(op.f("ix_documents_category_id"), table_name="documents")
    op.create_index(
        "ix_documents_category_id_created_at",
        "documents",
        ["category_id", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_documents_category_id_created_at", table_name="documents")
    op.create_index(op.f("ix_documents_category_id"), "documents", ["category_id"], unique=False)
