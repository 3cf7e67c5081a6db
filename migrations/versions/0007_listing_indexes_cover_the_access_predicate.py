"""listing indexes cover the access predicate

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 01:20:00

Listing newest first walks `(created_at, id)` or `(category_id, created_at)`; each entry cost a
heap fetch to test the access predicate, the category and the tag filter, ~2,000 random page
reads for a page of a tag in a category. The indexes now include what the predicate reads
(deleted_at, owner_id, access_level, department; and category_id), a third index holds the
same by id for a tag's documents, and the listing selects the page's ids first (a deferred
join), so the walk is index-only and the heap is read for the page's rows alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACCESS = ["deleted_at", "owner_id", "access_level", "department"]


def upgrade() -> None:
    op.drop_index("ix_documents_created_at_id", table_name="documents")
    op.create_index(
        "ix_documents_created_at_id",
        "documents",
        ["created_at", "id"],
        postgresql_include=[*ACCESS, "category_id"],
    )
    op.drop_index("ix_documents_category_id_created_at", table_name="documents")
    op.create_index(
        "ix_documents_category_id_created_at",
        "documents",
        ["category_id", "created_at", "id"],
        postgresql_include=ACCESS,
    )
    op.create_index(
        "ix_documents_id_listing",
        "documents",
        ["id"],
        postgresql_include=[*ACCESS, "category_id", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_documents_id_listing", table_name="documents")
    op.drop_index("ix_documents_category_id_created_at", table_name="documents")
    op.create_index(
        "ix_documents_category_id_created_at", "documents", ["category_id", "created_at"]
    )
    op.drop_index("ix_documents_created_at_id", table_name="documents")
    op.create_index("ix_documents_created_at_id", "documents", ["created_at", "id"])
