"""documents, categories, tags, file types, grants

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 22:43:01.140076
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The upload policy a fresh installation starts with (SPEC.md §2.5).
DEFAULT_FILE_TYPES = [
    ("pdf", "application/pdf", "PDF document"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "Word document",
    ),
    ("txt", "text/plain", "Plain text"),
    ("md", "text/markdown", "Markdown"),
]

CATEGORY_STATISTICS = """
CREATE VIEW category_statistics AS
SELECT c.id AS category_id,
       c.name AS category,
       count(d.id) AS document_count,
       coalesce(sum(d.size_bytes), 0)::bigint AS total_size_bytes,
       coalesce(round(avg(d.size_bytes)), 0)::bigint AS average_size_bytes,
       max(d.created_at) AS last_upload_at
FROM categories c
LEFT JOIN documents d ON d.category_id = c.id AND d.deleted_at IS NULL
GROUP BY c.id, c.name
"""


def upgrade() -> None:
    op.create_table(
        "categories",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("name", name=op.f("uq_categories_name")),
    )
    op.create_table(
        "file_types",
        sa.Column("extension", sa.String(length=10), nullable=False),
        sa.Column("mime_type", sa.String(length=100), nullable=False),
        sa.Column("is_allowed", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "max_size_bytes", sa.BigInteger(), server_default=sa.text("10485760"), nullable=False
        ),
        sa.Column("description", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.CheckConstraint(
            "extension ~ '^[a-z0-9]{1,10}$'", name=op.f("ck_file_types_extension_plain")
        ),
        sa.CheckConstraint("max_size_bytes > 0", name=op.f("ck_file_types_max_size_positive")),
        sa.PrimaryKeyConstraint("extension", name=op.f("pk_file_types")),
    )
    op.create_table(
        "tags",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column(
            "color", sa.String(length=7), server_default=sa.text("'#007bff'"), nullable=False
        ),
        sa.Column("description", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("color ~ '^#[0-9a-f]{6}$'", name=op.f("ck_tags_color_hex")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
    )
    op.create_index("uq_tags_name_lower", "tags", [sa.literal_column("lower(name)")], unique=True)
    op.create_table(
        "documents",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("content", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("document_type", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=500), server_default=sa.text("''"), nullable=False),
        sa.Column("access_level", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("department", sa.String(length=50), nullable=True),
        sa.Column("metadata", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("owner_id", sa.UUID(), nullable=False),
        sa.Column("category_id", sa.UUID(), nullable=True),
        sa.Column("original_filename", sa.String(length=255), nullable=False),
        sa.Column("extension", sa.String(length=10), nullable=False),
        sa.Column("mime_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.CHAR(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=500), nullable=False),
        sa.Column("thumbnail_key", sa.String(length=500), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "document_type IN ('PDF', 'DOCX', 'TXT', 'MARKDOWN')",
            name=op.f("ck_documents_document_type_known"),
        ),
        sa.CheckConstraint(
            "access_level BETWEEN 1 AND 3", name=op.f("ck_documents_access_level_range")
        ),
        sa.CheckConstraint("size_bytes >= 0", name=op.f("ck_documents_size_non_negative")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_documents_version_positive")),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["categories.id"],
            name=op.f("fk_documents_category_id_categories"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_documents_owner_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    op.create_index(
        "idx_documents_metadata",
        "documents",
        ["metadata"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"metadata": "jsonb_path_ops"},
    )
    op.create_index(op.f("ix_documents_access_level"), "documents", ["access_level"], unique=False)
    op.create_index(op.f("ix_documents_category_id"), "documents", ["category_id"], unique=False)
    op.create_index("ix_documents_created_at_id", "documents", ["created_at", "id"], unique=False)
    op.create_index(
        "ix_documents_deleted_at_created_at",
        "documents",
        ["deleted_at", "created_at"],
        unique=False,
    )
    op.create_index(op.f("ix_documents_department"), "documents", ["department"], unique=False)
    op.create_index(
        "ix_documents_extension_deleted_at_created_at",
        "documents",
        ["extension", "deleted_at", "created_at"],
        unique=False,
    )
    op.create_index(op.f("ix_documents_owner_id"), "documents", ["owner_id"], unique=False)
    op.create_index(op.f("ix_documents_sha256"), "documents", ["sha256"], unique=False)
    op.create_index("ix_documents_storage_key", "documents", ["storage_key"], unique=False)
    op.create_table(
        "document_tags",
        sa.Column("document_id", sa.UUID(), nullable=False),
        sa.Column("tag_id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_tags_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], name=op.f("fk_document_tags_tag_id_tags"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("document_id", "tag_id", name=op.f("pk_document_tags")),
    )
    op.create_index(
        "ix_document_tags_tag_id_document_id",
        "document_tags",
        ["tag_id", "document_id"],
        unique=False,
    )
    op.create_table(
        "permissions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("document_id", sa.UUID(), nullable=False),
        sa.Column("access", sa.String(length=10), nullable=False),
        sa.Column("granted_by", sa.UUID(), nullable=True),
        sa.Column(
            "granted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "access IN ('read', 'write', 'delete')", name=op.f("ck_permissions_access_known")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_permissions_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["granted_by"],
            ["users.id"],
            name=op.f("fk_permissions_granted_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_permissions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permissions")),
        sa.UniqueConstraint("user_id", "document_id", name=op.f("uq_permissions_user_id")),
    )
    op.create_index(
        op.f("ix_permissions_document_id"), "permissions", ["document_id"], unique=False
    )

    file_types = sa.table(
        "file_types",
        sa.column("extension", sa.String),
        sa.column("mime_type", sa.String),
        sa.column("description", sa.Text),
    )
    op.bulk_insert(
        file_types,
        [{"extension": e, "mime_type": m, "description": d} for e, m, d in DEFAULT_FILE_TYPES],
    )
    op.execute(CATEGORY_STATISTICS)


def downgrade() -> None:
    op.execute("DROP VIEW category_statistics")
    op.drop_index(op.f("ix_permissions_document_id"), table_name="permissions")
    op.drop_table("permissions")
    op.drop_index("ix_document_tags_tag_id_document_id", table_name="document_tags")
    op.drop_table("document_tags")
    op.drop_index("ix_documents_storage_key", table_name="documents")
    op.drop_index(op.f("ix_documents_sha256"), table_name="documents")
    op.drop_index(op.f("ix_documents_owner_id"), table_name="documents")
    op.drop_index("ix_documents_extension_deleted_at_created_at", table_name="documents")
    op.drop_index(op.f("ix_documents_department"), table_name="documents")
    op.drop_index("ix_documents_deleted_at_created_at", table_name="documents")
    op.drop_index("ix_documents_created_at_id", table_name="documents")
    op.drop_index(op.f("ix_documents_category_id"), table_name="documents")
    op.drop_index(op.f("ix_documents_access_level"), table_name="documents")
    op.drop_index(
        "idx_documents_metadata",
        table_name="documents",
        postgresql_using="gin",
        postgresql_ops={"metadata": "jsonb_path_ops"},
    )
    op.drop_table("documents")
    op.drop_index("uq_tags_name_lower", table_name="tags")
    op.drop_table("tags")
    op.drop_table("file_types")
    op.drop_table("categories")
