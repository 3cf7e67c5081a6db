"""taxonomy versions, nodes, classifications

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 22:56:28.788915
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "taxonomy_versions",
        sa.Column("version", sa.String(length=20), nullable=False),
        sa.Column(
            "status", sa.String(length=10), server_default=sa.text("'draft'"), nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(status = 'published') = (published_at IS NOT NULL)",
            name=op.f("ck_taxonomy_versions_published_has_time"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'published')", name=op.f("ck_taxonomy_versions_status_known")
        ),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_taxonomy_versions")),
    )
    op.create_table(
        "taxonomy_nodes",
        sa.Column("node_id", sa.UUID(), nullable=False),
        sa.Column("version", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("canonical_path", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("parent_id", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "cardinality(canonical_path) BETWEEN 1 AND 20",
            name=op.f("ck_taxonomy_nodes_path_depth"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["taxonomy_nodes.node_id"],
            name=op.f("fk_taxonomy_nodes_parent_id_taxonomy_nodes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version"],
            ["taxonomy_versions.version"],
            name=op.f("fk_taxonomy_nodes_version_taxonomy_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("node_id", name=op.f("pk_taxonomy_nodes")),
        sa.UniqueConstraint("version", "canonical_path", name=op.f("uq_taxonomy_nodes_version")),
    )
    op.create_index(
        "ix_taxonomy_nodes_canonical_path",
        "taxonomy_nodes",
        ["canonical_path"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index("ix_taxonomy_nodes_parent_id", "taxonomy_nodes", ["parent_id"], unique=False)
    op.create_table(
        "doc_taxonomy",
        sa.Column("doc_id", sa.UUID(), nullable=False),
        sa.Column("node_id", sa.UUID(), nullable=False),
        sa.Column("version", sa.String(length=20), nullable=False),
        sa.Column("path", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("hitl_required", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("reviewed_by", sa.UUID(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "confidence >= 0 AND confidence <= 1", name=op.f("ck_doc_taxonomy_confidence_range")
        ),
        sa.ForeignKeyConstraint(
            ["doc_id"],
            ["documents.id"],
            name=op.f("fk_doc_taxonomy_doc_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["node_id"],
            ["taxonomy_nodes.node_id"],
            name=op.f("fk_doc_taxonomy_node_id_taxonomy_nodes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by"],
            ["users.id"],
            name=op.f("fk_doc_taxonomy_reviewed_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["version"],
            ["taxonomy_versions.version"],
            name=op.f("fk_doc_taxonomy_version_taxonomy_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("doc_id", "node_id", "version", name=op.f("pk_doc_taxonomy")),
    )
    op.create_index(
        "ix_doc_taxonomy_created_at_review",
        "doc_taxonomy",
        ["created_at"],
        unique=False,
        postgresql_where=sa.text("hitl_required"),
    )
    op.create_index(
        "ix_doc_taxonomy_node_id_doc_id", "doc_taxonomy", ["node_id", "doc_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_doc_taxonomy_node_id_doc_id", table_name="doc_taxonomy")
    op.drop_index(
        "ix_doc_taxonomy_created_at_review",
        table_name="doc_taxonomy",
        postgresql_where=sa.text("hitl_required"),
    )
    op.drop_table("doc_taxonomy")
    op.drop_index("ix_taxonomy_nodes_parent_id", table_name="taxonomy_nodes")
    op.drop_index(
        "ix_taxonomy_nodes_canonical_path", table_name="taxonomy_nodes", postgresql_using="gin"
    )
    op.drop_table("taxonomy_nodes")
    op.drop_table("taxonomy_versions")
